import { setFlagsFromString } from 'node:v8';
import { envFlag } from './env-flag.js';

/**
 * V8 flags for every `attune` process, set before any command runs.
 *
 * V8 "pretenures" an allocation site (allocates its objects straight into the old generation) once most
 * of the objects it sampled there outlived a scavenge. In the serve process it did so for sites of the
 * request path while the process loaded and warmed up (top-k's scored pairs among them), and they kept
 * allocating there: each request's garbage filled the old generation, bringing a full collection every
 * ~5 s at 1,000 computed lists a second (pauses of 5–11 ms, marking steps of up to 12 ms on the serving
 * thread). Without it the old generation grew ~0.05 MB per scavenge instead of 0.25–1.7 MB, and p99 was
 * 6.1–6.9 ms against 14.5 and 13.7 for V8's default in the same probe (docs/SCALING.md). Objects that live
 * long (models, caches) are copied once more on their way to the old generation instead: a cost paid at
 * load. A process embedding the engine as a library gets the same from
 * `node --no-allocation-site-pretenuring`.
 *
 * `ATTUNE_V8_PRETENURING=on` keeps V8's default (to measure it, or should a workload ever need it).
 */
export function applyV8Flags(env: NodeJS.ProcessEnv = process.env): void {
  if (envFlag(env, 'ATTUNE_V8_PRETENURING') === true) return;
  setFlagsFromString('--no-allocation-site-pretenuring');
}
