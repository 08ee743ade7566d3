/**
 * Serving latency: `GET /v1/recommendations` at a fixed 1,000 requests/s on loopback with the MovieLens
 * 100K model loaded (imported and trained through the CLI, as a user would), and the server's resident
 * memory. Requests cycle through all 943 users with the real-time path on (history, seen items excluded,
 * fold-in where fresh, reasons, impression logged). Open-loop load (see `load.ts`): latency counts from
 * when a request was due. The server gets a 5 s warm-up at the same rate first (JIT, history cache),
 * reported separately. Prints one JSON object.
 */
import { join } from 'node:path';
import { openLoopLoad } from './load.js';
import { median, runCli, SHARED, startServer, tempDataDir } from './server.js';

const RATE = 1_000;
const SECONDS = 20;
const RUNS = 3;
const USERS = 943;
const path = (index: number): string => `/v1/recommendations?user_id=${(index % USERS) + 1}&n=20`;

const dataDir = tempDataDir('serve');
await runCli(['import', '--format', 'ml100k', join(SHARED, 'data/ml-100k/u.data')], dataDir);
await runCli(['train'], dataDir);

const server = await startServer(dataDir);
try {
  const warmup = await openLoopLoad({ url: server.url, rate: RATE, seconds: 5, path });
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const result = await openLoopLoad({ url: server.url, rate: RATE, seconds: SECONDS, path });
    runs.push({ ...result, rssMb: Math.round(server.rssMb()) });
  }
  console.log(
    JSON.stringify({
      bench: 'serve',
      model: 'ml-100k: als primary; popularity and item-kNN in the bundle',
      target_rate: RATE,
      seconds_per_run: SECONDS,
      median_p99_ms: median(runs.map((r) => r.p99Ms)),
      median_p50_ms: median(runs.map((r) => r.p50Ms)),
      median_p999_ms: median(runs.map((r) => r.p999Ms)),
      median_rss_mb: median(runs.map((r) => r.rssMb)),
      runs,
      warmup,
      targets: { p99_ms: 10, rss_mb: 300 },
    }),
  );
} finally {
  await server.stop();
}
