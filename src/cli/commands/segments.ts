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
import { parseCsv } from '../../shared/csv.js';
import { readInputFile } from '../input-file.js';

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

/** Commander's parser for a finite number above 0 (`--eps`). */
export function positiveNumber(name: string) {
  return (value: string): number => {
    const number = value.trim() === '' ? Number.NaN : Number(value);
    if (!(Number.isFinite(number) && number > 0))
      throw new Error(`${name} must be a positive number, got "${value}"`);
    return number;
  };
}

/**
 * The options that belong to the other algorithm are refused rather than ignored: `--eps` with k-means
 * would otherwise look as if it had done something.
 */
function checkOptions(options: Omit<SegmentsEvaluateOptions, 'input'>): void {
  if ((options.algorithm ?? 'kmeans') === 'kmeans') {
    if (options.k === undefined) throw new Error('--k is required with --algorithm kmeans');
    if (options.eps !== undefined || options.minSamples !== undefined) {
      throw new Error('--eps and --min-samples apply to --algorithm dbscan only');
    }
  } else if (options.k !== undefined) {
    throw new Error('--k applies to --algorithm kmeans only; DBSCAN finds the number of clusters');
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

/** `attune segments evaluate`: one JSON line on stdout. */
export async function segmentsEvaluate(options: SegmentsEvaluateOptions): Promise<void> {
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
  process.stdout.write(`${JSON.stringify(evaluation)}\n`);
}
