import { ConsentFilter } from '../../privacy/index.js';
import { performance } from 'node:perf_hooks';
import {
  dbscan,
  DBSCAN_DEFAULTS,
  kmeans,
  KMEANS_DEFAULTS,
  numericMatrix,
  suggestEps,
  type NumericMatrix,
} from '../../segments/index.js';
import { parseTime } from '../../features/index.js';
import { trainSegments } from '../../segments/index.js';
import { parseCsv } from '../../shared/csv.js';
import { openStore } from '../../store/index.js';
import { cliEngineConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { count, score, seconds, summary } from '../format.js';
import { readInputFile } from '../input-file.js';
import { existingDataDir } from '../options.js';
import { createProgress } from '../progress.js';
import { withScanProgress } from '../store-progress.js';
import { formatTable } from '../table.js';
import { parseColumnList } from './churn.js';

export const SEGMENT_ALGORITHMS = ['kmeans', 'dbscan'] as const;
export type SegmentAlgorithm = (typeof SEGMENT_ALGORITHMS)[number];

export interface SegmentsEvaluateOptions {
  /** A customer table; its numeric columns are clustered. */
  readonly input: string;
  /** kmeans when absent. */
  readonly algorithm?: SegmentAlgorithm;
  /** k-means only, and required there. */
  readonly k?: number;
  readonly standardize: boolean;
  readonly seed: number;
  readonly nInit: number;
  /** DBSCAN only; absent: suggested from the k-distance curve. */
  readonly eps?: number;
  /** DBSCAN only; scikit-learn's 5 when absent. */
  readonly minSamples?: number;
}

/** What `attune segments evaluate` prints for k-means: one JSON line, comparable with scikit-learn's numbers. */
export interface SegmentsEvaluation {
  readonly inertia: number;
  readonly iterations: number;
  /** Fitting only: not reading or parsing the file. */
  readonly seconds: number;
  readonly k: number;
  readonly rows: number;
  readonly columns: readonly string[];
}

/** What it prints for DBSCAN. */
export interface DbscanEvaluation {
  readonly algorithm: 'dbscan';
  readonly clusters: number;
  /** Rows labelled noise. */
  readonly noise: number;
  /** Core rows. */
  readonly core: number;
  /** Clustering only: not reading the file, nor suggesting eps. */
  readonly seconds: number;
  readonly eps: number;
  readonly minSamples: number;
  /** When --eps was not given: the knee of the k-distance curve (equal to `eps`), and what finding it took. */
  readonly suggestedEps?: number;
  readonly suggestSeconds?: number;
  readonly rows: number;
  readonly columns: readonly string[];
}

export const SEGMENTS_DEFAULTS = {
  seed: KMEANS_DEFAULTS.seed,
  nInit: KMEANS_DEFAULTS.nInit,
  minSamples: DBSCAN_DEFAULTS.minSamples,
} as const;

/**
 * The options that belong to the other algorithm are refused rather than ignored: `--eps` with k-means
 * would otherwise look as if it had done something.
 */
function checkOptions(options: Omit<SegmentsEvaluateOptions, 'input'>): void {
  if ((options.algorithm ?? 'kmeans') === 'kmeans') {
    if (options.k === undefined) throw new UsageError('--k is required with --algorithm kmeans');
    if (options.eps !== undefined || options.minSamples !== undefined) {
      throw new UsageError('--eps and --min-samples apply to --algorithm dbscan only');
    }
  } else if (options.k !== undefined) {
    throw new UsageError('--k applies to --algorithm kmeans only; DBSCAN finds the number of clusters');
  }
}

function matrixOf(text: string, standardize: boolean): NumericMatrix {
  const matrix = numericMatrix(parseCsv(text), { standardize });
  if (matrix.columns.length === 0) throw new Error('no numeric column to cluster');
  if (matrix.rows === 0) throw new Error('no row without a blank in the numeric columns');
  return matrix;
}

/** Clusters the file's numeric columns with k-means and returns the fit's summary. */
export function evaluateSegments(
  text: string,
  options: Omit<SegmentsEvaluateOptions, 'input' | 'algorithm'> & { readonly k: number },
): SegmentsEvaluation {
  const matrix = matrixOf(text, options.standardize);
  const start = performance.now();
  const result = kmeans(matrix.data, matrix.rows, matrix.columns.length, {
    k: options.k,
    seed: options.seed,
    nInit: options.nInit,
  });
  const seconds = (performance.now() - start) / 1000;
  return {
    inertia: result.inertia,
    iterations: result.iterations,
    seconds,
    k: options.k,
    rows: matrix.rows,
    columns: matrix.columns,
  };
}

/** Clusters the file's numeric columns with DBSCAN, eps suggested when not given. */
export function evaluateDbscan(
  text: string,
  options: { readonly standardize: boolean; readonly eps?: number; readonly minSamples?: number },
): DbscanEvaluation {
  const matrix = matrixOf(text, options.standardize);
  const d = matrix.columns.length;
  const minSamples = options.minSamples ?? DBSCAN_DEFAULTS.minSamples;
  let suggested: { suggestedEps: number; suggestSeconds: number } | undefined;
  if (options.eps === undefined) {
    if (minSamples > matrix.rows)
      throw new Error(`--min-samples ${minSamples} is above the ${matrix.rows} rows`);
    const start = performance.now();
    const { eps } = suggestEps(matrix.data, matrix.rows, d, minSamples);
    suggested = { suggestedEps: eps, suggestSeconds: (performance.now() - start) / 1000 };
  }
  const eps = options.eps ?? suggested!.suggestedEps;
  const start = performance.now();
  const result = dbscan(matrix.data, matrix.rows, d, { eps, minSamples });
  const seconds = (performance.now() - start) / 1000;
  return {
    algorithm: 'dbscan',
    clusters: result.clusters,
    noise: result.noise,
    core: result.coreCount,
    seconds,
    eps,
    minSamples,
    ...suggested,
    rows: matrix.rows,
    columns: matrix.columns,
  };
}

/** `attune segments evaluate`: a summary, or with `json` one JSON line, on stdout. */
export async function segmentsEvaluate(
  options: SegmentsEvaluateOptions & { readonly json?: boolean },
): Promise<void> {
  checkOptions(options);
  const text = await readInputFile(options.input);
  let evaluation: SegmentsEvaluation | DbscanEvaluation;
  try {
    evaluation =
      options.algorithm === 'dbscan'
        ? evaluateDbscan(text, options)
        : evaluateSegments(text, { ...options, k: options.k! });
  } catch (error) {
    // Everything that goes wrong here is about the file's content (a CsvError, k above its rows…): name it.
    if (error instanceof Error) {
      throw new Error(`${options.input}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  process.stdout.write(
    options.json === true ? `${JSON.stringify(evaluation)}\n` : evaluationSummary(options.input, evaluation),
  );
}

function evaluationSummary(input: string, e: SegmentsEvaluation | DbscanEvaluation): string {
  const data = `${count(e.rows)} rows · ${e.columns.length} numeric columns (${e.columns.join(', ')})`;
  if ('algorithm' in e) {
    return summary(`DBSCAN on ${input}: ${e.clusters} clusters, ${count(e.noise)} noise rows`, [
      [
        'eps',
        `${+e.eps.toPrecision(4)}${e.suggestedEps === undefined ? '' : ' (the knee of the k-distance curve)'}`,
      ],
      ['min samples', String(e.minSamples)],
      ['core rows', count(e.core)],
      ['data', data],
      ['time', seconds(e.seconds + (e.suggestSeconds ?? 0))],
    ]);
  }
  return summary(`k-means on ${input}: k = ${e.k}`, [
    ['inertia', e.inertia.toPrecision(6)],
    ['iterations', String(e.iterations)],
    ['data', data],
    ['time', seconds(e.seconds)],
  ]);
}

// --- segments of the store's users --------------------------------------------------------------------

/** `attune segments train`'s options, as Commander parsed them. */
export interface SegmentsTrainOptions {
  readonly dataDir?: string;
  readonly algorithm: SegmentAlgorithm;
  readonly k?: number;
  /** `2..10`. */
  readonly kRange?: string;
  readonly eps?: number;
  readonly minSamples?: number;
  /** Comma-separated feature columns; default the behavioural subset (docs/guide.md, "Segments"). */
  readonly features?: string;
  /** The time features are read at (ISO 8601 or epoch ms); default now. */
  readonly at?: string;
  readonly seed: number;
  readonly nInit: number;
  /** One JSON line (the stored version's record) instead of the summary. */
  readonly json?: boolean;
}

/** `--k-range 2..10` → [2, …, 10]. */
export function parseKRange(text: string): number[] {
  const match = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/.exec(text);
  const low = Number(match?.[1]);
  const high = Number(match?.[2]);
  if (match === null || low < 2 || high < low || high > 100) {
    throw new UsageError(`--k-range must be LOW..HIGH with 2 ≤ LOW ≤ HIGH ≤ 100, got "${text}"`);
  }
  return Array.from({ length: high - low + 1 }, (_, i) => low + i);
}

function checkTrainOptions(options: SegmentsTrainOptions): void {
  if (options.algorithm === 'kmeans') {
    if (options.k !== undefined && options.kRange !== undefined)
      throw new UsageError('give --k or --k-range, not both');
    if (options.k !== undefined && options.k < 2) throw new UsageError('--k must be at least 2');
    if (options.eps !== undefined || options.minSamples !== undefined) {
      throw new UsageError('--eps and --min-samples apply to --algorithm dbscan only');
    }
  } else if (options.k !== undefined || options.kRange !== undefined) {
    throw new UsageError(
      '--k and --k-range apply to --algorithm kmeans only; DBSCAN finds the number of clusters',
    );
  }
}

/**
 * `attune segments train`: every user's behavioural features at `--at`, clustered and described, saved as
 * a new `segments` version that a running engine picks up on its next poll; one JSON line on stdout.
 */
export async function segmentsTrain(options: SegmentsTrainOptions): Promise<void> {
  checkTrainOptions(options);
  const started = performance.now();
  const at = options.at === undefined ? Date.now() : parseTime(options.at, '--at');
  const features = parseColumnList(options.features);
  const dir = existingDataDir(options.dataDir);
  const config = cliEngineConfig(dir);
  const store = await openStore(config.storeUrl);
  const progress = createProgress();
  let result: Awaited<ReturnType<typeof trainSegments>>;
  try {
    result = await trainSegments(
      await withScanProgress(store, progress),
      config.features,
      at,
      {
        algorithm: options.algorithm,
        trainedAt: Date.now(),
        seed: options.seed,
        nInit: options.nInit,
        ...(options.k === undefined ? {} : { k: options.k }),
        ...(options.kRange === undefined ? {} : { kRange: parseKRange(options.kRange) }),
        ...(options.eps === undefined ? {} : { eps: options.eps }),
        ...(options.minSamples === undefined ? {} : { minSamples: options.minSamples }),
        ...(features.length === 0 ? {} : { features }),
      },
      await ConsentFilter.read(store, config.defaultConsent),
    );
  } finally {
    progress.stop();
    await store.close();
  }
  const { version, data } = result;
  const clustering = data.clustering;
  if (options.json !== true) {
    const rows = [
      ['segment', 'users', 'share', 'description'],
      ...data.segments.map((s) => [
        String(s.id),
        count(s.size),
        `${(s.share * 100).toFixed(1)}%`,
        s.description,
      ]),
    ];
    const how =
      clustering.algorithm === 'kmeans'
        ? `k-means, k = ${clustering.k}${options.k === undefined ? ' (the best silhouette)' : ''}`
        : `DBSCAN, eps ${+clustering.eps.toPrecision(4)}, min samples ${clustering.minSamples}`;
    process.stdout.write(
      summary(
        `trained segments version ${version} in ${seconds((performance.now() - started) / 1000)}: ` +
          `${data.segments.length} segments of ${count(data.users)} users`,
        [
          ['clustering', how],
          ['silhouette', data.silhouette === null ? null : score(data.silhouette)],
          ['features', data.columns.map((c) => c.name).join(', ')],
          ['read at', new Date(data.at).toISOString()],
          ['saved', `segments version ${version} in ${dir}; a server picks it up on its next poll`],
        ],
      ) + `\n${formatTable(rows).join('\n')}\n`,
    );
    return;
  }
  process.stdout.write(
    `${JSON.stringify({
      version,
      algorithm: clustering.algorithm,
      at: new Date(data.at).toISOString(),
      trained_at: new Date(data.trainedAt).toISOString(),
      users: data.users,
      silhouette: data.silhouette,
      ...(clustering.algorithm === 'kmeans'
        ? { k: clustering.k, inertia: clustering.inertia, k_scores: clustering.scores }
        : {
            eps: clustering.eps,
            eps_suggested: clustering.epsSuggested,
            min_samples: clustering.minSamples,
            core_points: clustering.coreLabels.length,
          }),
      columns: data.columns.map((c) => c.name),
      dropped: data.dropped,
      segments: data.segments.map((s) => ({
        id: s.id,
        size: s.size,
        share: Number(s.share.toFixed(4)),
        description: s.description,
        features: s.features.map((f) => ({
          column: f.column,
          direction: f.direction,
          effect: Number(f.effect.toFixed(3)),
        })),
      })),
    })}\n`,
  );
}
