/**
 * Serving latency: `GET /v1/recommendations` at a fixed 1,000 requests/s on loopback with the MovieLens
 * 100K model loaded (imported and trained through the CLI, as a user would; the catalog gets the movies'
 * genres as categories through the bulk item API), and the server's resident memory. Beside the 943
 * MovieLens users, 10 loyal heavy users of 5,000 events each (views, carts, purchases, dismissals on
 * 600 movies each) are imported before training, and half of them send one more event after it, so their
 * profiles are fresh (the model updates their trained state). Requests cycle through all users, every
 * tenth one a heavy user, with the real-time path on (whole history, seen items excluded, updates where
 * fresh, reasons, impression logged), first plain, then with business rules and diversity on. Open-loop
 * load (see `load.ts`): latency counts from when a request was due. The server gets a 5 s warm-up at the
 * same rate first (JIT, history cache), reported separately. Prints one JSON object.
 *
 * Then two experiments are started (two layers; one variant serves another model) and the plain load is
 * measured again (`with_two_experiments`; issue 9: p99 ≤ 5 ms).
 *
 * `ATTUNE_BENCH_BASELINE_CLI=/path/to/dist/cli/main.js` measures another build (an earlier commit, say) the
 * same way right after, side by side in the output (`baseline`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLoopLoad, type LoadResult } from './load.js';
import { CLI, median, runCli, SHARED, startServer, tempDataDir, type RunningServer } from './server.js';

const RATE = 1_000;
const SECONDS = 20;
const RUNS = 3;
const USERS = 943;
const RULES =
  '&diversity=0.3&boost=categories%3DComedy%3A1.5&bury=categories%3DHorror%3A0.5&pin=50%3A3&exclude=1,2,3';
const HEAVY_USERS = 10;
const HEAVY_EVENTS = 5_000;
const HEAVY_ITEMS = 600;
const heavyId = (h: number): string => `heavy-${h}`;
/** Every tenth request is one of the heavy users; the rest cycle through the MovieLens users. */
const userFor = (index: number): string =>
  index % 10 === 9 ? heavyId(Math.floor(index / 10) % HEAVY_USERS) : String((index % USERS) + 1);
const plain = (index: number): string => `/v1/recommendations?user_id=${userFor(index)}&n=20`;
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

/** The heavy users' events as JSON lines, through the API's own validation on import. */
function heavyEvents(): string {
  const names = [
    'product_viewed',
    'product_viewed',
    'product_viewed',
    'added_to_cart',
    'purchased',
    'dismissed',
  ];
  const start = Date.UTC(2026, 0, 1);
  const lines: string[] = [];
  for (let h = 0; h < HEAVY_USERS; h++) {
    for (let k = 0; k < HEAVY_EVENTS; k++) {
      // 600 distinct movies each, every one come back to about eight times: a loyal customer's history,
      // not the whole catalog (a user who has had everything gets an empty list, as they should).
      const item = 1 + ((h * 7919 + (k % HEAVY_ITEMS) * 104_729) % 1682);
      lines.push(
        JSON.stringify({
          event: names[(h + k) % names.length],
          user_id: heavyId(h),
          item_id: String(item),
          event_id: `heavy-${h}-${k}`,
          timestamp: new Date(start + (h * HEAVY_EVENTS + k) * 60_000).toISOString(),
        }),
      );
    }
  }
  return lines.join('\n');
}

/**
 * Two experiments running in two layers (so every request is placed in both, past the 5% global holdout):
 * one whose treatment serves ALS alone instead of the selected blend, one with a client-side config only.
 */
async function startTwoExperiments(server: RunningServer): Promise<void> {
  const bodies = [
    {
      id: 'ranker',
      layer: 'ranking',
      start: true,
      variants: [{ name: 'control' }, { name: 'als', model: 'als' }],
    },
    {
      id: 'banner',
      layer: 'ui',
      start: true,
      variants: [{ name: 'control' }, { name: 'big', config: { banner: 'big' } }],
    },
  ];
  for (const body of bodies) {
    const response = await fetch(`${server.url}/v1/experiments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`creating an experiment failed: ${await response.text()}`);
  }
}

/** Imports, trains and serves with the build at `cli`, and measures it (with experiments when it has them). */
async function measureBuild(cli: string, experiments: boolean): Promise<Record<string, unknown>> {
  const dataDir = tempDataDir('serve');
  const heavyFile = join(dataDir, 'heavy.jsonl');
  writeFileSync(heavyFile, heavyEvents());
  await runCli(['import', '--format', 'ml100k', join(SHARED, 'data/ml-100k/u.data')], dataDir, {}, cli);
  await runCli(['import', '--format', 'jsonl', heavyFile], dataDir, {}, cli);
  await runCli(['train'], dataDir, {}, cli);

  const server = await startServer(dataDir, {}, [], cli);
  try {
    await loadCatalog(server);
    // Half the heavy users act once more after training: their profiles hold feedback the model lacks.
    const after = Array.from({ length: HEAVY_USERS / 2 }, (_, h) => ({
      event: 'product_viewed',
      user_id: heavyId(h),
      item_id: String(1 + h),
    }));
    const posted = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: after }),
    });
    if (!posted.ok) throw new Error(`posting events failed: ${posted.status} ${await posted.text()}`);
    const health = (await (await fetch(`${server.url}/health`)).json()) as { primary_model?: string };
    // What the retrain chose (default selection: 'auto', within the scoring budget).
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as {
      serving?: { selection?: { chosen?: unknown } | null };
    };
    const selection = models.serving?.selection ?? null;
    const warmup = await openLoopLoad({ url: server.url, rate: RATE, seconds: 5, path: plain });
    const plainResult = await measure(server, plain);
    const rulesResult = await measure(server, withRules);
    let experimentsResult: Record<string, unknown> | null = null;
    if (experiments) {
      await startTwoExperiments(server);
      experimentsResult = { experiments: ['ranker', 'banner'], ...(await measure(server, plain)) };
    }
    return {
      model: `ml-100k + ${HEAVY_USERS} users of ${HEAVY_EVENTS} events on ${HEAVY_ITEMS} movies each, serving ${health.primary_model ?? 'unknown'} (default engine configuration)`,
      cli,
      chosen: selection?.chosen ?? null,
      target_rate: RATE,
      seconds_per_run: SECONDS,
      ...plainResult,
      with_rules: { query: RULES, ...rulesResult },
      ...(experimentsResult === null ? {} : { with_two_experiments: experimentsResult }),
      warmup,
    };
  } finally {
    await server.stop();
  }
}

const current = await measureBuild(CLI, true);
// Another build (an earlier commit's dist/cli/main.js, say), measured the same way right after.
const baselineCli = process.env['ATTUNE_BENCH_BASELINE_CLI'];
const baseline = baselineCli === undefined ? null : await measureBuild(baselineCli, false);
console.log(
  JSON.stringify({
    bench: 'serve',
    ...current,
    ...(baseline === null ? {} : { baseline }),
    targets: { p99_ms: 10, rss_mb: 300, with_two_experiments_p99_ms: 5 },
  }),
);
