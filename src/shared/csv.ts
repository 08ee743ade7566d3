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
    /** The problem without its line. */
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'CsvError';
  }
}

const QUOTE = 34;
const LF = 10;
const CR = 13;

/**
 * The records of the text one at a time (a decision log of millions of rows is read without holding every
 * record): `next()` reads the next one into `fields` and sets `line` to the line it starts on. Throws
 * `CsvError` on a quoted field left open or a closing quote followed by more of its field.
 */
export class CsvRecordReader {
  readonly fields: string[] = [];
  line = 0;
  private at: number;
  private nextLine = 1;
  private readonly delimiter: number;

  constructor(
    private readonly text: string,
    delimiter: ',' | '\t' | ';' = ',',
  ) {
    this.at = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    this.delimiter = delimiter.charCodeAt(0);
  }

  next(): boolean {
    const text = this.text;
    const end = text.length;
    if (this.at >= end) return false;
    this.fields.length = 0;
    this.line = this.nextLine;
    let at = this.at;
    for (;;) {
      if (text.charCodeAt(at) === QUOTE) {
        let value = '';
        let from = at + 1;
        for (;;) {
          const close = text.indexOf('"', from);
          if (close < 0) throw new CsvError(this.line, 'a quoted field is not closed');
          value += text.slice(from, close);
          if (text.charCodeAt(close + 1) === QUOTE) {
            value += '"';
            from = close + 2;
            continue;
          }
          for (let i = at; i < close; i++) if (text.charCodeAt(i) === LF) this.nextLine++;
          at = close + 1;
          break;
        }
        const c = at < end ? text.charCodeAt(at) : -1;
        if (c !== -1 && c !== this.delimiter && c !== LF && c !== CR) {
          throw new CsvError(this.nextLine, 'a closing quote must end its field');
        }
        this.fields.push(value);
      } else {
        let stop = at;
        while (stop < end) {
          const c = text.charCodeAt(stop);
          if (c === this.delimiter || c === LF || c === CR) break;
          stop++;
        }
        this.fields.push(text.slice(at, stop));
        at = stop;
      }
      if (at >= end) break;
      const c = text.charCodeAt(at);
      if (c === this.delimiter) {
        at++;
        if (at >= end) {
          this.fields.push('');
          break;
        }
        continue;
      }
      at += c === CR && text.charCodeAt(at + 1) === LF ? 2 : 1;
      this.nextLine++;
      break;
    }
    this.at = at;
    return true;
  }
}

/** The delimiter of the header line: the most frequent of comma, tab and semicolon outside quotes. */
export function detectDelimiter(text: string): ',' | '\t' | ';' {
  const counts = { ',': 0, '\t': 0, ';': 0 };
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && (c === ',' || c === '\t' || c === ';')) counts[c]++;
  }
  if (counts['\t'] > counts[','] && counts['\t'] >= counts[';']) return '\t';
  if (counts[';'] > counts[',']) return ';';
  return ',';
}

/** Every record of the text, fields unquoted; an empty last line is not a record. */
export function parseCsvRecords(text: string): string[][] {
  const reader = new CsvRecordReader(text);
  const records: string[][] = [];
  while (reader.next()) records.push([...reader.fields]);
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
