import { DAY_MS, HOUR_MS, timelineStart, type DecisionTimeline } from '../decisions/timeline.js';
import { CLICK_EVENT_NAMES, IMPRESSION_EVENT_NAMES } from '../experiments/metrics/index.js';
import { clickThroughInWorker } from './click-through.js';
import { experimentTimeline, type ExperimentTimeline } from '../experiments/timeline.js';
import { HOLDOUT } from '../experiments/index.js';
import { fitPca2, project } from '../segments/projection.js';
import type { SegmentModel } from '../segments/index.js';
import type { JsonValue } from '../shared/types.js';
import type { ArtifactInfo, ServedListClicks } from '../store/index.js';
import type { BundleInfo, SelectionRecord, RerankingRecord } from '../training/index.js';
import { storedPosition } from '../training/index.js';
import type { Engine, TrainingState } from './engine.js';

/*
 * What the dashboard shows beyond the ordinary routes: activity over time, every model version with what
 * selection tried, an experiment's days, a 2-D map of segments, a decision point's hours. Each reads the
 * store's activity tables (`store/sqlite-activity.ts`) or one existing computation (the experiment report);
 * none keeps state of its own but a half-minute memory of click-through.
 */

const MINUTE_MS = 60_000;

export interface CountSeries {
  /** Bucket starts, oldest first. */
  readonly starts: readonly number[];
  readonly counts: readonly number[];
}

export interface Overview {
  readonly asOf: number;
  readonly perMinute: CountSeries;
  readonly perDay: CountSeries;
  readonly activeUsers: { readonly hour: number; readonly day: number; readonly week: number };
  readonly clickThrough: {
    readonly at: number;
    readonly day: ServedListClicks;
    readonly week: ServedListClicks;
  };
  readonly totals: { readonly events: number; readonly users: number; readonly items: number };
  readonly serving: BundleInfo | null;
  readonly choice: { readonly model: string; readonly params: JsonValue } | null;
  readonly training: TrainingState;
  readonly store: string;
}

/** Events per minute (last hour) and per UTC day (last 30), active users, click-through, totals. */
export async function dashboardOverview(engine: Engine): Promise<Overview> {
  const now = engine.now();
  const store = engine.store;
  // Lists still buffered by the impression log count too.
  await engine.flushLogs();
  const minuteFrom = (Math.floor(now / MINUTE_MS) - 59) * MINUTE_MS;
  const dayFrom = (Math.floor(now / DAY_MS) - 29) * DAY_MS;
  const [perMinute, perDay, hour, day, week, ctr, { events, users }, items] = await Promise.all([
    store.eventCounts(minuteFrom, now + 1, MINUTE_MS),
    store.eventCounts(dayFrom, now + 1, DAY_MS),
    store.activeUsers(now - HOUR_MS),
    store.activeUsers(now - DAY_MS),
    store.activeUsers(now - 7 * DAY_MS),
    clickThrough(engine, now),
    store.activityTotals(),
    store.countItems(),
  ]);
  const series = (from: number, width: number, counts: number[]): CountSeries => ({
    starts: counts.map((_, k) => from + k * width),
    counts,
  });
  return {
    asOf: now,
    perMinute: series(minuteFrom, MINUTE_MS, perMinute),
    perDay: series(dayFrom, DAY_MS, perDay),
    activeUsers: { hour, day, week },
    clickThrough: ctr,
    totals: { events, users, items },
    serving: engine.servingBundle,
    choice: engine.servingChoice(),
    training: engine.trainingState,
    store: store.backend,
  };
}

/**
 * Click-through is the overview's one read that grows with traffic (each list served in the week, and its
 * user's events since; seconds on a store of millions of events), so it runs on a worker thread
 * (`click-through.ts`) and is kept for `CLICK_THROUGH_TTL_MS` of the engine's clock: a day's or a week's
 * rate need not be fresher. Past that, the overview answers with the last value at once (its `as_of` says
 * when it was computed) while one refresh runs; only the very first overview waits for it.
 */
export const CLICK_THROUGH_TTL_MS = 30_000;

interface ClickThroughValue {
  readonly at: number;
  readonly day: ServedListClicks;
  readonly week: ServedListClicks;
}

interface ClickThroughState {
  last: ClickThroughValue | null;
  refreshing: Promise<ClickThroughValue> | null;
}

const clickThroughState = new WeakMap<Engine, ClickThroughState>();

async function clickThrough(engine: Engine, now: number): Promise<ClickThroughValue> {
  let state = clickThroughState.get(engine);
  if (state === undefined) {
    state = { last: null, refreshing: null };
    clickThroughState.set(engine, state);
  }
  const { last } = state;
  if (last !== null && now >= last.at && now - last.at < CLICK_THROUGH_TTL_MS) return last;
  const current = state;
  current.refreshing ??= clickThroughInWorker({
    storeUrl: engine.config.storeUrl,
    since: [now - DAY_MS, now - 7 * DAY_MS],
    until: now + 1,
    clickNames: CLICK_EVENT_NAMES,
    ignoredNames: IMPRESSION_EVENT_NAMES,
  })
    .then(([day, week]): ClickThroughValue => {
      const value = { at: now, day: day!, week: week! };
      current.last = value;
      return value;
    })
    .finally(() => {
      current.refreshing = null;
    });
  if (last !== null) {
    // Answered from the last value; a failed refresh is tried again by the next overview.
    current.refreshing.catch(() => undefined);
    return last;
  }
  return current.refreshing;
}

/** A stored model version as its metadata tells it (older versions record less: absent is null). */
export interface StoredModelVersion {
  readonly version: number;
  readonly createdAt: number;
  readonly bytes: number;
  readonly position: number;
  readonly trainedAt: number | null;
  readonly primary: string | null;
  readonly eventsRead: number | null;
  readonly users: number | null;
  readonly items: number | null;
  readonly interactions: number | null;
  readonly fitSeconds: Readonly<Record<string, number>>;
  readonly selection: SelectionRecord | null;
  readonly reranking: RerankingRecord | null;
}

/** Every stored bundle version, newest first, with what its training recorded (`training/bundle.ts`). */
export async function modelVersions(engine: Engine): Promise<StoredModelVersion[]> {
  return (await engine.listBundles()).map(storedModelVersion);
}

function storedModelVersion(info: ArtifactInfo): StoredModelVersion {
  // The metadata is the run's `TrainedInfo` as JSON; versions from older builds lack later fields.
  const meta = isRecord(info.meta) ? info.meta : {};
  const num = (key: string) => {
    const v = meta[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const fit = meta['fitSeconds'];
  const fitSeconds: Record<string, number> = {};
  if (isRecord(fit)) for (const [k, v] of Object.entries(fit)) if (typeof v === 'number') fitSeconds[k] = v;
  const selection = meta['selection'];
  const reranking = meta['reranking'];
  return {
    version: info.version,
    createdAt: info.createdAt,
    bytes: info.bytes,
    position: storedPosition(info.meta),
    trainedAt: num('trainedAt'),
    primary: typeof meta['primary'] === 'string' ? meta['primary'] : null,
    eventsRead: num('eventsRead'),
    users: num('users'),
    items: num('items'),
    interactions: num('interactions'),
    fitSeconds,
    selection:
      isRecord(selection) && Array.isArray(selection['tried'])
        ? (selection as unknown as SelectionRecord)
        : null,
    reranking:
      isRecord(reranking) && typeof reranking['chosen'] === 'boolean'
        ? (reranking as unknown as RerankingRecord)
        : null,
  };
}

function isRecord(value: JsonValue | undefined): value is { readonly [key: string]: JsonValue } {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

/** An experiment's (or the holdout's) daily series, from the report the results route computes. */
export async function dashboardExperimentTimeline(engine: Engine, id: string): Promise<ExperimentTimeline> {
  const report = await engine.experimentReport(id, { estimates: true });
  const experiment = id === HOLDOUT ? undefined : engine.experiments.get(id);
  return experimentTimeline(report, experiment?.variants.map((v) => v.name) ?? []);
}

/** A decision point's last `count` hours or days (404 `DecisionPointError` for an unknown point). */
export async function dashboardDecisionTimeline(
  engine: Engine,
  id: string,
  bucket: 'hour' | 'day',
  count: number,
): Promise<DecisionTimeline> {
  const point = engine.decisions.get(id);
  await engine.flushLogs();
  const bucketMs = bucket === 'hour' ? HOUR_MS : DAY_MS;
  return engine.store.decisionActivity(
    point.id,
    timelineStart(engine.now(), bucketMs, count),
    bucketMs,
    count,
  );
}

export interface SegmentProjection {
  readonly model: SegmentModel;
  readonly explained: readonly [number, number];
  readonly points: readonly {
    readonly userId: string;
    readonly x: number;
    readonly y: number;
    readonly segment: string;
  }[];
  readonly centres: readonly { readonly segment: string; readonly x: number; readonly y: number }[];
}

/**
 * The most recently active users (up to `limit`) placed by the serving segmentation on their online
 * features now, projected with their segments' centres on the sample's first two principal axes. Users
 * whose consent withholds personalization, and users without features, are left out. Null without a
 * segmentation.
 */
export async function segmentProjection(engine: Engine, limit: number): Promise<SegmentProjection | null> {
  const model = engine.segments;
  if (model === null) return null;
  const d = model.data.columns.length;
  const users = await engine.store.recentUsers({ limit });
  const ids: string[] = [];
  const rows = new Float64Array(users.length * d);
  const segments: string[] = [];
  for (const { userId } of users) {
    const features = await engine.userFeatures(userId);
    if (!('user' in features)) continue;
    const x = model.vector(features.user);
    rows.set(x, ids.length * d);
    segments.push(model.assign(x).segment.id);
    ids.push(userId);
  }
  const pca = fitPca2(rows.subarray(0, ids.length * d), ids.length, d);
  const points = ids.map((userId, i) => {
    const [x, y] = project(pca, rows.subarray(i * d, (i + 1) * d));
    return { userId, x, y, segment: segments[i]! };
  });
  return { model, explained: pca.explained, points, centres: segmentCentres(model, (v) => project(pca, v)) };
}

/** k-means: each centre; DBSCAN: the mean of each cluster's core points. In segment order. */
function segmentCentres(
  model: SegmentModel,
  place: (v: Float64Array) => [number, number],
): { segment: string; x: number; y: number }[] {
  const c = model.data.clustering;
  const d = model.data.columns.length;
  const out: { segment: string; x: number; y: number }[] = [];
  for (const segment of model.data.segments) {
    const centre = new Float64Array(d);
    if (c.algorithm === 'kmeans') {
      if (segment.label < 0 || segment.label >= c.k) continue;
      for (let j = 0; j < d; j++) centre[j] = c.centers[segment.label * d + j]!;
    } else {
      let n = 0;
      c.coreLabels.forEach((label, p) => {
        if (label !== segment.label) return;
        for (let j = 0; j < d; j++) centre[j]! += c.cores[p * d + j]!;
        n++;
      });
      if (n === 0) continue;
      for (let j = 0; j < d; j++) centre[j]! /= n;
    }
    const [x, y] = place(centre);
    out.push({ segment: segment.id, x, y });
  }
  return out;
}
