/**
 * Serving beside new events (issue 14): one embedded instance with the MovieLens 100K model (default
 * selection) answers `GET /v1/recommendations` open loop while new `product_viewed` events (unique ids,
 * random users and items) arrive open loop in batches of 100, both from this process (the server is
 * another). A new event gives its user a new profile, so that user's next list is computed rather than
 * served again: this is the case of requests that follow their user's own events (a product page tracks
 * the view, then asks for recommendations), which `tail.ts`, whose users send nothing, does not measure.
 *
 * For each pair (lists/s beside events/s: 500 + 500, 700 + 700, 1,000 + 1,000): 3 runs of 10 s, the
 * medians, and per run the serving thread's CPU, the share of lists served again, the lists/s achieved and
 * whether the pair was sustained (every request answered, ≥ 99% of the rate, p99 ≤ 50 ms). Needs a build
 * and `../shared`. Prints one JSON object.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openLoopLoad, threadTicks, type LoadResult } from './load.js';
import { cacheCounts, cacheHitShare } from './prometheus.js';
import {
  AUTH_HEADERS,
  benchFetch,
  median,
  runCli,
  SHARED,
  startServer,
  tempDataDir,
  type RunningServer,
} from './server.js';

const RUNS = 3;
const SECONDS = 10;
const PAIRS = [500, 700, 1_000] as const;
const EVENTS_PER_BATCH = 100;
const USERS = 943;
const ITEMS = 1_682;
const SUSTAINED_P99_MS = 50;
const listPath = (index: number): string => `/v1/recommendations?user_id=${(index % USERS) + 1}&n=20`;

/** A batch of new events: ids never sent before, so none is a duplicate the store would ignore. */
function eventBatch(prefix: string, index: number): string {
  const now = new Date().toISOString();
  const events = Array.from({ length: EVENTS_PER_BATCH }, (_, k) => ({
    event_id: `${prefix}-${index}-${k}`,
    event: 'product_viewed',
    user_id: String(1 + Math.floor(Math.random() * USERS)),
    item_id: String(1 + Math.floor(Math.random() * ITEMS)),
    timestamp: now,
  }));
  return JSON.stringify({ events });
}

interface Run extends LoadResult {
  readonly mainCpuPct: number;
  readonly servedAgainShare: number | null;
  readonly eventsRefused: number;
}

async function run(server: RunningServer, rate: number): Promise<Run> {
  const pid = server.process.pid!;
  const before = threadTicks(pid).get('main') ?? 0;
  const cacheBefore = await cacheCounts(server.url);
  const started = performance.now();
  const prefix = randomUUID();
  let eventsRefused = 0;
  const [lists] = await Promise.all([
    openLoopLoad({ url: server.url, rate, seconds: SECONDS, path: listPath, headers: AUTH_HEADERS }),
    openLoopLoad({
      url: server.url,
      rate: rate / EVENTS_PER_BATCH,
      seconds: SECONDS,
      path: () => '/v1/events',
      body: (index) => eventBatch(prefix, index),
      headers: AUTH_HEADERS,
      onStatus: (status) => {
        if (status !== 200) eventsRefused += EVENTS_PER_BATCH;
      },
    }),
  ]);
  const seconds = (performance.now() - started) / 1000;
  const cacheAfter = await cacheCounts(server.url);
  const servedAgain = cacheHitShare(cacheBefore, cacheAfter);
  return {
    ...lists,
    mainCpuPct: Math.round(((threadTicks(pid).get('main') ?? 0) - before) / seconds),
    servedAgainShare: servedAgain === null ? null : +servedAgain.toFixed(3),
    eventsRefused,
  };
}

const sustained = (r: Run, rate: number): boolean =>
  r.failed === 0 && r.achievedRate >= 0.99 * rate && r.p99Ms <= SUSTAINED_P99_MS;

async function main(): Promise<void> {
  const started = performance.now();
  const dataDir = tempDataDir('tail-events');
  await runCli(['import', '--format', 'ml100k', join(SHARED, 'data/ml-100k/u.data')], dataDir);
  await runCli(['train'], dataDir);
  const server = await startServer(dataDir);
  try {
    // What training chose: selection runs against a time budget, so two trainings of the same data can
    // serve different blends, and a run's numbers belong with the blend that served them.
    const models = (await (
      await benchFetch(`${server.url}/v1/models`, { headers: AUTH_HEADERS })
    ).json()) as {
      serving?: { selection?: { chosen?: unknown } | null; reranking?: { chosen?: unknown } | null };
    };
    // Warmed up on lists alone, so every user's list is kept before the events start.
    await openLoopLoad({ url: server.url, rate: 1_000, seconds: 5, path: listPath, headers: AUTH_HEADERS });
    const pairs = [];
    for (const rate of PAIRS) {
      const runs: Run[] = [];
      for (let r = 0; r < RUNS; r++) runs.push(await run(server, rate));
      pairs.push({
        lists_per_s: rate,
        events_per_s: rate,
        median_p50_ms: +median(runs.map((r) => r.p50Ms)).toFixed(2),
        median_p99_ms: +median(runs.map((r) => r.p99Ms)).toFixed(2),
        median_achieved: Math.round(median(runs.map((r) => r.achievedRate))),
        median_main_cpu_pct: median(runs.map((r) => r.mainCpuPct)),
        sustained_runs: runs.filter((r) => sustained(r, rate)).length,
        runs: runs.map((r) => ({
          p50Ms: +r.p50Ms.toFixed(2),
          p99Ms: +r.p99Ms.toFixed(2),
          achieved: Math.round(r.achievedRate),
          failed: r.failed,
          mainCpuPct: r.mainCpuPct,
          servedAgainShare: r.servedAgainShare,
          eventsRefused: r.eventsRefused,
        })),
      });
    }
    console.log(
      JSON.stringify({
        bench: 'tail-events',
        model: 'ml-100k, default selection (auto)',
        chosen: models.serving?.selection?.chosen ?? null,
        reranked: models.serving?.reranking?.chosen ?? null,
        seconds_per_run: SECONDS,
        events_per_batch: EVENTS_PER_BATCH,
        sustained_means: `every request answered, ≥ 99% of the rate achieved, p99 ≤ ${SUSTAINED_P99_MS} ms`,
        pairs,
        seconds: Math.round((performance.now() - started) / 1000),
      }),
    );
  } finally {
    await server.stop();
  }
}

await main();
