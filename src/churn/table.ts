/**
 * A customer table (one row per customer, a 0/1 churn label) turned into numeric train and test matrices,
 * the preparation `../shared/reference/tabular/README.md` describes, for any table rather than one:
 *
 * - the label column reads Yes/No, true/false or 1/0 (any case) as 1/0; `drop` columns are left out;
 * - a column whose every non-missing value is a number is numeric; missing values (blank, NA, N/A, NaN,
 *   null, None) get the median of the train rows;
 * - every other column is categorical, one-hot over the categories seen in the train rows (sorted), so a
 *   category first seen in a test row is all zeros, as is a blank;
 * - the split is given test rows, or else stratified by label with a seed.
 *
 * Every statistic (medians, categories) comes from the train rows only, so test rows cannot leak into the
 * fit. Standardising numeric columns is the linear model's business (`numeric` says which features).
 */
import type { CsvTable } from '../shared/csv.js';
import { mulberry32 } from '../models/random.js';

/** What is wrong with the table or the options, naming the column or row. */
export class TableInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TableInputError';
  }
}

export interface TableOptions {
  /** The 0/1 column to predict. */
  readonly label: string;
  /** Columns not to use as features: identifiers, leaks. */
  readonly drop?: readonly string[];
  /** 0-based indices of data rows (header excluded) held out for testing; else a stratified split. */
  readonly testRows?: readonly number[];
  /** The stratified split's test share. */
  readonly testShare?: number;
  readonly seed?: number;
}

export const DEFAULT_TEST_SHARE = 0.2;
export const DEFAULT_SEED = 42;

/** Rows of features, row-major, with their labels. */
export interface FeatureRows {
  readonly x: Float64Array;
  readonly y: Uint8Array;
  readonly rows: number;
}

export interface PreparedTable {
  /** Feature names in column order: a numeric column's name, or `column=category`. */
  readonly features: readonly string[];
  /** Indices of the features that are numeric columns (to standardise for a linear model). */
  readonly numeric: readonly number[];
  readonly train: FeatureRows;
  readonly test: FeatureRows;
}

const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const LABEL_VALUES = new Map<string, 0 | 1>([
  ['yes', 1],
  ['no', 0],
  ['true', 1],
  ['false', 0],
  ['1', 1],
  ['0', 0],
]);
/**
 * A categorical column with more distinct train values than this share of the train rows (and more than
 * `MIN_IDENTIFIER_CATEGORIES`) is an identifier or free text: as one-hot it would add a column per row.
 */
const IDENTIFIER_SHARE = 0.5;
const MIN_IDENTIFIER_CATEGORIES = 50;

/** How a data row is named in messages, in the same 0-based counting `--test-rows` uses. */
function rowName(index: number): string {
  return `data row ${index} (0-based, header excluded)`;
}

function isMissing(value: string): boolean {
  return MISSING.has(value.trim().toLowerCase());
}

/** The table's labels, 0 or 1. */
function readLabels(table: CsvTable, column: number, name: string): Uint8Array {
  const labels = new Uint8Array(table.rows.length);
  for (const [i, row] of table.rows.entries()) {
    const label = LABEL_VALUES.get(row[column]!.trim().toLowerCase());
    if (label === undefined) {
      throw new TableInputError(
        `${rowName(i)}: label column "${name}" has "${row[column]}"; expected Yes/No, true/false or 1/0`,
      );
    }
    labels[i] = label;
  }
  return labels;
}

/**
 * Test rows by label: within each class, a seeded shuffle and the first `round(share × class size)` rows,
 * so both parts keep the table's churn rate. Each class keeps at least one train row.
 */
export function stratifiedSplit(labels: Uint8Array, testShare: number, seed: number): Uint8Array {
  if (!(testShare > 0 && testShare < 1))
    throw new TableInputError(`test share must be in (0, 1), got ${testShare}`);
  const random = mulberry32(seed);
  const isTest = new Uint8Array(labels.length);
  for (const label of [0, 1]) {
    const members: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === label) members.push(i);
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    const count = Math.min(Math.round(testShare * members.length), members.length - 1);
    for (let k = 0; k < count; k++) isTest[members[k]!] = 1;
  }
  return isTest;
}

/**
 * The text of a `--test-rows` file: one 0-based data-row index per line, an optional header line (any first
 * line that is not a number), blank lines ignored.
 */
export function parseRowList(text: string): number[] {
  const indices: number[] = [];
  for (const [at, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '') continue;
    if (!/^\d+$/.test(line)) {
      if (at === 0) continue;
      throw new TableInputError(`line ${at + 1}: "${line}" is not a row index (a whole number from 0)`);
    }
    indices.push(Number(line));
  }
  return indices;
}

function testMask(rows: number, testRows: readonly number[]): Uint8Array {
  const isTest = new Uint8Array(rows);
  for (const index of testRows) {
    if (!(Number.isInteger(index) && index >= 0 && index < rows)) {
      throw new TableInputError(`test row ${index} is not a data row: the table has rows 0 to ${rows - 1}`);
    }
    if (isTest[index] === 1) throw new TableInputError(`test row ${index} is listed twice`);
    isTest[index] = 1;
  }
  return isTest;
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/** How one source column becomes features. */
type ColumnEncoding =
  | { readonly kind: 'numeric'; readonly column: number; readonly fill: number }
  | { readonly kind: 'categorical'; readonly column: number; readonly categories: Map<string, number> };

/** Numeric when every non-missing value in the column (all rows) is a decimal number and one at least is. */
function isNumericColumn(table: CsvTable, column: number): boolean {
  let numbers = 0;
  for (const [i, row] of table.rows.entries()) {
    const value = row[column]!.trim();
    if (DECIMAL.test(value)) {
      if (!Number.isFinite(Number(value))) {
        throw new TableInputError(
          `${rowName(i)}: column "${table.header[column]}" has "${value}", too large`,
        );
      }
      numbers++;
    } else if (!isMissing(value)) return false;
  }
  return numbers > 0;
}

function encodeColumn(
  table: CsvTable,
  column: number,
  isTest: Uint8Array,
  trainRows: number,
): ColumnEncoding {
  const name = table.header[column]!;
  if (isNumericColumn(table, column)) {
    const values: number[] = [];
    for (const [i, row] of table.rows.entries()) {
      const value = row[column]!.trim();
      if (isTest[i] === 0 && DECIMAL.test(value)) values.push(Number(value));
    }
    if (values.length === 0) {
      throw new TableInputError(`column "${name}": no values in the train rows to fill its blanks; drop it`);
    }
    return { kind: 'numeric', column, fill: median(values) };
  }
  const seen = new Set<string>();
  for (const [i, row] of table.rows.entries()) {
    if (isTest[i] === 0 && row[column]!.trim() !== '') seen.add(row[column]!.trim());
  }
  if (seen.size > MIN_IDENTIFIER_CATEGORIES && seen.size > IDENTIFIER_SHARE * trainRows) {
    throw new TableInputError(
      `column "${name}" has ${seen.size} distinct values in ${trainRows} train rows: it looks like an ` +
        `identifier or free text, not a category; leave it out with --drop "${name}"`,
    );
  }
  const categories = new Map([...seen].sort().map((category, k) => [category, k] as const));
  return { kind: 'categorical', column, categories };
}

/** Prepares a parsed table for churn models; see the module comment. */
export function prepareTable(table: CsvTable, options: TableOptions): PreparedTable {
  const { header } = table;
  if (new Set(header).size !== header.length) {
    const repeated = header.find((name, at) => header.indexOf(name) !== at);
    throw new TableInputError(`the header names column "${repeated}" twice`);
  }
  const columnOf = (name: string, what: string): number => {
    const column = header.indexOf(name);
    if (column < 0) {
      throw new TableInputError(`${what}: no column "${name}"; the columns are ${header.join(', ')}`);
    }
    return column;
  };
  const labelColumn = columnOf(options.label, '--label');
  const dropped = new Set<number>();
  for (const name of options.drop ?? []) {
    const column = columnOf(name, '--drop');
    if (column === labelColumn) throw new TableInputError(`--drop: "${name}" is the label column`);
    dropped.add(column);
  }
  if (table.rows.length === 0) throw new TableInputError('the table has no data rows');

  const labels = readLabels(table, labelColumn, options.label);
  const isTest =
    options.testRows === undefined
      ? stratifiedSplit(labels, options.testShare ?? DEFAULT_TEST_SHARE, options.seed ?? DEFAULT_SEED)
      : testMask(table.rows.length, options.testRows);
  const classCounts = { train: [0, 0], test: [0, 0] };
  for (let i = 0; i < labels.length; i++) classCounts[isTest[i] === 1 ? 'test' : 'train'][labels[i]!]!++;
  for (const part of ['train', 'test'] as const) {
    const [negatives, positives] = classCounts[part] as [number, number];
    if (negatives === 0 || positives === 0) {
      throw new TableInputError(
        `the ${part} rows need both classes of "${options.label}"; they have ${positives} positive and ` +
          `${negatives} negative`,
      );
    }
  }
  const trainRows = classCounts.train[0]! + classCounts.train[1]!;
  const testRows = labels.length - trainRows;

  const encodings: ColumnEncoding[] = [];
  for (let column = 0; column < header.length; column++) {
    if (column === labelColumn || dropped.has(column)) continue;
    encodings.push(encodeColumn(table, column, isTest, trainRows));
  }
  const features: string[] = [];
  const numeric: number[] = [];
  const offsets: number[] = [];
  for (const encoding of encodings) {
    offsets.push(features.length);
    const name = header[encoding.column]!;
    if (encoding.kind === 'numeric') {
      numeric.push(features.length);
      features.push(name);
    } else {
      for (const category of encoding.categories.keys()) features.push(`${name}=${category}`);
    }
  }
  if (features.length === 0) throw new TableInputError('no feature columns are left besides the label');

  const width = features.length;
  const train = { x: new Float64Array(trainRows * width), y: new Uint8Array(trainRows), rows: trainRows };
  const test = { x: new Float64Array(testRows * width), y: new Uint8Array(testRows), rows: testRows };
  const next = { train: 0, test: 0 };
  for (const [i, row] of table.rows.entries()) {
    const part = isTest[i] === 1 ? 'test' : 'train';
    const target = part === 'test' ? test : train;
    const at = next[part]++;
    target.y[at] = labels[i]!;
    const base = at * width;
    for (const [k, encoding] of encodings.entries()) {
      const value = row[encoding.column]!.trim();
      if (encoding.kind === 'numeric') {
        target.x[base + offsets[k]!] = DECIMAL.test(value) ? Number(value) : encoding.fill;
      } else {
        const category = encoding.categories.get(value);
        if (category !== undefined) target.x[base + offsets[k]! + category] = 1;
      }
    }
  }
  return { features, numeric, train, test };
}
