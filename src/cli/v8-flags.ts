import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags for every `attune` process, set before any command runs.
 *
 * V8 "pretenures" an allocation site (allocates its objects straight into the old generation) once most
 * of the objects it sampled there outlived a scavenge. In a server, the sites of the request path (a
 * top-k's scored pairs, a list's candidates, a reply's objects) can be judged so while the process loads
 * and warms up, and once pretenured they stay so: every request's garbage then fills the old generation
 * and brings a full collection every few seconds, each stalling the one serving thread for 5–25 ms. With
 * every list computed at 1,000 requests/s the serve process promoted ~1.7 MB per scavenge with it and
 * ~0.1 MB without, and p99 fell from 13.7–16 ms to 6.1–6.2 (docs/SCALING.md). Objects that do live long
 * (models, caches) are copied once more on their way to the old generation instead: a cost paid at load.
 *
 * `ATTUNE_V8_PRETENURING=on` keeps V8's default (to measure it, or should a workload ever need it).
 */
export function applyV8Flags(env: NodeJS.ProcessEnv = process.env): void {
  const pretenuring = env['ATTUNE_V8_PRETENURING'];
  if (pretenuring === 'on') return;
  if (pretenuring !== undefined && pretenuring !== 'off')
    throw new Error(`ATTUNE_V8_PRETENURING must be on or off, got "${pretenuring}"`);
  setFlagsFromString('--no-allocation-site-pretenuring');
}
