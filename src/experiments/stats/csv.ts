/**
 * Reads an experiment's per-user CSV (the layouts of `CSV_HEADERS`): header first, `,`-separated, no
 * quoting, one user per row. Every rejection names the line and the column, so a bad export can be fixed
 * at the source.
 */
import { CSV_HEADERS, METRIC_KINDS, VARIANT_NAME, type ExperimentData, type MetricKind } from './kinds.js';

/** Bad CSV input, at a line (1-based, the header being line 1) and, when known, a column. */
export class CsvInputError extends Error {
  constructor(
    readonly line: number,
    readonly column: { readonly index: number; readonly name: string } | null,
    detail: string,
  ) {
    super(`line ${line}${column === null ? '' : `, column ${column.index} (${column.name})`}: ${detail}`);
    this.name = 'CsvInputError';
  }
}

/**
 * A finite decimal number as text: digits with an optional fraction, sign and exponent. Stricter than
 * `Number()`, which would also take '', ' 7', '0x1f' and 'Infinity'; once matched, `Number()` converts
 * with correct rounding.
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Per kind and column, a check of the value's range beyond being a number (null: any number). */
function rangeProblem(kind: MetricKind, column: string, value: number): string | null {
  if (kind === 'conversion' && value !== 0 && value !== 1) return 'must be 0 or 1';
  if (kind === 'ratio' && column === 'denominator' && value < 0) return 'must not be negative';
  return null;
}

function headerProblem(header: string, kind: MetricKind): string | null {
  const expected = CSV_HEADERS[kind].join(',');
  if (header === expected) return null;
  const other = METRIC_KINDS.find((k) => CSV_HEADERS[k].join(',') === header);
  return `expected the header "${expected}" for kind ${kind}, got "${header}"${
    other === undefined ? '' : ` (the header of kind ${other})`
  }`;
}

/** Parses the CSV text of one experiment of the given kind into columns grouped by variant. */
export function parseExperimentCsv(text: string, kind: MetricKind): ExperimentData {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0)
    throw new CsvInputError(1, null, `empty input: expected the header "${CSV_HEADERS[kind].join(',')}"`);
  const header = CSV_HEADERS[kind];
  const headerLine = lines[0]!.replace(/\r$/, '');
  const problem = headerProblem(headerLine, kind);
  if (problem !== null) throw new CsvInputError(1, null, problem);
  if (lines.length === 1) throw new CsvInputError(2, null, 'no data rows after the header');

  const columnCount = header.length;
  const grouped = new Map<string, number[][]>();
  for (let lineIndex = 1; lineIndex < lines.length; lineIndex++) {
    const lineNumber = lineIndex + 1;
    const fields = lines[lineIndex]!.replace(/\r$/, '').split(',');
    if (fields.length !== columnCount) {
      throw new CsvInputError(
        lineNumber,
        null,
        `expected ${columnCount} fields (${header.join(',')}), got ${fields.length}`,
      );
    }
    const variant = fields[0]!;
    if (!VARIANT_NAME.test(variant)) {
      throw new CsvInputError(
        lineNumber,
        { index: 1, name: 'variant' },
        `"${variant}" is not a variant name (lowercase letters, digits and _)`,
      );
    }
    let columns = grouped.get(variant);
    if (columns === undefined) {
      columns = Array.from({ length: columnCount - 1 }, () => []);
      grouped.set(variant, columns);
    }
    for (let c = 1; c < columnCount; c++) {
      const field = fields[c]!;
      const column = { index: c + 1, name: header[c]! };
      if (!DECIMAL.test(field)) throw new CsvInputError(lineNumber, column, `"${field}" is not a number`);
      const value = Number(field);
      if (!Number.isFinite(value)) throw new CsvInputError(lineNumber, column, `"${field}" is out of range`);
      const range = rangeProblem(kind, header[c]!, value);
      if (range !== null) throw new CsvInputError(lineNumber, column, `${field} ${range}`);
      columns[c - 1]!.push(value);
    }
  }
  const variants = new Map<string, Float64Array[]>();
  for (const [variant, columns] of grouped)
    variants.set(
      variant,
      columns.map((column) => Float64Array.from(column)),
    );
  return { kind, variants };
}
