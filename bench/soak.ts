/**
 * Soak: the real server on the embedded store, loaded with the demo shop (2,000 users, 500 items, 60 days)
 * and trained, takes mixed traffic at a fixed rate for a long time: half the requests send an event
 * (`POST /v1/events`: views, carts, purchases of demo users and of new users appearing), half ask for a
 * list (`GET /v1/recommendations`, real-time path, impression logged). Open-loop load (`load.ts`), from
 * this process. The server's resident memory is sampled every 10 s; growth is measured from the end of
 * the warm-up (the first minute: JIT, caches filling) to the end, and every reply that is not 200 counts
 * as an error, by status. Issue 12: 10 minutes at 1,000 requests/s, memory growth under 10% after warm-up,
 * no error replies. Growth compares the medians of the minute after the warm-up and of the load's last
minute. Prints one JSON object; `ATTUNE_SOAK_SECONDS` and `ATTUNE_SOAK_RATE` shorten it.
 */
import { cpuTicks, openLoopLoad, stealPercent } from './load.js';
import { AUTH_HEADERS, runCli, startServer, tempDataDir } from './server.js';

const RATE = Number(process.env['ATTUNE_SOAK_RATE'] ?? 1_000);
const SECONDS = Number(process.env['ATTUNE_SOAK_SECONDS'] ?? 600);
const WARMUP_SECONDS = Math.min(60, SECONDS / 5);
const SAMPLE_MS = 10_000;
const DEMO_USERS = 2_000;
const NEW_USERS = 3_000;
const ITEMS = 500;
const NAMES = ['product_viewed', 'product_viewed', 'product_viewed', 'added_to_cart', 'purchased'];

const pad = (n: number): string => String(n).padStart(4, '0');
/** A demo user most of the time; every fifth request one of the new users who keep arriving. */
const userFor = (index: number): string =>
  index % 5 === 4
    ? `soak-user-${(index * 31) % NEW_USERS}`
    : `user-${pad(((index * 7919) % DEMO_USERS) + 1)}`;

function eventBody(index: number): string {
  return JSON.stringify({
    event: NAMES[index % NAMES.length],
    user_id: userFor(index),
    item_id: `item-${pad(((index * 104_729) % ITEMS) + 1)}`,
    event_id: `soak-${index}`,
    context: { device: index % 3 === 0 ? 'mobile' : 'desktop' },
  });
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? NaN;
};

async function main(): Promise<void> {
  const dataDir = tempDataDir('soak');
  await runCli(['demo'], dataDir);
  await runCli(['train'], dataDir);
  const server = await startServer(dataDir);
  const samples: { readonly atS: number; readonly rssMb: number }[] = [];
  const started = performance.now();
  const sample = () =>
    samples.push({ atS: Math.round((performance.now() - started) / 1000), rssMb: server.rssMb() });
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  const statuses = new Map<string, number>();
  const before = cpuTicks();
  const result = await openLoopLoad({
    url: server.url,
    rate: RATE,
    seconds: SECONDS,
    headers: AUTH_HEADERS,
    path: (index) => (index % 2 === 0 ? `/v1/recommendations?user_id=${userFor(index)}&n=10` : '/v1/events'),
    body: (index) => (index % 2 === 0 ? null : eventBody(index)),
    onStatus: (status, index) => {
      if (status === 200) return;
      const key = `${index % 2 === 0 ? 'recommendations' : 'events'} ${status || 'connection error'}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    },
  });
  clearInterval(timer);
  sample();
  const steal = stealPercent(before, cpuTicks());
  await server.stop();

  // Medians over the minute after the warm-up and over the load's last minute (samples taken while the
  // load ran, not the one after it), so one collection's timing does not decide the growth.
  const during = samples.filter((s) => s.atS >= WARMUP_SECONDS && s.atS < SECONDS);
  const window = Math.max(1, Math.round(60_000 / SAMPLE_MS));
  const startMb = median(during.slice(0, window).map((s) => s.rssMb));
  const endMb = median(during.slice(-window).map((s) => s.rssMb));
  const growthPct = Math.round((1000 * (endMb - startMb)) / startMb) / 10;
  console.log(
    JSON.stringify({
      bench: 'soak',
      rate: RATE,
      seconds: SECONDS,
      warmup_seconds: WARMUP_SECONDS,
      requests: result.sent,
      achieved_rate: Math.round(result.achievedRate),
      errors: result.failed,
      errors_by_kind: Object.fromEntries(statuses),
      p50_ms: result.p50Ms,
      p99_ms: result.p99Ms,
      p999_ms: result.p999Ms,
      max_ms: result.maxMs,
      steal_pct: steal,
      rss_mb_after_warmup: Math.round(startMb),
      rss_mb_end: Math.round(endMb),
      rss_growth_pct: growthPct,
      rss_samples: samples,
      target: { rate: 1_000, seconds: 600, rss_growth_pct_below: 10, errors: 0 },
    }),
  );
}

await main();
