/**
 * The feature store's cost on ingestion (`features/online.ts`): what folding a committed event into the
 * online state of its user and item costs, with every user and item held (the worst case: each event
 * updates two accumulators), and how many events per second ingestion then acknowledges.
 *
 *   node --import tsx bench/features.ts [--users 50000] [--items 5000] [--events 200000] [--rounds 3]
 *
 * 1. `update`: `OnlineFeatures.record` alone over the events in batches of 500, after every user and item
 *    was read once (so all are cached): microseconds per event (target < 50).
 * 2. `ingest`: the real server process (`attune serve`, durable SQLite: WAL, synchronous=FULL) measured as
 *    `ingest.ts` measures ingestion: batches of 500 posted over 4 connections for 10 s. Once after every
 *    user's and item's features were read over HTTP (so all are held, within the default feature cache),
 *    once on a fresh server (none held: `record` only looks them up); the two alternate, 3 runs each:
 *    events/s (target ≥ 30,000), and what the server still held at the end.
 * stdout: one JSON line per measure.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { TrackedEvent } from '../src/events/index.js';
import { FeatureSet, OnlineFeatures } from '../src/features/index.js';
import { openStore } from '../src/store/index.js';
import { postBatches, type IngestRun } from './ingest-load.js';
import { scrape } from './prometheus.js';
import { AUTH_HEADERS, median, startServer, tempDataDir } from './server.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const USERS = option('--users', 50_000);
const ITEMS = option('--items', 5_000);
const EVENTS = option('--events', 200_000);
/** Held / none pairs of ingestion runs (`--rounds 1` with ATTUNE_BENCH_SERVER_NODE_ARGS to profile one). */
const ROUNDS = option('--rounds', 3);
const BATCH = 500;
const DEVICES = ['mobile', 'desktop', 'tablet'];
const NAMES = ['product_viewed', 'product_viewed', 'product_viewed', 'added_to_cart', 'purchased'];
const START = Date.now() - 40 * 86_400_000;
/** Event `n` of `total`, spread over the 40 days before now in time order: live traffic with history behind it. */
const timestampOf = (n: number, total: number) => START + Math.floor((n / total) * 40 * 86_400_000);

function eventJson(
  n: number,
  total = EVENTS,
): {
  event: string;
  event_id: string;
  user_id: string;
  item_id: string;
  timestamp: string;
  context: Record<string, string>;
  properties: Record<string, number>;
} {
  const name = NAMES[n % NAMES.length]!;
  return {
    event: name,
    event_id: randomUUID(),
    user_id: `u_${(n * 7919) % USERS}`,
    item_id: `p_${(n * 104_729) % ITEMS}`,
    timestamp: new Date(timestampOf(n, total)).toISOString(),
    context: { device: DEVICES[n % 3]!, location: 'US', session_id: `s_${Math.floor(n / 7)}` },
    properties: name === 'product_viewed' ? {} : { price: 19.99, value: 19.99 },
  };
}

function trackedEvent(n: number): TrackedEvent {
  const json = eventJson(n);
  return {
    eventId: json.event_id,
    name: json.event,
    userId: json.user_id,
    itemId: json.item_id,
    timestamp: timestampOf(n, EVENTS),
    receivedAt: timestampOf(n, EVENTS),
    context: json.context,
    properties: json.properties,
    requestId: null,
  };
}

async function updateCost(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'attune-bench-features-'));
  const store = await openStore(`sqlite:${dir}`);
  try {
    const online = new OnlineFeatures(
      store,
      new FeatureSet(),
      () => undefined,
      2 ** 40,
      () => Date.now(),
    );
    for (let u = 0; u < USERS; u++) await online.user(`u_${u}`);
    for (let i = 0; i < ITEMS; i++) await online.item(`p_${i}`);
    const events = Array.from({ length: EVENTS }, (_, n) => trackedEvent(n));
    const positions = events.map((_, n) => n + 1);
    const started = performance.now();
    for (let start = 0; start < EVENTS; start += BATCH) {
      online.record(events.slice(start, start + BATCH), positions.slice(start, start + BATCH));
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      JSON.stringify({
        bench: 'features',
        measure: 'update',
        users: USERS,
        items: ITEMS,
        events: EVENTS,
        us_per_event: Number(((seconds * 1e6) / EVENTS).toFixed(2)),
        held_mb: Math.round(online.stats.bytes / 2 ** 20),
        target_us_per_event: 50,
      }),
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pre-serialised batches of the shop's events, their times spread over the 40 days before now in order. */
function ingestBodies(batches: number): string[] {
  const total = batches * BATCH;
  return Array.from({ length: batches }, (_, b) => {
    const events = [];
    for (let n = b * BATCH; n < (b + 1) * BATCH; n++) events.push(eventJson(n, total));
    return JSON.stringify({ events });
  });
}

/** Reads every user's and item's features once, so that the server holds them all. */
async function holdAll(url: string): Promise<void> {
  const paths = [
    ...Array.from({ length: USERS }, (_, u) => `/v1/users/u_${u}/features`),
    ...Array.from({ length: ITEMS }, (_, i) => `/v1/items/p_${i}/features`),
  ];
  let next = 0;
  const result = await autocannon({
    url,
    connections: 8,
    amount: paths.length,
    requests: [
      { method: 'GET', headers: AUTH_HEADERS, setupRequest: (r) => ({ ...r, path: paths[next++]! }) },
    ],
  });
  // Nobody has events yet: each read answers 404 and leaves the user's (empty) features held.
  if (result['2xx'] + result['4xx'] !== paths.length || result.errors > 0) {
    throw new Error(`holding features: ${result['2xx'] + result['4xx']} of ${paths.length} reads answered`);
  }
}

/** `attune_online_features_held` as the server reports it. */
async function held(url: string): Promise<{ users: number; items: number; mb: number }> {
  const samples = await scrape(url);
  const value = (what: string) =>
    samples.find((s) => s.name === 'attune_online_features_held' && s.labels['what'] === what)?.value ??
    Number.NaN;
  return { users: value('users'), items: value('items'), mb: Math.round(value('bytes') / 2 ** 20) };
}

type HeldRun = IngestRun & { readonly held: Awaited<ReturnType<typeof held>> };

async function ingestRun(payloads: readonly string[], warm: boolean): Promise<HeldRun> {
  const server = await startServer(tempDataDir('features'));
  try {
    if (warm) await holdAll(server.url);
    const run = await postBatches(server.url, payloads, { batch: BATCH, seconds: 10, connections: 4 });
    if (run.errors > 0) throw new Error(`POST /v1/events: ${run.errors} errors`);
    return { ...run, held: await held(server.url) };
  } finally {
    await server.stop();
  }
}

async function ingestion(): Promise<void> {
  const payloads = ingestBodies(1_500);
  const runs: { readonly warm: HeldRun[]; readonly cold: HeldRun[] } = { warm: [], cold: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.warm.push(await ingestRun(payloads, true));
    runs.cold.push(await ingestRun(payloads, false));
  }
  for (const warm of [true, false]) {
    const measured = warm ? runs.warm : runs.cold;
    console.log(
      JSON.stringify({
        bench: 'features',
        measure: 'ingest',
        features_held: warm ? 'all users and items' : 'none',
        batch: BATCH,
        connections: 4,
        seconds_per_run: 10,
        events_per_s: Math.round(median(measured.map((r) => r.eventsPerSecond))),
        runs: measured,
        target_events_per_s: 30_000,
      }),
    );
  }
}

// Ingestion first: the update measure leaves this process (the load generator's) a heap of 50,000 users'
// features to collect, which slowed the runs after it (first held run 23.7k against 27.5–34.3k).
await ingestion();
await updateCost();
