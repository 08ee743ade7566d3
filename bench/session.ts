/**
 * Session-aware real time on next-event prediction in the demo shop: does blending the current session into
 * the trained model's scores (`src/recommendations/session.ts`) predict the next viewed item better than the
 * trained model alone?
 *
 *   node --import tsx bench/session.ts [--seed 1] [--quick]     next-view quality (below)
 *   node --import tsx bench/session.ts --serve                   latency at 1,000 requests/s, sessions open
 *
 * Protocol. The demo timeline is cut at 80% of its length: the bundle (popularity, item-kNN, ALS; ALS primary,
 * as served by default) is trained on the events before the cut, then the events after it are replayed in
 * time order. Every `product_viewed` after the cut that is not its session's first item event is a query:
 * recommendations for its user at its time, from the user's events up to that moment (as serving sees them:
 * their whole history, events after training folded in), through the serving pipeline. The viewed item is the target;
 * hit-rate@10 and MRR@10 (reciprocal rank within the top 10, else 0) are averaged over queries.
 *
 * The session settings (weight, recency decay, similarity source) are chosen on a validation slice cut from
 * the training period alone: a bundle trained on the first 70% of the timeline, replayed over 70–80%. The
 * test replay is scored once per setting chosen there, never tuned on.
 *
 * Measured twice: with `exclude_seen` on (the serving default; a re-viewed item is then a miss for both) and
 * off (re-views can be predicted). stdout: one JSON object.
 */
import { CatalogIndex } from '../src/catalog/index.js';
import { generateDemoShop } from '../src/demo/index.js';
import { defaultFeedbackConfig, feedbackOf, type TrackedEvent } from '../src/events/index.js';
import {
  csrFromCoo,
  defaultParams,
  fitRecommender,
  type ModelName,
  type Recommender,
} from '../src/models/index.js';
import { runPipeline } from '../src/recommendations/pipeline.js';
import { buildProfile } from '../src/recommendations/profile.js';
import { defaultSessionConfig, type SessionConfig } from '../src/recommendations/session.js';
import { HistoryTables, UserHistory, type HistorySettings } from '../src/recommendations/user-history.js';
import { defaultStages } from '../src/recommendations/stages.js';
import { ModelBundle } from '../src/training/index.js';
import { openLoopLoad } from './load.js';
import { AUTH_HEADERS, benchFetch, median, runCli, startServer, tempDataDir } from './server.js';

const args = process.argv.slice(2);
const seed = Number(args[args.indexOf('--seed') + 1] ?? 1) || 1;
/** Fewer settings and every other query: a smoke run. */
const quick = args.includes('--quick');
const K = 10;
const feedback = defaultFeedbackConfig;

const started = performance.now();
const shop = generateDemoShop({ seed });
const { start, end } = shop.truth;
const at = (fraction: number): number => Math.floor(start + (end - start) * fraction);
const validationCut = at(0.7);
const testCut = at(0.8);
const catalog = new CatalogIndex(shop.items);

/** The bundle a training run at `cutoff` would produce: every event before it, aggregated as training does. */
async function trainBundle(cutoff: number): Promise<ModelBundle> {
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const rows: number[] = [];
  const cols: number[] = [];
  const values: number[] = [];
  const times: number[] = [];
  const indexOf = (ids: Map<string, number>, id: string): number => {
    let index = ids.get(id);
    if (index === undefined) ids.set(id, (index = ids.size));
    return index;
  };
  let eventsRead = 0;
  for (const event of shop.events) {
    if (event.receivedAt >= cutoff) break;
    eventsRead += 1;
    if (event.itemId === null) continue;
    const kind = feedbackOf(feedback, event);
    if (kind.kind !== 'positive' && kind.kind !== 'negative') continue;
    rows.push(indexOf(userIndex, event.userId));
    cols.push(indexOf(itemIndex, event.itemId));
    values.push(kind.kind === 'positive' ? kind.weight : -kind.weight);
    times.push(event.timestamp);
  }
  const summed = csrFromCoo({
    rows: userIndex.size,
    cols: itemIndex.size,
    rowIdx: Int32Array.from(rows),
    colIdx: Int32Array.from(cols),
    values: Float32Array.from(values),
    times: Float64Array.from(times),
  });
  // As training does: a pair the user turned down on balance is not learned as liked.
  const m = summed.matrix;
  const indptr = new Int32Array(m.rows + 1);
  const indices: number[] = [];
  const data: number[] = [];
  const kept: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.indptr[r]!; k < m.indptr[r + 1]!; k++) {
      if (m.data[k]! <= 0) continue;
      indices.push(m.indices[k]!);
      data.push(m.data[k]!);
      kept.push(summed.times?.[k] ?? 0);
    }
    indptr[r + 1] = indices.length;
  }
  const matrix = {
    rows: m.rows,
    cols: m.cols,
    indptr,
    indices: Int32Array.from(indices),
    data: Float32Array.from(data),
  };
  const input = { matrix, times: Float64Array.from(kept), now: cutoff };
  const models = new Map<ModelName, Recommender>();
  const fitSeconds: Partial<Record<ModelName, number>> = {};
  for (const name of ['popularity', 'itemknn', 'als'] as const) {
    const t0 = performance.now();
    models.set(name, await fitRecommender(name, input, defaultParams[name] as never, { threads: 2 }));
    fitSeconds[name] = (performance.now() - t0) / 1000;
  }
  const info = {
    version: 1,
    trainedAt: cutoff,
    // The shop's events are stored in this order, so the first `eventsRead` seqs are what was read.
    position: eventsRead,
    cutoff,
    primary: 'als' as const,
    eventsRead,
    users: matrix.rows,
    items: matrix.cols,
    interactions: matrix.data.length,
    fitSeconds,
  };
  return new ModelBundle(info, [...userIndex.keys()], [...itemIndex.keys()], models);
}

interface Query {
  readonly userId: string;
  readonly now: number;
  readonly target: string;
  /** The user's whole history before the query, as serving holds it. */
  readonly history: UserHistory;
}

const historySettings: HistorySettings = {
  feedback,
  windowMs: defaultSessionConfig.windowMs,
  windowEvents: defaultSessionConfig.windowEvents,
};

function sessionOf(event: TrackedEvent): string | undefined {
  const id = event.context['session_id'];
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** The next-view queries of events in [from, to), with each user's history up to that moment. */
function replay(from: number, to: number, every: number): Query[] {
  const tables = new HistoryTables();
  const histories = new Map<string, UserHistory>();
  /** The session of each user's latest item event: a view in the same session is not the first. */
  const lastSession = new Map<string, string | undefined>();
  const queries: Query[] = [];
  let candidates = 0;
  // The shop's events are stored in this order: an event's log position is its place in it.
  for (const [index, event] of shop.events.entries()) {
    if (event.timestamp >= to) break;
    const history = histories.get(event.userId) ?? UserHistory.empty(tables);
    const sessionId = sessionOf(event);
    if (
      event.timestamp >= from &&
      event.name === 'product_viewed' &&
      event.itemId !== null &&
      sessionId !== undefined &&
      lastSession.get(event.userId) === sessionId
    ) {
      if (candidates++ % every === 0) {
        queries.push({ userId: event.userId, now: event.timestamp, target: event.itemId, history });
      }
    }
    histories.set(event.userId, history.withEvents([{ event, position: index + 1 }], historySettings));
    if (event.itemId !== null) lastSession.set(event.userId, sessionId);
  }
  return queries;
}

interface Score {
  readonly queries: number;
  readonly [metric: `hit@${number}` | `mrr@${number}`]: number;
}

function evaluate(
  bundle: ModelBundle,
  queries: readonly Query[],
  session: SessionConfig,
  excludeSeen: boolean,
  /** When given, receives each request's time (profile + pipeline), in ms. */
  timings?: number[],
): Score {
  let hits = 0;
  let reciprocal = 0;
  for (const query of queries) {
    const t0 = performance.now();
    const profile = buildProfile(query.userId, query.history, bundle, { feedback, session });
    const request = {
      requestId: '',
      userId: query.userId,
      n: K,
      excludeSeen,
      filter: null,
      now: query.now,
    };
    const result = runPipeline(defaultStages, request, profile, bundle, catalog);
    timings?.push(performance.now() - t0);
    const rank = result.items.findIndex((item) => item.itemId === query.target);
    if (rank >= 0) {
      hits += 1;
      reciprocal += 1 / (rank + 1);
    }
  }
  const n = Math.max(1, queries.length);
  return {
    queries: queries.length,
    [`hit@${K}`]: round(hits / n),
    [`mrr@${K}`]: round(reciprocal / n),
  };
}

const round = (x: number): number => Math.round(x * 1e5) / 1e5;
const mrr = (score: Score): number => score[`mrr@${K}`] ?? 0;

const off: SessionConfig = { ...defaultSessionConfig, weight: 0 };
const weights = quick ? [0.25, 0.5, 1, 2] : [0.25, 0.5, 0.75, 1, 1.5, 2];
const decays = quick ? [0.5] : [0.25, 0.5, 0.75];
const sources: SessionConfig['similarity'][] = ['itemknn', 'als'];
const grid: SessionConfig[] = sources.flatMap((similarity) =>
  decays.flatMap((decay) =>
    weights.map((weight) => ({ ...defaultSessionConfig, similarity, decay, weight })),
  ),
);
const every = quick ? 2 : 1;

const settings = (config: SessionConfig) => ({
  weight: config.weight,
  decay: config.decay,
  similarity: config.similarity,
  maxItems: config.maxItems,
  neighbors: config.neighbors,
  windowMs: config.windowMs,
});

function percentiles(ms: number[]): { p50_ms: number; p99_ms: number; mean_ms: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { p50_ms: round(at(0.5)), p99_ms: round(at(0.99)), mean_ms: round(mean) };
}

/** The quality comparison: tune on validation, score the test replay once per chosen setting. */
async function quality(): Promise<void> {
  const validationBundle = await trainBundle(validationCut);
  const validationQueries = replay(validationCut, testCut, every);
  const testBundle = await trainBundle(testCut);
  const testQueries = replay(testCut, end, every);

  const results = [];
  for (const excludeSeen of [true, false]) {
    const tried = grid.map((config) => ({
      config,
      score: evaluate(validationBundle, validationQueries, config, excludeSeen),
    }));
    const validationModel = evaluate(validationBundle, validationQueries, off, excludeSeen);
    const best = tried.reduce((a, b) => (mrr(b.score) > mrr(a.score) ? b : a));
    const modelTimes: number[] = [];
    const sessionTimes: number[] = [];
    const model = evaluate(testBundle, testQueries, off, excludeSeen, modelTimes);
    const withSessionScore = evaluate(testBundle, testQueries, best.config, excludeSeen, sessionTimes);
    const withDefaults = evaluate(testBundle, testQueries, defaultSessionConfig, excludeSeen);
    results.push({
      exclude_seen: excludeSeen,
      chosen_on_validation: settings(best.config),
      validation: { model_only: validationModel, with_session: best.score },
      test: {
        model_only: model,
        with_session: withSessionScore,
        lift_hit: round(withSessionScore[`hit@${K}`]! / Math.max(1e-9, model[`hit@${K}`]!)),
        lift_mrr: round(mrr(withSessionScore) / Math.max(1e-9, mrr(model))),
      },
      test_with_default_config: withDefaults,
      // In-process cost of one request (profile + pipeline, ALS folding the user in), one thread.
      request_time: { model_only: percentiles(modelTimes), with_session: percentiles(sessionTimes) },
      validation_grid: tried.map(({ config, score }) => ({ ...settings(config), ...score })),
    });
  }

  process.stdout.write(
    `${JSON.stringify({
      bench: 'session-next-view',
      seed,
      quick,
      k: K,
      primary: 'als',
      events: shop.events.length,
      cuts: {
        validation_train_end: new Date(validationCut).toISOString(),
        test_train_end: new Date(testCut).toISOString(),
        end: new Date(end).toISOString(),
      },
      queries: { validation: validationQueries.length, test: testQueries.length },
      default_config: settings(defaultSessionConfig),
      results,
      seconds: round((performance.now() - started) / 1000),
    })}\n`,
  );
}

/**
 * Serving cost with sessions live: the real server (compiled code, `npm run build` first) on the demo shop
 * (loaded and trained through the CLI), 1,000 users each with three views in a session that is still open,
 * then `GET /v1/recommendations` for those users at 1,000 requests/s, open loop (`load.ts`).
 */
async function serving(): Promise<void> {
  const USERS = 1_000;
  const dataDir = tempDataDir('session-serve');
  await runCli(['demo', '--seed', String(seed)], dataDir);
  await runCli(['train'], dataDir);
  // Session quality of personalized lists: no global holdout (its users get popularity by design).
  const server = await startServer(dataDir, { ATTUNE_HOLDOUT: '0' });
  try {
    const users = shop.users.slice(0, USERS).map((user) => user.id);
    const now = Date.now();
    const events = users.flatMap((userId, u) =>
      [0, 1, 2].map((k) => ({
        event: 'product_viewed',
        user_id: userId,
        item_id: shop.items[(u * 37 + k * 11) % shop.items.length]!.id,
        timestamp: now - (3 - k) * 20_000,
        context: { session_id: `bench-${userId}` },
      })),
    );
    for (let b = 0; b < events.length; b += 1_000) {
      const reply = await benchFetch(`${server.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: events.slice(b, b + 1_000) }),
      });
      if (!reply.ok) throw new Error(`posting session events: ${reply.status} ${await reply.text()}`);
    }
    const path = (index: number): string =>
      `/v1/recommendations?user_id=${encodeURIComponent(users[index % USERS]!)}&n=10`;
    // Proof the stage is live: the reasons name the just-viewed items.
    const sample = (await (await benchFetch(`${server.url}${path(0)}`)).json()) as {
      items: { reason: string }[];
    };
    const sessionReasons = sample.items.filter((item) => item.reason.startsWith('Because you just')).length;
    const warmup = await openLoopLoad({
      url: server.url,
      rate: 1_000,
      seconds: 5,
      path,
      headers: AUTH_HEADERS,
    });
    const runs = [];
    for (let r = 0; r < 3; r++) {
      runs.push({
        ...(await openLoopLoad({ url: server.url, rate: 1_000, seconds: 20, path, headers: AUTH_HEADERS })),
        rssMb: Math.round(server.rssMb()),
      });
    }
    process.stdout.write(
      `${JSON.stringify({
        bench: 'session-serve',
        target_rate: 1_000,
        users_with_open_sessions: USERS,
        sample_session_reasons: sessionReasons,
        median_p99_ms: median(runs.map((run) => run.p99Ms)),
        median_p50_ms: median(runs.map((run) => run.p50Ms)),
        runs,
        warmup,
        targets: { p99_ms: 10 },
      })}\n`,
    );
  } finally {
    await server.stop();
  }
}

if (args.includes('--serve')) await serving();
else await quality();
