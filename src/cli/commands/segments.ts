import { performance } from 'node:perf_hooks';
import { kmeans, KMEANS_DEFAULTS, numericMatrix } from '../../segments/index.js';
import { parseCsv } from '../../shared/csv.js';
import { readInputFile } from '../input-file.js';

export interface SegmentsEvaluateOptions {
  /** A customer table; its numeric columns are clustered. */
  readonly input: string;
  readonly k: number;
  readonly standardize: boolean;
  readonly seed: number;
  readonly nInit: number;
}

/** What `attune segments evaluate` prints: one JSON line, comparable with scikit-learn's numbers. */
export interface SegmentsEvaluation {
  readonly inertia: number;
  readonly iterations: number;
  /** Fitting only: not reading or parsing the file. */
  readonly seconds: number;
  readonly k: number;
  readonly rows: number;
  readonly columns: readonly string[];
}

export const SEGMENTS_DEFAULTS = { seed: KMEANS_DEFAULTS.seed, nInit: KMEANS_DEFAULTS.nInit } as const;

/** Clusters the file's numeric columns with k-means and returns the fit's summary. */
export function evaluateSegments(
  text: string,
  options: Omit<SegmentsEvaluateOptions, 'input'>,
): SegmentsEvaluation {
  const matrix = numericMatrix(parseCsv(text), { standardize: options.standardize });
  if (matrix.columns.length === 0) throw new Error('no numeric column to cluster');
  if (matrix.rows === 0) throw new Error('no row without a blank in the numeric columns');
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

/** `attune segments evaluate`: one JSON line on stdout. */
export async function segmentsEvaluate(options: SegmentsEvaluateOptions): Promise<void> {
  const text = await readInputFile(options.input);
  let evaluation: SegmentsEvaluation;
  try {
    evaluation = evaluateSegments(text, options);
  } catch (error) {
    // Everything that goes wrong here is about the file's content (a CsvError, k above its rows…): name it.
    if (error instanceof Error) {
      throw new Error(`${options.input}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  process.stdout.write(`${JSON.stringify(evaluation)}\n`);
}
