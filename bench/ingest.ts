/**
 * Ingestion throughput: events acknowledged per second through `POST /v1/events` in batches of 500, by the
 * real server process with its default durability (SQLite WAL, synchronous=FULL: every reply follows a
 * committed, fsynced transaction, which also keeps each user's per-item totals), starting from an empty
 * store and again from one already holding a million events (`prefilled`). Prints one JSON object;
 * `ATTUNE_BENCH_BASELINE_CLI` measures another build the same way right after (`baseline`, empty store).
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { postBatches, type IngestRun } from './ingest-load.js';
import { AUTH_HEADERS, CLI, median, startServer, tempDataDir } from './server.js';

const BATCH = 500;
const SECONDS = 10;
const RUNS = 3;
const CONNECTIONS = 4;
const PREFILL = 1_000_000;
const DEVICES = ['mobile', 'desktop', 'tablet'];
const NAMES = ['product_viewed', 'product_viewed', 'product_viewed', 'added_to_cart', 'purchased'];

/** Events are a day old; every batch's times follow on from the one before. */
const BASE_TIME = Date.now() - 86_400_000;

/**
 * Pre-serialised bodies with unique event ids, batches `from` … `from + count − 1`: building JSON in the
 * load generator while it is timed would steal the CPU.
 */
function bodies(count: number, from: number): string[] {
  return Array.from({ length: count }, (_, b) => body(from + b));
}

/** Batch `b` of the synthetic shop's events (50,000 users, 5,000 items), each with a fresh event id. */
function body(b: number): string {
  const events = [];
  for (let e = 0; e < BATCH; e++) {
    const n = b * BATCH + e;
    events.push({
      event: NAMES[n % NAMES.length],
      event_id: randomUUID(),
      user_id: `u_${(n * 7919) % 50_000}`,
      item_id: `p_${(n * 104_729) % 5_000}`,
      timestamp: BASE_TIME + n,
      context: { device: DEVICES[n % 3], location: 'US' },
      properties: { price: 19.99 },
    });
  }
  return JSON.stringify({ events });
}

/**
 * One timed run on a fresh data directory. With `prefill` > 0, that many events (other users' and items'
 * alike: the same shop) are posted first, untimed, so that the run meets a store of that size: every event
 * adds a random leaf of the event-id and per-user indexes to the commit, and a small store holds them all
 * in SQLite's page cache where a large one does not.
 */
async function run(cli: string, prefill: number): Promise<IngestRun> {
  const server = await startServer(tempDataDir('ingest'), {}, [], cli);
  try {
    const prefillBatches = Math.ceil(prefill / BATCH);
    if (prefillBatches > 0) {
      let batch = 0;
      const filled = await autocannon({
        url: `${server.url}/v1/events`,
        connections: CONNECTIONS,
        amount: prefillBatches,
        timeout: 120,
        requests: [
          {
            method: 'POST',
            headers: { ...AUTH_HEADERS, 'content-type': 'application/json' },
            setupRequest: (request) => ({ ...request, body: body(batch++) }),
          },
        ],
      });
      if (filled['2xx'] !== prefillBatches) {
        throw new Error(`prefill: ${filled['2xx']} of ${prefillBatches} batches acknowledged`);
      }
    }
    return await postBatches(server.url, bodies(1_500, prefillBatches), {
      batch: BATCH,
      seconds: SECONDS,
      connections: CONNECTIONS,
    });
  } finally {
    await server.stop();
  }
}

async function measureBuild(cli: string, prefill = 0) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run(cli, prefill));
  return {
    cli,
    median_events_per_s: Math.round(median(runs.map((r) => r.eventsPerSecond))),
    median_p99_ms: median(runs.map((r) => r.p99Ms)),
    runs,
  };
}

const current = await measureBuild(CLI);
// The same load on a store that already holds PREFILL events (the runs above start empty and end near
// 200,000): what a deployment a few weeks old sees.
const prefilled = { events_before: PREFILL, ...(await measureBuild(CLI, PREFILL)) };
// Another build (an earlier commit's dist/cli/main.js, say), measured the same way right after.
const baselineCli = process.env['ATTUNE_BENCH_BASELINE_CLI'];
const baseline = baselineCli === undefined ? null : await measureBuild(baselineCli);
console.log(
  JSON.stringify({
    bench: 'ingest',
    batch: BATCH,
    connections: CONNECTIONS,
    seconds_per_run: SECONDS,
    ...current,
    prefilled,
    ...(baseline === null ? {} : { baseline }),
    target_events_per_s: 30_000,
  }),
);
