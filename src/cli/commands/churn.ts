import {
  CHURN_MODELS,
  evaluateChurnModel,
  parseRowList,
  prepareTable,
  TableInputError,
  type PreparedTable,
} from '../../churn/index.js';
import { CsvError, parseCsv } from '../../shared/csv.js';
import { readInputFile } from '../input-file.js';

export interface ChurnEvaluateOptions {
  /** The customer table, CSV with a header line. */
  readonly table: string;
  readonly label: string;
  /** Comma-separated columns to leave out. */
  readonly drop?: string;
  /** A file of 0-based data-row indices to test on; else a stratified 80/20 split. */
  readonly testRows?: string;
  readonly seed: number;
}

/** Runs `work`, prefixing the file's name to what is wrong with its content. */
function naming<T>(path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof CsvError || error instanceof TableInputError) {
      throw new Error(`${path}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** `--drop a,b`: names as written, blanks ignored. */
export function parseColumnList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/** Reads and prepares the table as `attune churn evaluate` does; the benchmark prepares through this too. */
export async function loadChurnTable(options: ChurnEvaluateOptions): Promise<PreparedTable> {
  const text = await readInputFile(options.table);
  let testRows: number[] | undefined;
  if (options.testRows !== undefined) {
    const rowsText = await readInputFile(options.testRows);
    testRows = naming(options.testRows, () => parseRowList(rowsText));
  }
  return naming(options.table, () =>
    prepareTable(parseCsv(text), {
      label: options.label,
      drop: parseColumnList(options.drop),
      seed: options.seed,
      ...(testRows === undefined ? {} : { testRows }),
    }),
  );
}

/**
 * `attune churn evaluate`: trains every churn model on the table's train rows and prints one JSON line per
 * model with its test ROC AUC and log loss and its training time in seconds.
 */
export async function churnEvaluate(options: ChurnEvaluateOptions): Promise<void> {
  const table = await loadChurnTable(options);
  for (const model of CHURN_MODELS) {
    const result = evaluateChurnModel(model, table);
    process.stdout.write(`${JSON.stringify({ ...result, train_s: Number(result.train_s.toFixed(4)) })}\n`);
  }
}
