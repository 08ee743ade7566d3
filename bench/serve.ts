/**
 * Serving latency: `GET /v1/recommendations` at a fixed 1,000 requests/s on loopback with the MovieLens 100K
 * model loaded (imported and trained through the CLI, as a user would), and the server's resident memory.
 * Every request is a different user, with the real-time path on (history read, seen items excluded,
 * impression logged). Prints one JSON object.
 */
import { join } from 'node:path';
import autocannon from 'autocannon';
import { median, runCli, SHARED, startServer, tempDataDir } from './server.js';

const RATE = 1_000;
const SECONDS = 20;
const RUNS = 3;
const USERS = 943;

const dataDir = tempDataDir('serve');
await runCli(['import', '--format', 'ml100k', join(SHARED, 'data/ml-100k/u.data')], dataDir);
await runCli(['train'], dataDir);

const runs = [];
for (let i = 0; i < RUNS; i++) {
  const server = await startServer(dataDir);
  try {
    let next = 0;
    const result = await autocannon({
      url: server.url,
      connections: 32,
      overallRate: RATE,
      duration: SECONDS,
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => ({
            ...request,
            path: `/v1/recommendations?user_id=${(next++ % USERS) + 1}&n=20`,
          }),
        },
      ],
    });
    runs.push({
      requests_per_s: result.requests.average,
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      max_ms: result.latency.max,
      non2xx: result.non2xx,
      errors: result.errors,
      rss_mb: Math.round(server.rssMb()),
    });
  } finally {
    await server.stop();
  }
}
console.log(
  JSON.stringify({
    bench: 'serve',
    model: 'ml-100k (als primary, popularity + item-kNN in the bundle)',
    target_rate: RATE,
    seconds_per_run: SECONDS,
    median_p99_ms: median(runs.map((r) => r.p99_ms)),
    median_p50_ms: median(runs.map((r) => r.p50_ms)),
    median_rss_mb: median(runs.map((r) => r.rss_mb)),
    runs,
    targets: { p99_ms: 10, rss_mb: 300 },
  }),
);
