/**
 * The feature store's cost on ingestion (`features/online.ts`): what folding a committed event into the
 * online state of its user and item costs, with every user and item held (the worst case: each event
 * updates two accumulators), and how many events per second ingestion then acknowledges.
 *
 *   node --import tsx bench/features.ts [--users 50000] [--items 5000] [--events 200000]
 *
 * 1. `update`: `OnlineFeatures.record` alone over the events in batches of 500, after every user and item
 *    was read once (so all are cached): microseconds per event (target < 50).
 * 2. `ingest`: `POST /v1/events` in batches of 500 through the real Fastify app and engine (in process, no
 *    socket; durable SQLite, WAL, synchronous=FULL), once with every user and item's features held and
 *    once with none held (a fresh engine; `record` then only looks them up): events/s (target ≥ 30,000).
 * stdout: one JSON line per measure.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/api/index.js';
import { Engine, engineConfig } from '../src/engine/index.js';
import type { TrackedEvent } from '../src/events/index.js';
import { FeatureSet, OnlineFeatures } from '../src/features/index.js';
import { openStore } from '../src/store/index.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const USERS = option('--users', 50_000);
const ITEMS = option('--items', 5_000);
const EVENTS = option('--events', 200_000);
const BATCH = 500;
const DEVICES = ['mobile', 'desktop', 'tablet'];
const NAMES = ['product_viewed', 'product_viewed', 'product_viewed', 'added_to_cart', 'purchased'];
const START = Date.now() - 40 * 86_400_000;
/** Spread over the 40 days before now, in time order, as live traffic with history behind it. */
const timestampOf = (n: number) => START + Math.floor((n / EVENTS) * 40 * 86_400_000);

function eventJson(n: number): {
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
    timestamp: new Date(timestampOf(n)).toISOString(),
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
    timestamp: timestampOf(n),
    receivedAt: timestampOf(n),
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

async function ingestion(warm: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'attune-bench-features-'));
  const engine = await Engine.open(
    engineConfig(`sqlite:${dir}`, { retrainIntervalMs: null, bundlePollMs: null }),
  );
  const app = buildApp({ engine });
  try {
    if (warm) {
      for (let u = 0; u < USERS; u++) await engine.userFeatures(`u_${u}`);
      for (let i = 0; i < ITEMS; i++) await engine.itemFeatures(`p_${i}`);
    }
    const bodies: string[] = [];
    for (let start = 0; start < EVENTS; start += BATCH) {
      const events = [];
      for (let n = start; n < Math.min(start + BATCH, EVENTS); n++) events.push(eventJson(n));
      bodies.push(JSON.stringify({ events }));
    }
    const started = performance.now();
    for (const payload of bodies) {
      const reply = await app.inject({
        method: 'POST',
        url: '/v1/events',
        payload,
        headers: { 'content-type': 'application/json' },
      });
      if (reply.statusCode !== 200) throw new Error(`POST /v1/events: ${reply.statusCode} ${reply.body}`);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      JSON.stringify({
        bench: 'features',
        measure: 'ingest',
        features_held: warm ? 'all users and items' : 'none',
        events: EVENTS,
        batch: BATCH,
        events_per_s: Math.round(EVENTS / seconds),
        target_events_per_s: 30_000,
      }),
    );
  } finally {
    await app.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await updateCost();
await ingestion(true);
await ingestion(false);
