/**
 * Comma-separated text as RFC 4180 writes it: fields optionally in double quotes, a quote inside a quoted
 * field doubled, commas and line breaks allowed inside quotes, lines ending in LF or CRLF, an optional
 * UTF-8 byte-order mark. Customer tables exported from spreadsheets and databases arrive this way.
 */
export interface CsvTable {
  readonly header: readonly string[];
  /** Data rows, each as long as the header. */
  readonly rows: readonly (readonly string[])[];
}

export class CsvError extends Error {
  constructor(
    /** 1-based line of the input where the problem is. */
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvError';
  }
}

/** Every record of the text, fields unquoted; an empty last line is not a record. */
export function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let at = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let fieldStart = true;
  while (at < text.length) {
    const c = text[at]!;
    if (quoted) {
      if (c === '"') {
        if (text[at + 1] === '"') {
          field += '"';
          at += 2;
          continue;
        }
        quoted = false;
        at++;
        const next = text[at];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new CsvError(line, 'a closing quote must end its field');
        }
        continue;
      }
      if (c === '\n') line++;
      field += c;
      at++;
      continue;
    }
    if (c === '"' && fieldStart) {
      quoted = true;
      fieldStart = false;
      at++;
      continue;
    }
    if (c === ',') {
      record.push(field);
      field = '';
      fieldStart = true;
      at++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      fieldStart = true;
      at += c === '\r' && text[at + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    field += c;
    fieldStart = false;
    at++;
  }
  if (quoted) throw new CsvError(line, 'a quoted field is not closed');
  if (!fieldStart || field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** A header line and data rows of the same width; a row of another width is an error naming its line. */
export function parseCsv(text: string): CsvTable {
  const records = parseCsvRecords(text);
  const header = records[0];
  if (header === undefined) throw new CsvError(1, 'empty input: expected a header line');
  const rows = records.slice(1);
  for (const [i, row] of rows.entries()) {
    if (row.length !== header.length) {
      throw new CsvError(i + 2, `expected ${header.length} fields as in the header, got ${row.length}`);
    }
  }
  return { header, rows };
}
