/**
 * Ingestion throughput: events acknowledged per second through `POST /v1/events` in batches of 500, by the
 * real server process with its default durability (SQLite WAL, synchronous=FULL: every reply follows a
 * committed, fsynced transaction, which also keeps each user's per-item totals). Prints one JSON object;
 * `ATTUNE_BENCH_BASELINE_CLI` measures another build the same way right after (`baseline`).
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { AUTH_HEADERS, CLI, median, startServer, tempDataDir } from './server.js';

const BATCH = 500;
const SECONDS = 10;
const RUNS = 3;
const CONNECTIONS = 4;
const DEVICES = ['mobile', 'desktop', 'tablet'];
const NAMES = ['product_viewed', 'product_viewed', 'product_viewed', 'added_to_cart', 'purchased'];

/** Pre-serialised bodies with unique event ids: building JSON in the load generator would steal the CPU. */
function bodies(count: number): string[] {
  const out: string[] = [];
  const base = Date.now() - 86_400_000;
  for (let b = 0; b < count; b++) {
    const events = [];
    for (let e = 0; e < BATCH; e++) {
      const n = b * BATCH + e;
      events.push({
        event: NAMES[n % NAMES.length],
        event_id: randomUUID(),
        user_id: `u_${(n * 7919) % 50_000}`,
        item_id: `p_${(n * 104_729) % 5_000}`,
        timestamp: base + n,
        context: { device: DEVICES[n % 3], location: 'US' },
        properties: { price: 19.99 },
      });
    }
    out.push(JSON.stringify({ events }));
  }
  return out;
}

async function run(cli: string): Promise<{ eventsPerSecond: number; p99Ms: number; errors: number }> {
  const server = await startServer(tempDataDir('ingest'), {}, [], cli);
  try {
    const payloads = bodies(1_500);
    let next = 0;
    const result = await autocannon({
      url: `${server.url}/v1/events`,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          headers: { ...AUTH_HEADERS, 'content-type': 'application/json' },
          setupRequest: (request) => ({ ...request, body: payloads[next++ % payloads.length]! }),
        },
      ],
    });
    const ok = result['2xx'];
    if (next > payloads.length) throw new Error('ran out of unique bodies; raise the count');
    return {
      eventsPerSecond: (ok * BATCH) / (result.duration || SECONDS),
      p99Ms: result.latency.p99,
      errors: result.non2xx + result.errors,
    };
  } finally {
    await server.stop();
  }
}

async function measureBuild(cli: string) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run(cli));
  return {
    cli,
    median_events_per_s: Math.round(median(runs.map((r) => r.eventsPerSecond))),
    median_p99_ms: median(runs.map((r) => r.p99Ms)),
    runs,
  };
}

const current = await measureBuild(CLI);
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
    ...(baseline === null ? {} : { baseline }),
    target_events_per_s: 30_000,
  }),
);
