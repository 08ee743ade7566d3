/**
 * A customer table (CSV) as the numeric matrix k-means clusters: the numeric columns only, complete rows
 * only, optionally z-scored so that a column in dollars does not outweigh one in months.
 */
import type { CsvTable } from '../shared/csv.js';

export interface NumericMatrix {
  /** The numeric columns' names, in the table's order. */
  readonly columns: readonly string[];
  /** rows × columns.length, row-major, on a SharedArrayBuffer. */
  readonly data: Float64Array;
  readonly rows: number;
  /** Rows left out for a blank in some numeric column. */
  readonly droppedRows: number;
}

export interface NumericMatrixOptions {
  /** Z-score each column with its mean and population standard deviation (as scikit-learn's StandardScaler). */
  readonly standardize?: boolean;
}

/** A decimal number as spreadsheets write it; `Number` alone would also take `0x1f`, `Infinity`, `1_0`… */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const isBlank = (field: string): boolean => field.trim() === '';

/**
 * A column is numeric when every non-blank field is a finite decimal number and at least one field is not
 * blank; other columns (ids, categories) are left out. A row with a blank in a numeric column is left out:
 * k-means has no notion of a missing coordinate.
 */
export function numericMatrix(table: CsvTable, options: NumericMatrixOptions = {}): NumericMatrix {
  const numeric: number[] = [];
  for (let column = 0; column < table.header.length; column++) {
    let values = 0;
    let isNumeric = true;
    for (const row of table.rows) {
      const field = row[column]!;
      if (isBlank(field)) continue;
      if (!DECIMAL.test(field.trim()) || !Number.isFinite(Number(field))) {
        isNumeric = false;
        break;
      }
      values++;
    }
    if (isNumeric && values > 0) numeric.push(column);
  }
  const complete = table.rows.filter((row) => numeric.every((column) => !isBlank(row[column]!)));
  const d = numeric.length;
  // On shared memory, so that k-means' helper threads read it without a copy (kmeans-threads.ts).
  const data = new Float64Array(new SharedArrayBuffer(complete.length * d * 8));
  complete.forEach((row, i) => numeric.forEach((column, j) => (data[i * d + j] = Number(row[column]))));
  if (options.standardize === true) standardizeColumns(data, complete.length, d);
  return {
    columns: numeric.map((column) => table.header[column]!),
    data,
    rows: complete.length,
    droppedRows: table.rows.length - complete.length,
  };
}

/** In place: (x − mean) / sd per column, sd the population one; a constant column is only centred. */
export function standardizeColumns(data: Float64Array, n: number, d: number): void {
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += data[i * d + j]!;
    mean /= n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (data[i * d + j]! - mean) ** 2;
    const sd = Math.sqrt(squares / n);
    const scale = sd > 0 ? sd : 1;
    for (let i = 0; i < n; i++) data[i * d + j] = (data[i * d + j]! - mean) / scale;
  }
}
