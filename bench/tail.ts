/**
 * One instance's tail, measured from outside (issue 14): `GET /v1/recommendations` from an open-loop
 * generator in this process (the server is another), latency counted from each request's scheduled time,
 * the MovieLens 100K model trained with the default selection. Five set-ups, measured run by run in turn
 * so that they meet the same weather: the embedded store (default configuration, result cache on), the
 * embedded store with the result cache off (`ATTUNE_RESULT_CACHE_MS=off`: every list computed), the
 * embedded store again with 32 MB semi-spaces (`--max-semi-space-size=32`, which an operator gives through
 * `NODE_OPTIONS`; measured, not the default), the embedded store with V8's allocation-site pretenuring
 * left on (`ATTUNE_V8_PRETENURING=on`: V8's default, which `attune` turns off; `src/cli/v8-flags.ts`), and
 * PostgreSQL + Redis (a schema of this run's own); and beside them the floor (`floor-server.ts`): a bare
 * `node:http` server answering every request with a list recorded from the embedded server, the part of
 * each number that is the machine, the loopback and the generator rather than Attune.
 *
 * - at 1,000 and 2,000 requests/s: p50 / p99 / p99.9, 3 runs of 15 s each, the medians reported;
 * - a sweep upwards from 3,000 requests/s (10 s each): the highest rate sustained, meaning every request
 *   answered, the rate achieved within 1% of the rate asked, and p99 under 50 ms (a queue that does not
 *   grow); the sweep stops at the first rate that is not;
 * - while one set-up is measured, the others are stopped (SIGSTOP; `measuredAlone` in `server.ts`);
 * - before the runs, with every server stopped: the machine's own stalls (`stalls.ts`), a spinning thread
 *   on each core and then on one, 10 s each;
 * - during the 2,000/s runs: the server's CPU by thread (main, the SQLite writer, others), the
 *   generator's own CPU, the share of lists served from the result cache.
 *
 * Requests cycle through the 943 users. Needs a build, `../shared`, PostgreSQL and Redis. Prints one JSON
 * object.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import { cpuTicks, openLoopLoad, stealPercent, threadTicks, type LoadResult } from './load.js';
import {
  AUTH_HEADERS,
  benchFetch,
  measuredAlone,
  median,
  runCli,
  SHARED,
  startServer,
  tempDataDir,
  type RunningServer,
} from './server.js';
import { benchServiceEnv, dropBenchSchema } from './services.js';
import { startFloorServer } from './floor-server.js';
import { machineStalls } from './stalls.js';
import { cacheCounts, cacheHitShare } from './prometheus.js';

const RUNS = 3;
const SECONDS = 15;
const SWEEP_SECONDS = 10;
const SWEEP_FROM = 3_000;
const SWEEP_STEP = 1_000;
const SWEEP_TO = 10_000;
const SUSTAINED_P99_MS = 50;
const STALL_SECONDS = 10;
const USERS = 943;
const path = (index: number): string => `/v1/recommendations?user_id=${(index % USERS) + 1}&n=20`;

interface Setup {
  readonly name: string;
  readonly server: RunningServer;
  /** The floor: a peer measured for reference, not Attune (the targets are not its). */
  readonly peer?: boolean;
}

type Run = LoadResult & { readonly stealPct: number };

async function timed(server: RunningServer, rate: number, seconds: number): Promise<Run> {
  const before = cpuTicks();
  const result = await openLoopLoad({ url: server.url, rate, seconds, path, headers: AUTH_HEADERS });
  return { ...result, stealPct: stealPercent(before, cpuTicks()) };
}

/** One 2,000/s run with the CPU each thread used and the result cache's share of hits. */
async function profiled(server: RunningServer): Promise<Run & Record<string, unknown>> {
  const pid = server.process.pid!;
  const threadsBefore = threadTicks(pid);
  const cacheBefore = await cacheCounts(server.url);
  const self = process.cpuUsage();
  const started = performance.now();
  const run = await timed(server, 2_000, SECONDS);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(self);
  const cacheAfter = await cacheCounts(server.url);
  const threadsAfter = threadTicks(pid);
  const serverCpuPct: Record<string, number> = {};
  for (const [name, ticks] of threadsAfter) {
    const pct = Math.round((ticks - (threadsBefore.get(name) ?? 0)) / seconds);
    if (pct > 0) serverCpuPct[name] = pct;
  }
  const hitShare = cacheHitShare(cacheBefore, cacheAfter);
  return {
    ...run,
    serverCpuPct,
    generatorCpuPct: Math.round((used.user + used.system) / 1e4 / seconds),
    cacheHitShare: hitShare === null ? null : +hitShare.toFixed(4),
  };
}

function summary(runs: readonly Run[]) {
  return {
    median_p50_ms: +median(runs.map((r) => r.p50Ms)).toFixed(3),
    median_p99_ms: +median(runs.map((r) => r.p99Ms)).toFixed(3),
    median_p999_ms: +median(runs.map((r) => r.p999Ms)).toFixed(3),
    runs,
  };
}

const sustained = (run: Run, rate: number): boolean =>
  run.failed === 0 && run.achievedRate >= 0.99 * rate && run.p99Ms <= SUSTAINED_P99_MS;

/** Imports ML-100K and trains through the CLI, then serves; warmed up at 2,000/s for 5 s. */
async function prepare(name: string, dataDir: string, env: Record<string, string>): Promise<Setup> {
  await runCli(['import', '--format', 'ml100k', join(SHARED, 'data/ml-100k/u.data')], dataDir, env);
  await runCli(['train'], dataDir, env);
  const server = await startServer(dataDir, env);
  await openLoopLoad({ url: server.url, rate: 2_000, seconds: 5, path, headers: AUTH_HEADERS });
  return { name, server };
}

async function main(): Promise<void> {
  const started = performance.now();
  const schema = `bench_tail_${randomUUID().slice(0, 8)}`;
  const setups: Setup[] = [];
  try {
    setups.push(await prepare('embedded', tempDataDir('tail'), {}));
    setups.push(
      await prepare('embedded, result cache off', tempDataDir('tail-off'), { ATTUNE_RESULT_CACHE_MS: 'off' }),
    );
    // 32 MB semi-spaces (V8's default here is 16) halve how often the young generation is scavenged, each
    // scavenge a pause of the one serving thread: measured beside the default, not adopted (docs/SCALING.md).
    setups.push(
      await prepare('embedded, --max-semi-space-size=32', tempDataDir('tail-semi'), {
        NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --max-semi-space-size=32`.trim(),
      }),
    );
    // V8's own default, which attune turns off: measured beside it in the same turns. (One V8 worker
    // thread, `--v8-pool-size=1`, was measured here until 2026-12-06: docs/SCALING.md.)
    setups.push(
      await prepare('embedded, V8 pretenuring on (ATTUNE_V8_PRETENURING=on)', tempDataDir('tail-pretenure'), {
        ATTUNE_V8_PRETENURING: 'on',
      }),
    );
    setups.push(
      await prepare('postgresql + redis', '/nonexistent', {
        ...benchServiceEnv(schema),
        ATTUNE_RETRAIN_INTERVAL_MS: 'off',
      }),
    );
    const recorded = await (
      await benchFetch(`${setups[0]!.server.url}${path(0)}`, { headers: AUTH_HEADERS })
    ).text();
    const floor = await startFloorServer({ '/v1/recommendations': recorded });
    await openLoopLoad({ url: floor.url, rate: 2_000, seconds: 5, path });
    setups.push({ name: 'floor: bare node:http, a recorded list (no engine)', server: floor, peer: true });
    const servers = setups.map((setup) => setup.server);
    const alone = <T>(server: RunningServer | null, measure: () => Promise<T>): Promise<T> =>
      measuredAlone(server, servers, measure);
    // The machine's own stalls, nothing else running: what no server can do better than.
    const machine = await alone(null, async () => ({
      both_cores: await machineStalls(2, STALL_SECONDS),
      one_core: await machineStalls(1, STALL_SECONDS),
    }));
    const at1000: Run[][] = setups.map(() => []);
    const at2000: (Run & Record<string, unknown>)[][] = setups.map(() => []);
    for (let run = 0; run < RUNS; run++) {
      for (const [s, { server }] of setups.entries())
        at1000[s]!.push(await alone(server, () => timed(server, 1_000, SECONDS)));
      for (const [s, { server }] of setups.entries())
        at2000[s]!.push(await alone(server, () => profiled(server)));
    }
    const sweeps: { rate: number; run: Run }[][] = [];
    for (const setup of setups) {
      const sweep: { rate: number; run: Run }[] = [];
      for (let rate = SWEEP_FROM; rate <= SWEEP_TO; rate += SWEEP_STEP) {
        const run = await alone(setup.server, () => timed(setup.server, rate, SWEEP_SECONDS));
        sweep.push({ rate, run });
        if (!sustained(run, rate)) break;
      }
      sweeps.push(sweep);
    }
    const rssMb = setups.map((setup) => Math.round(setup.server.rssMb()));
    console.log(
      JSON.stringify({
        bench: 'tail',
        model: 'ml-100k, default selection (auto), re-ranker as validation decides',
        seconds_per_run: SECONDS,
        sustained_means: `every request answered, ≥ 99% of the rate achieved, p99 ≤ ${SUSTAINED_P99_MS} ms (${SWEEP_SECONDS} s per rate)`,
        setups: setups.map((setup, s) => ({
          setup: setup.name,
          peer: setup.peer === true,
          at_1000: summary(at1000[s]!),
          at_2000: summary(at2000[s]!),
          highest_sustained_rps:
            sweeps[s]!.filter(({ rate, run }) => sustained(run, rate)).at(-1)?.rate ?? null,
          sweep: sweeps[s]!.map(({ rate, run }) => ({
            rate,
            achieved: Math.round(run.achievedRate),
            failed: run.failed,
            p50Ms: +run.p50Ms.toFixed(2),
            p99Ms: +run.p99Ms.toFixed(2),
          })),
          rss_mb: rssMb[s],
        })),
        machine_stalls: machine,
        targets: { p99_ms_at_2000: 3, sustained_rps: 5_000 },
        seconds: Math.round((performance.now() - started) / 1000),
      }),
    );
  } finally {
    await Promise.all(setups.map((setup) => setup.server.stop()));
    await dropBenchSchema(schema);
  }
}

await main();
