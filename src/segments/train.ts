/**
 * Segments of a feature table: the behavioural columns (`behavior.ts`) filled, log-transformed and
 * standardized, clustered with k-means (k by silhouette when not given) or DBSCAN (eps from the k-distance
 * knee when not given), and each segment described by the features that set it apart. Pure: a table in,
 * the artifact's data out; `from-store.ts` reads the table and saves the result.
 */
import type { FeatureSet, FeatureTable } from '../features/index.js';
import {
  defaultColumns,
  frequentValues,
  labelMap,
  median,
  namedColumns,
  transformed,
  type ColumnChoice,
  type SegmentColumn,
} from './behavior.js';
import { dbscan, suggestEps } from './dbscan.js';
import {
  composePhrases,
  DESCRIBE_DEFAULTS,
  describeSegments,
  type FeatureEffect,
  type FeaturePhrase,
} from './describe.js';
import { chooseK, kmeans, silhouetteScore, type KScore } from './kmeans.js';
import {
  SEGMENTS_FORMAT_VERSION,
  UNSEGMENTED,
  type DistinguishingFeature,
  type SegmentsArtifactData,
  type StoredClustering,
  type StoredSegment,
} from './model.js';

export interface SegmentTrainingOptions {
  readonly algorithm?: 'kmeans' | 'dbscan';
  /** k-means: a fixed k; else the best silhouette over `kRange`. */
  readonly k?: number;
  readonly kRange?: readonly number[];
  readonly eps?: number;
  /** DBSCAN: default 2 × the number of columns (Sander et al.'s rule of thumb), at least 3. */
  readonly minSamples?: number;
  /** Column names instead of the default behavioural subset. */
  readonly features?: readonly string[];
  readonly seed?: number;
  readonly nInit?: number;
  /** Rows the silhouette is computed on, at most. */
  readonly sampleSize?: number;
  readonly trainedAt: number;
}

export const SEGMENT_TRAINING_DEFAULTS = {
  kRange: [2, 3, 4, 5, 6, 7, 8, 9, 10],
  seed: 1,
  nInit: 4,
  sampleSize: 2_000,
  /** Words per description and features listed per segment. */
  describedFeatures: 3,
  listedFeatures: 5,
} as const;

/** Why segments could not be trained on these users (too few, no columns): the CLI prints it. */
export class SegmentTrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SegmentTrainingError';
  }
}

interface Matrix {
  readonly columns: readonly SegmentColumn[];
  readonly choices: readonly ColumnChoice[];
  /** n × d standardized, on shared memory (k-means' helper threads read it without a copy). */
  readonly data: Float64Array;
  /** n × d raw values with missing ones filled: what the segment means are reported in. */
  readonly raw: Float64Array;
  readonly dropped: readonly string[];
}

/** The clustered matrix of a table: columns chosen, fitted and applied. */
export function behaviouralMatrix(
  set: FeatureSet,
  table: FeatureTable,
  features?: readonly string[],
): Matrix {
  const n = table.ids.length;
  const explicit = features !== undefined && features.length > 0;
  const candidates = explicit
    ? namedColumns(set, features)
    : defaultColumns(set, (labelColumn) => frequentValues(table.labelColumns, table.labels, labelColumn));
  const width = table.columns.length;
  const numericAt = new Map(table.columns.map((name, k) => [name, k]));
  const labelAt = new Map(table.labelColumns.map((name, k) => [name, k]));
  const kept: { choice: ColumnChoice; column: SegmentColumn; raw: Float64Array }[] = [];
  const dropped: string[] = [];
  for (const choice of candidates) {
    const raw = new Float64Array(n);
    const { source } = choice;
    if (source.kind === 'numeric') {
      const k = numericAt.get(source.column);
      for (let i = 0; i < n; i++) raw[i] = k === undefined ? Number.NaN : table.values[i * width + k]!;
    } else {
      const k = labelAt.get(source.column);
      for (let i = 0; i < n; i++) {
        const value = k === undefined ? null : (table.labels[i]?.[k] ?? null);
        raw[i] = value === source.value ? 1 : 0;
      }
    }
    const middle = median(Array.from(raw));
    // A column missing for everybody reads as 0 (and is then constant).
    const fill = Number.isFinite(middle) ? middle : 0;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += transformed({ fill, log: choice.log }, raw[i]!);
    mean /= n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (transformed({ fill, log: choice.log }, raw[i]!) - mean) ** 2;
    const sd = Math.sqrt(squares / n);
    if (!explicit && !(sd > 0)) {
      dropped.push(choice.name);
      continue;
    }
    for (let i = 0; i < n; i++) if (!Number.isFinite(raw[i]!)) raw[i] = fill;
    kept.push({
      choice,
      column: {
        name: choice.name,
        source: choice.source,
        log: choice.log,
        fill,
        mean,
        scale: sd > 0 ? sd : 1,
        group: choice.group,
      },
      raw,
    });
  }
  const d = kept.length;
  if (d === 0) throw new SegmentTrainingError('no behavioural column varies between the users');
  const data = new Float64Array(new SharedArrayBuffer(n * d * 8));
  const raw = new Float64Array(n * d);
  kept.forEach(({ column, raw: values }, j) => {
    for (let i = 0; i < n; i++) {
      raw[i * d + j] = values[i]!;
      data[i * d + j] = (transformed(column, values[i]!) - column.mean) / column.scale;
    }
  });
  return {
    columns: kept.map((k) => k.column),
    choices: kept.map((k) => k.choice),
    data,
    raw,
    dropped,
  };
}

/** Clusters a feature table's users and describes the segments. */
export function trainSegmentsOnTable(
  set: FeatureSet,
  table: FeatureTable,
  at: number,
  options: SegmentTrainingOptions,
): SegmentsArtifactData {
  const n = table.ids.length;
  if (n < 3) throw new SegmentTrainingError(`${n} users with events before the time: too few to segment`);
  const matrix = behaviouralMatrix(set, table, options.features);
  const d = matrix.columns.length;
  const seed = options.seed ?? SEGMENT_TRAINING_DEFAULTS.seed;
  const sampleSize = options.sampleSize ?? SEGMENT_TRAINING_DEFAULTS.sampleSize;
  const { labels, clustering } = cluster(matrix.data, n, d, options, seed, sampleSize);
  const segments = describe(matrix, n, labels);
  return {
    format: SEGMENTS_FORMAT_VERSION,
    trainedAt: options.trainedAt,
    at,
    users: n,
    columns: matrix.columns,
    dropped: matrix.dropped,
    clustering,
    segments,
    silhouette: silhouetteOf(matrix.data, n, d, labels, sampleSize, seed),
  };
}

function cluster(
  data: Float64Array,
  n: number,
  d: number,
  options: SegmentTrainingOptions,
  seed: number,
  sampleSize: number,
): { labels: Int32Array; clustering: StoredClustering } {
  const nInit = options.nInit ?? SEGMENT_TRAINING_DEFAULTS.nInit;
  if ((options.algorithm ?? 'kmeans') === 'kmeans') {
    let scores: KScore[];
    let result;
    if (options.k !== undefined) {
      if (options.k > n) throw new SegmentTrainingError(`--k ${options.k} is above the ${n} users`);
      result = kmeans(data, n, d, { k: options.k, seed, nInit });
      const silhouette = options.k >= 2 ? silhouetteOf(data, n, d, result.labels, sampleSize, seed) : null;
      scores = [{ k: options.k, silhouette: silhouette ?? Number.NaN, inertia: result.inertia }];
    } else {
      const range = (options.kRange ?? SEGMENT_TRAINING_DEFAULTS.kRange).filter((k) => k >= 2 && k <= n - 1);
      if (range.length === 0) throw new SegmentTrainingError(`no k in the range fits ${n} users`);
      const choice = chooseK(data, n, d, range, seed, { nInit, sampleSize });
      result = choice.result;
      scores = [...choice.scores];
    }
    return {
      labels: result.labels,
      clustering: {
        algorithm: 'kmeans',
        k: result.centers.length / d,
        centers: Array.from(result.centers),
        scores,
        inertia: result.inertia,
      },
    };
  }
  const minSamples = options.minSamples ?? Math.max(3, 2 * d);
  if (minSamples > n) throw new SegmentTrainingError(`--min-samples ${minSamples} is above the ${n} users`);
  const eps = options.eps ?? suggestEps(data, n, d, minSamples).eps;
  const result = dbscan(data, n, d, { eps, minSamples });
  const cores: number[] = [];
  const coreLabels: number[] = [];
  for (let i = 0; i < n; i++) {
    if (result.core[i] !== 1) continue;
    for (let j = 0; j < d; j++) cores.push(data[i * d + j]!);
    coreLabels.push(result.labels[i]!);
  }
  return {
    labels: result.labels,
    clustering: {
      algorithm: 'dbscan',
      eps,
      minSamples,
      epsSuggested: options.eps === undefined,
      cores,
      coreLabels,
    },
  };
}

/** The mean silhouette of the clustered rows (noise left out); null under two clusters. */
function silhouetteOf(
  data: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  sampleSize: number,
  seed: number,
): number | null {
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (labels[i]! >= 0) rows.push(i);
  const distinct = [...new Set(rows.map((i) => labels[i]!))].sort((a, b) => a - b);
  if (distinct.length < 2 || distinct.length > rows.length - 1) return null;
  const dense = new Map(distinct.map((label, c) => [label, c]));
  const sub = new Float64Array(rows.length * d);
  const subLabels = new Int32Array(rows.length);
  rows.forEach((i, r) => {
    sub.set(data.subarray(i * d, i * d + d), r * d);
    subLabels[r] = dense.get(labels[i]!)!;
  });
  return silhouetteScore(sub, rows.length, d, subLabels, distinct.length, sampleSize, seed);
}

/**
 * Each segment in words. The describer ranks every feature by its one-vs-rest effect; from those, at most
 * three are named, skipping the low side of a group whose high side also sets the segment apart (with
 * mobile and desktop shares summing to one, "mobile" already says "rarely on desktop"). The text is then
 * the describer's own composition of exactly those features.
 */
function describe(matrix: Matrix, n: number, labels: Int32Array): StoredSegment[] {
  const d = matrix.columns.length;
  const columns = matrix.columns.map((c) => c.name);
  const words = labelMap(matrix.choices);
  const group = new Map(matrix.columns.map((c) => [c.name, c.group]));
  const names = new Map(matrix.choices.map((c) => [c.name, c.label.name ?? c.name]));
  const choices = new Map(matrix.choices.map((c) => [c.name, c]));
  // The label's phrase for the side the segment is on (the describer's default when it has none).
  const phraseOf = (f: FeatureEffect): FeaturePhrase => {
    const label = choices.get(f.column)?.label ?? {};
    const name = label.name ?? f.column;
    return f.effect > 0 ? (label.high ?? `high ${name}`) : (label.low ?? `low ${name}`);
  };
  const all = describeSegments(matrix.data, n, d, labels, {
    columns,
    labels: words,
    top: d,
    minEffect: DESCRIBE_DEFAULTS.minEffect,
  });
  const rawMeans = segmentMeans(matrix.raw, n, d, labels);
  const described = all.map((segment) => {
    const highGroups = new Set(segment.features.filter((f) => f.effect > 0).map((f) => group.get(f.column)));
    const ranked = segment.features.filter((f) => f.effect > 0 || !highGroups.has(group.get(f.column)));
    const named = ranked.slice(0, SEGMENT_TRAINING_DEFAULTS.describedFeatures);
    // A segment set apart by what kind of customer it is still says whether they buy: the feature giving
    // the noun joins the named ones when it sets the segment apart at all.
    const noun = ranked.find((f) => hasNoun(phraseOf(f)));
    if (noun !== undefined && !named.some((f) => hasNoun(phraseOf(f)))) named.push(noun);
    const text = composeDescription(named.map(phraseOf));
    const means = rawMeans.get(segment.label)!;
    const features = ranked
      .slice(0, SEGMENT_TRAINING_DEFAULTS.listedFeatures)
      .map((f): DistinguishingFeature => {
        const j = columns.indexOf(f.column);
        return {
          column: f.column,
          name: names.get(f.column) ?? f.column,
          direction: f.effect > 0 ? 'higher' : 'lower',
          effect: f.effect,
          segmentMean: means.segment[j]!,
          restMean: means.rest[j]!,
          phrase: f.phrase,
        };
      });
    return { label: segment.label, size: segment.size, share: segment.share, text, features };
  });
  // Ids by size, largest first (ties by label), noise apart: `seg-1` is the biggest segment.
  const order = described.filter((s) => s.label >= 0).sort((a, b) => b.size - a.size || a.label - b.label);
  const noise = described.find((s) => s.label < 0);
  const segments: StoredSegment[] = order.map((s, rank) => ({
    id: `seg-${rank + 1}`,
    label: s.label,
    size: s.size,
    share: s.share,
    description: s.text,
    features: s.features,
  }));
  if (noise !== undefined) {
    segments.push({
      id: UNSEGMENTED,
      label: -1,
      size: noise.size,
      share: noise.share,
      description: `near no segment (${noise.text})`,
      features: noise.features,
    });
  }
  return segments;
}

/**
 * The words of the named features as one phrase, as the describer composes them (words before a noun,
 * the noun, words after it, then the asides after commas), with one difference of order: the feature that
 * gives the noun (purchase frequency: "buyers", "browsers") goes first, so that its adjective leads —
 * "frequent mobile buyers", not "mobile frequent buyers".
 */
export function composeDescription(phrases: readonly FeaturePhrase[]): string {
  const ordered = [...phrases.filter(hasNoun), ...phrases.filter((p) => !hasNoun(p))];
  return composePhrases(ordered, DESCRIBE_DEFAULTS.noun);
}

function hasNoun(phrase: FeaturePhrase): boolean {
  return typeof phrase !== 'string' && phrase.noun !== undefined;
}

/** Per label, each column's mean in the segment and in the rest. */
function segmentMeans(
  raw: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
): Map<number, { segment: Float64Array; rest: Float64Array }> {
  const totals = new Float64Array(d);
  const sums = new Map<number, { sum: Float64Array; size: number }>();
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    let entry = sums.get(label);
    if (entry === undefined) {
      entry = { sum: new Float64Array(d), size: 0 };
      sums.set(label, entry);
    }
    entry.size++;
    for (let j = 0; j < d; j++) {
      entry.sum[j]! += raw[i * d + j]!;
      totals[j]! += raw[i * d + j]!;
    }
  }
  const out = new Map<number, { segment: Float64Array; rest: Float64Array }>();
  for (const [label, { sum, size }] of sums) {
    out.set(label, {
      segment: sum.map((s) => s / size),
      rest: sum.map((s, j) => (n > size ? (totals[j]! - s) / (n - size) : Number.NaN)),
    });
  }
  return out;
}
