/**
 * A log of decisions as the off-policy estimators read it: one row per logged decision (per slot, when one
 * decision fills several), in columns. Actions and positions are codes into their name lists, so the
 * estimators and the reward model walk typed arrays only.
 */

/** A context column whose every present value is a number; `NaN` marks a missing value. */
export interface NumericContextColumn {
  readonly kind: 'numeric';
  readonly name: string;
  readonly values: Float64Array;
}

/** A context column of text; `-1` marks a missing value, otherwise a code into `levels`. */
export interface TextContextColumn {
  readonly kind: 'text';
  readonly name: string;
  readonly codes: Int32Array;
  readonly levels: readonly string[];
}

export type ContextColumn = NumericContextColumn | TextContextColumn;

export interface DecisionLog {
  readonly rows: number;
  /** Action names; `action[i]` is an index into them. */
  readonly actions: readonly string[];
  readonly action: Int32Array;
  readonly reward: Float64Array;
  /** The logging policy's probability of the logged action, in (0, 1]. */
  readonly propensity: Float64Array;
  /** Slot labels when the log has a position column; `position[i]` is an index into them. */
  readonly positions: readonly string[] | null;
  readonly position: Int32Array | null;
  /** Sortable times (epoch ms for dates, else the numbers as given); null: the rows are in time order. */
  readonly timestamp: Float64Array | null;
  readonly context: readonly ContextColumn[];
  /** The 1-based source line of each row, for messages; null for a log built in memory. */
  readonly lines: Int32Array | null;
}

/** A log that is not usable for evaluation: names the row's source line when it is known. */
export class DecisionLogError extends Error {
  constructor(
    /** 1-based line of the input, or null when the problem is not at one line. */
    readonly line: number | null,
    detail: string,
  ) {
    super(line === null ? detail : `line ${line}: ${detail}`);
    this.name = 'DecisionLogError';
  }
}

/** How a message names row `i`: its source line when read from a file, else `row i` (1-based). */
export function rowLabel(log: Pick<DecisionLog, 'lines'>, row: number): string {
  return log.lines === null ? `row ${row + 1}` : `line ${log.lines[row]}`;
}

/**
 * Checks the invariants the estimators rely on, for logs built in memory (the CSV reader checks them as it
 * reads, with the line). Throws a `DecisionLogError` naming the first bad row.
 */
export function checkDecisionLog(log: DecisionLog): void {
  const n = log.rows;
  if (!(Number.isInteger(n) && n > 0)) throw new DecisionLogError(null, 'the log has no rows');
  const lengths: [string, { length: number } | null][] = [
    ['action', log.action],
    ['reward', log.reward],
    ['propensity', log.propensity],
    ['position', log.position],
    ['timestamp', log.timestamp],
    ['lines', log.lines],
    ...log.context.map((c): [string, { length: number }] => [
      c.name,
      c.kind === 'numeric' ? c.values : c.codes,
    ]),
  ];
  for (const [name, column] of lengths) {
    if (column !== null && column.length !== n) {
      throw new DecisionLogError(null, `column ${name} has ${column.length} values for ${n} rows`);
    }
  }
  if ((log.position === null) !== (log.positions === null)) {
    throw new DecisionLogError(null, 'position codes and position labels must come together');
  }
  for (let i = 0; i < n; i++) {
    const at = (detail: string) => new DecisionLogError(null, `${rowLabel(log, i)}: ${detail}`);
    const a = log.action[i]!;
    if (!(a >= 0 && a < log.actions.length)) throw at(`action code ${a} is not an action`);
    if (!Number.isFinite(log.reward[i]!)) throw at(`reward must be a finite number, got ${log.reward[i]}`);
    const p = log.propensity[i]!;
    if (!(p > 0 && p <= 1)) throw at(`propensity must be a number in (0, 1], got ${p}`);
    if (log.position !== null) {
      const s = log.position[i]!;
      if (!(s >= 0 && s < log.positions!.length)) throw at(`position code ${s} is not a position`);
    }
    if (log.timestamp !== null && !Number.isFinite(log.timestamp[i]!)) {
      throw at(`timestamp must be finite, got ${log.timestamp[i]}`);
    }
  }
}

/** Row indices in time order: by timestamp, ties (and a log without timestamps) in row order. */
export function timeOrder(log: Pick<DecisionLog, 'rows' | 'timestamp'>): Int32Array {
  const order = new Int32Array(log.rows);
  for (let i = 0; i < log.rows; i++) order[i] = i;
  const time = log.timestamp;
  if (time === null) return order;
  let sorted = true;
  for (let i = 1; i < log.rows && sorted; i++) sorted = time[i - 1]! <= time[i]!;
  // Typed-array sort is not guaranteed stable across engines; the index tie-break makes it so.
  if (!sorted) order.sort((a, b) => time[a]! - time[b]! || a - b);
  return order;
}

/** The mean logged reward: the logging policy's own value, as observed. */
export function loggedMeanReward(log: Pick<DecisionLog, 'reward'>): number {
  let sum = 0;
  for (let i = 0; i < log.reward.length; i++) sum += log.reward[i]!;
  return sum / log.reward.length;
}
