/**
 * Serving latency: `GET /v1/recommendations` at a fixed 1,000 requests/s on loopback with the MovieLens
 * 100K model loaded (imported and trained through the CLI, as a user would; the catalog gets the movies'
 * genres as categories through the bulk item API), and the server's resident memory. Requests cycle
 * through all 943 users with the real-time path on (history, seen items excluded, fold-in where fresh,
 * reasons, impression logged), first plain, then with business rules and diversity on. Open-loop load
 * (see `load.ts`): latency counts from when a request was due. The server gets a 5 s warm-up at the same
 * rate first (JIT, history cache), reported separately. Prints one JSON object.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLoopLoad, type LoadResult } from './load.js';
import { median, runCli, SHARED, startServer, tempDataDir, type RunningServer } from './server.js';

const RATE = 1_000;
const SECONDS = 20;
const RUNS = 3;
const USERS = 943;
const RULES =
  '&diversity=0.3&boost=categories%3DComedy%3A1.5&bury=categories%3DHorror%3A0.5&pin=50%3A3&exclude=1,2,3';
const plain = (index: number): string => `/v1/recommendations?user_id=${(index % USERS) + 1}&n=20`;
const withRules = (index: number): string => `${plain(index)}${RULES}`;

const GENRES = readFileSync(join(SHARED, 'data/ml-100k/u.genre'), 'latin1')
  .split('\n')
  .filter(Boolean)
  .map((line) => line.split('|')[0]!);

/** The movies as catalog items, genres as categories, posted through `POST /v1/items`. */
async function loadCatalog(server: RunningServer): Promise<void> {
  const items = readFileSync(join(SHARED, 'data/ml-100k/u.item'), 'latin1')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split('|');
      const flags = fields.slice(-GENRES.length);
      return { id: fields[0], categories: GENRES.filter((_, g) => flags[g] === '1') };
    });
  for (let start = 0; start < items.length; start += 1000) {
    const response = await fetch(`${server.url}/v1/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: items.slice(start, start + 1000) }),
    });
    if (!response.ok) throw new Error(`loading items failed: ${response.status} ${await response.text()}`);
  }
}

async function measure(server: RunningServer, path: (index: number) => string) {
  const runs: (LoadResult & { rssMb: number })[] = [];
  for (let i = 0; i < RUNS; i++) {
    const result = await openLoopLoad({ url: server.url, rate: RATE, seconds: SECONDS, path });
    runs.push({ ...result, rssMb: Math.round(server.rssMb()) });
  }
  return {
    median_p99_ms: median(runs.map((r) => r.p99Ms)),
    median_p50_ms: median(runs.map((r) => r.p50Ms)),
    median_p999_ms: median(runs.map((r) => r.p999Ms)),
    median_rss_mb: median(runs.map((r) => r.rssMb)),
    runs,
  };
}

const dataDir = tempDataDir('serve');
await runCli(['import', '--format', 'ml100k', join(SHARED, 'data/ml-100k/u.data')], dataDir);
await runCli(['train'], dataDir);

const server = await startServer(dataDir);
try {
  await loadCatalog(server);
  const health = (await (await fetch(`${server.url}/health`)).json()) as { primary_model?: string };
  // What the retrain chose (default selection: 'auto', within the scoring budget).
  const models = (await (await fetch(`${server.url}/v1/models`)).json()) as {
    serving?: { selection?: { chosen?: unknown } | null };
  };
  const selection = models.serving?.selection ?? null;
  const warmup = await openLoopLoad({ url: server.url, rate: RATE, seconds: 5, path: plain });
  const plainResult = await measure(server, plain);
  const rulesResult = await measure(server, withRules);
  console.log(
    JSON.stringify({
      bench: 'serve',
      model: `ml-100k, serving ${health.primary_model ?? 'unknown'} (default engine configuration)`,
      chosen: selection?.chosen ?? null,
      target_rate: RATE,
      seconds_per_run: SECONDS,
      ...plainResult,
      with_rules: { query: RULES, ...rulesResult },
      warmup,
      targets: { p99_ms: 10, rss_mb: 300 },
    }),
  );
} finally {
  await server.stop();
}
