/**
 * Users' first requests on an instance, from outside (issue 14: "synchronous reads on a cache miss", which
 * `tail.ts` cannot show: its users are all in memory after the warm-up). One server with the MovieLens
 * 100K model (default selection), a fresh process per round so nothing is cached: warmed for 5 s on users
 * 1–471, then those users at 1,000 requests/s open loop for 10 s while users 472–943 make their first
 * requests spread over the same 10 s (47/s); then the same again, the 472 now answered from memory. So
 * each round gives the warm requests' latency beside first requests and beside second ones, the first and
 * second requests' own latency, and the serving thread's CPU in each phase. The embedded store and
 * PostgreSQL + Redis, 3 rounds each, alternating; medians. Needs a build and `../shared`. Prints one JSON
 * object.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openLoopLoad, threadTicks, type LoadResult } from './load.js';
import { AUTH_HEADERS, median, runCli, SHARED, startServer, tempDataDir } from './server.js';
import { benchServiceEnv, dropBenchSchema } from './services.js';

const ROUNDS = 3;
const SECONDS = 10;
const WARM_RATE = 1_000;
const WARM_USERS = 471;
const NEW_USERS = 943 - WARM_USERS;

const warmPath = (index: number): string => `/v1/recommendations?user_id=${(index % WARM_USERS) + 1}&n=20`;
const newPath = (index: number): string =>
  `/v1/recommendations?user_id=${WARM_USERS + 1 + (index % NEW_USERS)}&n=20`;

interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly failed: number;
}

interface Phase {
  readonly warm: Latency;
  readonly users: Latency;
  readonly mainCpuPct: number;
}

const latency = (r: LoadResult): Latency => ({
  p50Ms: +r.p50Ms.toFixed(3),
  p99Ms: +r.p99Ms.toFixed(3),
  p999Ms: +r.p999Ms.toFixed(3),
  maxMs: +r.maxMs.toFixed(3),
  failed: r.failed,
});

/** Warm traffic beside one request from each of the new users, spread over the same seconds. */
async function phase(url: string, pid: number): Promise<Phase> {
  const before = threadTicks(pid).get('main') ?? 0;
  const started = performance.now();
  const [warm, users] = await Promise.all([
    openLoopLoad({
      url,
      rate: WARM_RATE,
      seconds: SECONDS,
      leadSeconds: 0,
      path: warmPath,
      headers: AUTH_HEADERS,
    }),
    openLoopLoad({
      url,
      rate: NEW_USERS / SECONDS,
      seconds: SECONDS,
      leadSeconds: 0,
      path: newPath,
      headers: AUTH_HEADERS,
    }),
  ]);
  const seconds = (performance.now() - started) / 1000;
  const mainCpuPct = Math.round(((threadTicks(pid).get('main') ?? 0) - before) / seconds);
  return { warm: latency(warm), users: latency(users), mainCpuPct };
}

interface Round {
  readonly first: Phase;
  readonly second: Phase;
}

async function round(dataDir: string, env: Record<string, string>): Promise<Round> {
  const server = await startServer(dataDir, env);
  try {
    const pid = server.process.pid!;
    await openLoopLoad({
      url: server.url,
      rate: WARM_RATE / 2,
      seconds: 5,
      leadSeconds: 0,
      path: warmPath,
      headers: AUTH_HEADERS,
    });
    const first = await phase(server.url, pid);
    const second = await phase(server.url, pid);
    return { first, second };
  } finally {
    await server.stop();
  }
}

function medians(phases: readonly Phase[]) {
  const of = (pick: (p: Phase) => number): number => +median(phases.map(pick)).toFixed(2);
  return {
    warm_p50_ms: of((p) => p.warm.p50Ms),
    warm_p99_ms: of((p) => p.warm.p99Ms),
    warm_p999_ms: of((p) => p.warm.p999Ms),
    users_p50_ms: of((p) => p.users.p50Ms),
    users_p99_ms: of((p) => p.users.p99Ms),
    main_cpu_pct: of((p) => p.mainCpuPct),
    failed: phases.reduce((sum, p) => sum + p.warm.failed + p.users.failed, 0),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const schema = `bench_first_${randomUUID().slice(0, 8)}`;
  const setups = [
    { name: 'embedded', dataDir: tempDataDir('first-touch'), env: {} as Record<string, string> },
    {
      name: 'postgresql + redis',
      dataDir: '/nonexistent',
      env: { ...benchServiceEnv(schema), ATTUNE_RETRAIN_INTERVAL_MS: 'off' },
    },
  ];
  try {
    for (const { dataDir, env } of setups) {
      await runCli(['import', '--format', 'ml100k', join(SHARED, 'data/ml-100k/u.data')], dataDir, env);
      await runCli(['train'], dataDir, env);
    }
    const rounds: Round[][] = setups.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [s, { dataDir, env }] of setups.entries()) {
        process.stderr.write(`[first-touch] ${setups[s]!.name}: round ${r + 1} of ${ROUNDS}\n`);
        rounds[s]!.push(await round(dataDir, env));
      }
    }
    console.log(
      JSON.stringify({
        bench: 'first-touch',
        model: 'ml-100k, default selection (auto)',
        warm_rate: WARM_RATE,
        warm_users: WARM_USERS,
        new_users: NEW_USERS,
        seconds_per_phase: SECONDS,
        rounds: ROUNDS,
        setups: setups.map(({ name }, s) => ({
          setup: name,
          beside_first: medians(rounds[s]!.map((r) => r.first)),
          beside_second: medians(rounds[s]!.map((r) => r.second)),
          rounds: rounds[s],
        })),
        seconds: Math.round((performance.now() - started) / 1000),
      }),
    );
  } finally {
    await dropBenchSchema(schema);
  }
}

await main();
