/**
 * Lists shared between API instances through Redis (issue 14: recommendation caches in Redis). Behind a
 * load balancer a user's next request lands on another instance; this measures that request.
 *
 * Two `attune serve` on PostgreSQL (a schema of this run's own) and Redis, a synthetic shop (30,000 users,
 * 50,000 items with power-law popularity, 300,000 views / carts / purchases) imported with `attune import`
 * and trained with `attune train` (ALS, fixed selection). One run: 2,000 users nobody has asked for yet get
 * their list from instance A at 100 requests/s (open loop, latency from each request's scheduled time),
 * then the same users in the same order from instance B at 100/s. Side by side in the same process:
 * `ATTUNE_SHARED_LISTS=on` (B finds A's list in Redis) and `off` (B computes it), the instances restarted
 * between, alternating on/off per run. Reports medians over the runs of each side's p50 / p99 for A's
 * requests (a computed list, plus the shared tier's miss and write when on) and B's, and B's
 * `attune_recommendation_cache_total` counts.
 *
 * Needs a build, PostgreSQL and Redis. Prints one JSON object.
 */
import { createWriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

import { mulberry32 } from '../src/models/random.js';
import { openLoopLoad, type LoadResult } from './load.js';
import { AUTH_HEADERS, median, runCli, startServer, tempDataDir } from './server.js';
import { cacheCounts } from './prometheus.js';
import { benchServiceEnv, dropBenchSchema } from './services.js';

const USERS = 30_000;
const ITEMS = 50_000;
const EVENTS = 300_000;
const RUNS = Number(process.env['ATTUNE_BENCH_RUNS'] ?? 3);
const RATE = 100;
const SECONDS = 20;
const PER_PHASE = RATE * SECONDS;

async function writeShop(path: string): Promise<void> {
  const next = mulberry32(7);
  const out = createWriteStream(path);
  const start = Date.now() - 60 * 86_400_000;
  for (let n = 0; n < EVENTS; n++) {
    const user = Math.floor(next() * USERS);
    const item = Math.floor(ITEMS * Math.pow(next(), 2.5));
    const roll = next();
    const name = roll < 0.8 ? 'product_viewed' : roll < 0.93 ? 'added_to_cart' : 'purchased';
    const at = start + Math.floor((n / EVENTS) * 59 * 86_400_000);
    const line = `{"event":"${name}","event_id":"s${n}","user_id":"u${user}","item_id":"i${item}","timestamp":${at}}\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

const minus = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));

interface Run {
  readonly shared: boolean;
  readonly a: LoadResult;
  readonly b: LoadResult;
  readonly bCache: Record<string, number>;
}

async function main(): Promise<void> {
  const started = performance.now();
  const schema = `bench_${randomUUID().slice(0, 8)}`;
  const env = {
    ...benchServiceEnv(schema),
    ATTUNE_SELECTION: 'fixed',
    ATTUNE_RETRAIN_INTERVAL_MS: 'off',
  };
  const file = join(tempDataDir('shared-lists'), 'events.jsonl');
  try {
    await writeShop(file);
    await runCli(['import', '--format', 'jsonl', file], '/nonexistent', env);
    await runCli(['train'], '/nonexistent', env);

    // Users in a fixed shuffled order; each phase takes the next PER_PHASE, so every phase meets users
    // neither instance has served (nor read) before.
    const next = mulberry32(11);
    const order = Array.from({ length: USERS }, (_, k) => k);
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(next() * (k + 1));
      [order[k], order[j]] = [order[j]!, order[k]!];
    }
    let cursor = 0;
    const runs: Run[] = [];
    for (let run = 0; run < 2 * RUNS; run++) {
      const shared = run % 2 === 0;
      const sideEnv = { ...env, ATTUNE_SHARED_LISTS: shared ? 'on' : 'off' };
      const [a, b] = await Promise.all([
        startServer('/nonexistent', sideEnv),
        startServer('/nonexistent', sideEnv),
      ]);
      try {
        // Warm-up on users outside the measured ones (JIT, connections), not reported.
        const warm = order.slice(USERS - 1_000);
        for (const server of [a, b]) {
          await openLoopLoad({
            url: server.url,
            rate: RATE,
            seconds: 3,
            path: (i) => `/v1/recommendations?user_id=u${warm[i % warm.length]!}&n=20`,
            headers: AUTH_HEADERS,
          });
        }
        const users = order.slice(cursor, cursor + PER_PHASE);
        cursor += PER_PHASE;
        if (cursor > USERS - 1_000) throw new Error('ran out of fresh users; lower ATTUNE_BENCH_RUNS');
        const path = (i: number) => `/v1/recommendations?user_id=u${users[i]!}&n=20`;
        const resultA = await openLoopLoad({
          url: a.url,
          rate: RATE,
          seconds: SECONDS,
          path,
          headers: AUTH_HEADERS,
        });
        const before = await cacheCounts(b.url);
        const resultB = await openLoopLoad({
          url: b.url,
          rate: RATE,
          seconds: SECONDS,
          path,
          headers: AUTH_HEADERS,
        });
        runs.push({ shared, a: resultA, b: resultB, bCache: minus(await cacheCounts(b.url), before) });
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    }
    const side = (shared: boolean) => {
      const mine = runs.filter((r) => r.shared === shared);
      return {
        a_p50_ms: median(mine.map((r) => r.a.p50Ms)),
        a_p99_ms: median(mine.map((r) => r.a.p99Ms)),
        b_p50_ms: median(mine.map((r) => r.b.p50Ms)),
        b_p99_ms: median(mine.map((r) => r.b.p99Ms)),
        b_cache: mine.map((r) => r.bCache),
        failed: mine.reduce((sum, r) => sum + r.a.failed + r.b.failed, 0),
      };
    };
    console.log(
      JSON.stringify({
        bench: 'shared-lists',
        setup: `two attune serve on PostgreSQL + Redis; ${USERS} users, ${ITEMS} items, ${EVENTS} events; ALS`,
        rate: RATE,
        seconds: SECONDS,
        runs: RUNS,
        shared: side(true),
        not_shared: side(false),
        raw: runs,
        seconds_total: Math.round((performance.now() - started) / 1000),
      }),
    );
  } finally {
    await dropBenchSchema(schema);
  }
}

await main();
