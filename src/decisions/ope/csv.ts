/**
 * Reads a decision log from CSV: a header line, then one row per logged decision with the columns
 * `action`, `reward`, `propensity`, optionally `position` and `timestamp`, and any others as context.
 *
 * Every problem fails the whole read with the line named. An estimate over rows silently dropped would
 * describe some other log: a row left out because its propensity is unreadable is not missing at random.
 */
import { CsvError, CsvRecordReader, detectDelimiter } from '../../shared/csv.js';
import { DecisionLogError, type ContextColumn, type DecisionLog } from './log.js';

export { detectDelimiter };

/** The reader's next record, its quoting errors given as the log's own error type. */
function nextRecord(reader: CsvRecordReader): boolean {
  try {
    return reader.next();
  } catch (error) {
    if (error instanceof CsvError) throw new DecisionLogError(error.line, error.detail);
    throw error;
  }
}

export const REQUIRED_COLUMNS = ['action', 'reward', 'propensity'] as const;
export const OPTIONAL_COLUMNS = ['position', 'timestamp'] as const;

/**
 * Context values read as missing (compared lower-cased): what pandas, R and SQL exports write for a blank.
 * In a text column a missing value behaves as one more level (its one-hot columns are all zero), so
 * reading `None` as missing loses nothing there.
 */
const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);

/**
 * A finite decimal number as text. Stricter than `Number()`, which would also take '', '0x1f' and
 * 'Infinity'; once matched, `Number()` converts with correct rounding.
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Dates must at least start like ISO 8601: `Date.parse` alone would read "1" or "Nov 3" as dates. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/** A column of the context while the file is read: numeric until a value is not a number. */
class ContextBuilder {
  private numbers = new Float64Array(1024);
  private codes: Int32Array | null = null;
  private readonly levels = new Map<string, number>();
  private size = 0;
  present = 0;

  constructor(readonly name: string) {}

  push(raw: string): void {
    const text = raw.trim();
    if (this.size === (this.codes ?? this.numbers).length) this.grow();
    if (text.length <= 4 && MISSING.has(text.toLowerCase())) {
      if (this.codes === null) this.numbers[this.size++] = Number.NaN;
      else this.codes[this.size++] = -1;
      return;
    }
    this.present++;
    if (this.codes === null) {
      if (DECIMAL.test(text)) {
        this.numbers[this.size++] = Number(text);
        return;
      }
      this.becomeText();
    }
    this.codes![this.size++] = this.code(text);
  }

  build(): ContextColumn {
    if (this.codes === null) {
      return { kind: 'numeric', name: this.name, values: this.numbers.slice(0, this.size) };
    }
    return {
      kind: 'text',
      name: this.name,
      codes: this.codes.slice(0, this.size),
      levels: [...this.levels.keys()],
    };
  }

  private code(text: string): number {
    let code = this.levels.get(text);
    if (code === undefined) {
      code = this.levels.size;
      this.levels.set(text, code);
    }
    return code;
  }

  /**
   * The first value that is not a number makes the column text. The numbers read so far become levels in
   * their canonical spelling ("007" and "7" are one level), which only merges spellings of equal numbers.
   */
  private becomeText(): void {
    const codes = new Int32Array(this.numbers.length);
    for (let i = 0; i < this.size; i++) {
      const value = this.numbers[i]!;
      codes[i] = Number.isNaN(value) ? -1 : this.code(String(value));
    }
    this.codes = codes;
    this.numbers = new Float64Array(0);
  }

  private grow(): void {
    if (this.codes === null) {
      const bigger = new Float64Array(this.numbers.length * 2);
      bigger.set(this.numbers);
      this.numbers = bigger;
    } else {
      const bigger = new Int32Array(this.codes.length * 2);
      bigger.set(this.codes);
      this.codes = bigger;
    }
  }
}

/** A growable typed array of one kind. */
class Growing<T extends Float64Array | Int32Array> {
  size = 0;
  constructor(
    private array: T,
    private readonly make: (length: number) => T,
  ) {}
  push(value: number): void {
    if (this.size === this.array.length) {
      const bigger = this.make(this.array.length * 2);
      bigger.set(this.array);
      this.array = bigger;
    }
    this.array[this.size++] = value;
  }
  build(): T {
    return this.array.slice(0, this.size) as T;
  }
}

const float64 = () => new Growing(new Float64Array(1024), (n) => new Float64Array(n));
const int32 = () => new Growing(new Int32Array(1024), (n) => new Int32Array(n));

function interning(): { map: Map<string, number>; code(text: string): number } {
  const map = new Map<string, number>();
  return {
    map,
    code(text) {
      let code = map.get(text);
      if (code === undefined) {
        code = map.size;
        map.set(text, code);
      }
      return code;
    },
  };
}

interface HeaderLayout {
  readonly action: number;
  readonly reward: number;
  readonly propensity: number;
  readonly position: number;
  readonly timestamp: number;
  /** Column index and name of each context column. */
  readonly context: readonly { readonly index: number; readonly name: string }[];
}

function readHeader(fields: readonly string[]): HeaderLayout {
  const names = fields.map((f, i) => f.trim() || `column ${i + 1}`);
  const seen = new Map<string, number>();
  for (const [i, name] of names.entries()) {
    const key = name.toLowerCase();
    const before = seen.get(key);
    if (before !== undefined) {
      throw new DecisionLogError(1, `the header names "${name}" twice (columns ${before + 1} and ${i + 1})`);
    }
    seen.set(key, i);
  }
  const missing = REQUIRED_COLUMNS.filter((name) => !seen.has(name));
  if (missing.length > 0) {
    const looksLikeData = names.some((name) => DECIMAL.test(name));
    const expected = `a header line naming the columns ${REQUIRED_COLUMNS.join(', ')} (and optionally ${OPTIONAL_COLUMNS.join(', ')} and context columns)`;
    throw new DecisionLogError(
      1,
      looksLikeData
        ? `expected ${expected}; the first line looks like data: "${fields.join(',')}"`
        : `the header has no column ${missing.map((m) => `"${m}"`).join(', ')} (it has: ${names.join(', ')})`,
    );
  }
  const index = (name: string) => seen.get(name) ?? -1;
  const special = new Set([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].map(index));
  return {
    action: index('action'),
    reward: index('reward'),
    propensity: index('propensity'),
    position: index('position'),
    timestamp: index('timestamp'),
    context: names.flatMap((name, i) => (special.has(i) ? [] : [{ index: i, name }])),
  };
}

/**
 * Parses a decision log. Throws a `DecisionLogError` naming the line of the first problem, e.g.
 * `line 17: propensity must be a number in (0, 1], got "0"`.
 */
export function parseDecisionLogCsv(text: string): DecisionLog {
  const reader = new CsvRecordReader(text, detectDelimiter(text));
  if (!nextRecord(reader) || (reader.fields.length === 1 && reader.fields[0]!.trim() === '')) {
    throw new DecisionLogError(
      1,
      `empty input: expected a header line naming ${REQUIRED_COLUMNS.join(', ')}`,
    );
  }
  const layout = readHeader(reader.fields);
  const width = reader.fields.length;

  const actions = interning();
  const positions = interning();
  const action = int32();
  const reward = float64();
  const propensity = float64();
  const position = layout.position < 0 ? null : int32();
  const timestamp = layout.timestamp < 0 ? null : float64();
  let timeKind: 'number' | 'date' | null = null;
  const lines = int32();
  const context = layout.context.map((c) => new ContextBuilder(c.name));

  while (nextRecord(reader)) {
    const fields = reader.fields;
    const line = reader.line;
    if (fields.length === 1 && fields[0]!.trim() === '') continue;
    if (fields.length !== width) {
      throw new DecisionLogError(line, `expected ${width} fields as in the header, got ${fields.length}`);
    }
    const name = fields[layout.action]!.trim();
    if (name === '') throw new DecisionLogError(line, 'action is empty');
    action.push(actions.code(name));

    const r = fields[layout.reward]!.trim();
    if (!DECIMAL.test(r) || !Number.isFinite(Number(r))) {
      throw new DecisionLogError(line, `reward must be a number, got "${fields[layout.reward]}"`);
    }
    reward.push(Number(r));

    const p = fields[layout.propensity]!.trim();
    const pValue = DECIMAL.test(p) ? Number(p) : Number.NaN;
    if (!(pValue > 0 && pValue <= 1)) {
      throw new DecisionLogError(
        line,
        `propensity must be a number in (0, 1], got "${fields[layout.propensity]}"`,
      );
    }
    propensity.push(pValue);

    if (position !== null) {
      const slot = fields[layout.position]!.trim();
      if (slot === '') throw new DecisionLogError(line, 'position is empty');
      position.push(positions.code(slot));
    }
    if (timestamp !== null) {
      const raw = fields[layout.timestamp]!.trim();
      const kind = DECIMAL.test(raw) ? 'number' : ISO_DATE.test(raw) ? 'date' : null;
      const value = kind === 'number' ? Number(raw) : kind === 'date' ? Date.parse(raw) : Number.NaN;
      if (kind === null || !Number.isFinite(value)) {
        throw new DecisionLogError(line, `timestamp must be a number or an ISO 8601 date, got "${raw}"`);
      }
      if (timeKind !== null && kind !== timeKind) {
        throw new DecisionLogError(
          line,
          `timestamp "${raw}" is a ${kind} where earlier rows have ${timeKind}s`,
        );
      }
      timeKind = kind;
      timestamp.push(value);
    }
    for (let c = 0; c < context.length; c++) context[c]!.push(fields[layout.context[c]!.index]!);
    lines.push(line);
  }
  if (action.size === 0) throw new DecisionLogError(2, 'no data rows after the header');

  return {
    rows: action.size,
    actions: [...actions.map.keys()],
    action: action.build(),
    reward: reward.build(),
    propensity: propensity.build(),
    positions: position === null ? null : [...positions.map.keys()],
    position: position === null ? null : position.build(),
    timestamp: timestamp === null ? null : timestamp.build(),
    // A column with no value at all says nothing about any row.
    context: context.filter((c) => c.present > 0).map((c) => c.build()),
    lines: lines.build(),
  };
}
