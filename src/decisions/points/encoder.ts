import type { EpochMs, JsonValue, ScalarRecord } from '../../shared/types.js';
import {
  actionFeatureNames,
  DecisionPointError,
  type DecisionPoint,
  type FeatureSpec,
} from './definition.js';

/** What one request knows about its user and moment: the inputs of a feature row. */
export interface DecisionInputs {
  readonly context: { readonly [key: string]: JsonValue };
  readonly traits: ScalarRecord | null;
  readonly segment: string | null;
  /** The user's online feature-store values: numbers aligned with `columns` (NaN: missing). */
  readonly user: { readonly columns: readonly string[]; readonly numbers: Float64Array } | null;
  readonly now: EpochMs;
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/;
const TAU = 2 * Math.PI;

const width = (spec: FeatureSpec): number =>
  spec.type === 'number' ? 1 : spec.type === 'hour' ? 3 : spec.values.length;

/** sign(x)·log(1 + |x|): counts and sums of any size on one scale, negatives kept. */
const log1pSigned = (x: number): number => (x < 0 ? -Math.log1p(-x) : Math.log1p(x));

/**
 * Turns a request into the learner's input: the point's context row (a constant first, then each feature
 * spec's numbers), and for a shared layout the joint row per action, context ⊗ (1, action features), so
 * that one model learns how each action feature pays in each context.
 */
export class FeatureEncoder {
  /** Numbers in the context row, the constant included. */
  readonly width: number;
  /** The learner's `dimension`: the context row (disjoint), or the joint row per action (shared). */
  readonly dimension: number;
  /** The learner's input length: `dimension`, or actions × `dimension`. */
  readonly inputLength: number;
  private readonly specs: readonly FeatureSpec[];
  private readonly shared: boolean;
  /** Per action: 1 then its action features in `actionFeatureNames` order (shared layout only). */
  private readonly actionRows: readonly Float64Array[];
  private readonly row: Float64Array;
  /** The user-feature column each `user` spec reads, resolved once per column list. */
  private userIndex: { columns: readonly string[]; at: Int32Array } | null = null;

  constructor(point: Pick<DecisionPoint, 'features' | 'layout' | 'actions'>) {
    this.specs = point.features;
    this.width = 1 + point.features.reduce((sum, spec) => sum + width(spec), 0);
    this.shared = point.layout === 'shared';
    const names = actionFeatureNames(point);
    this.actionRows = point.actions.map((action) =>
      Float64Array.from([1, ...names.map((name) => action.features[name] ?? 0)]),
    );
    const per = this.shared ? 1 + names.length : 1;
    this.dimension = this.width * per;
    this.inputLength = this.shared ? this.dimension * point.actions.length : this.dimension;
    this.row = new Float64Array(this.width);
  }

  /**
   * The learner's input for this request, into `out` (allocated when absent). Throws a 400
   * `DecisionPointError` naming a context field whose value cannot be read (a malformed `local_time`).
   */
  encode(inputs: DecisionInputs, out?: Float64Array): Float64Array {
    const row = this.shared ? this.row : (out ?? new Float64Array(this.inputLength));
    this.writeRow(inputs, row);
    if (!this.shared) return row;
    const target = out ?? new Float64Array(this.inputLength);
    let at = 0;
    for (const actionRow of this.actionRows) {
      for (let i = 0; i < this.width; i++) {
        const x = row[i]!;
        for (let j = 0; j < actionRow.length; j++) target[at++] = x * actionRow[j]!;
      }
    }
    return target;
  }

  private writeRow(inputs: DecisionInputs, row: Float64Array): void {
    row.fill(0);
    row[0] = 1;
    let at = 1;
    let userSpec = 0;
    for (const spec of this.specs) {
      switch (spec.type) {
        case 'number': {
          const raw =
            spec.source === 'user'
              ? this.userValue(inputs, userSpec++)
              : numberOf(spec.source === 'context' ? inputs.context[spec.name] : inputs.traits?.[spec.name]);
          const value = Number.isFinite(raw) ? raw : 0;
          row[at++] = spec.transform === 'log1p' ? log1pSigned(value) : value;
          break;
        }
        case 'category': {
          const value =
            spec.source === 'segment'
              ? inputs.segment
              : spec.source === 'context'
                ? inputs.context[spec.name]
                : inputs.traits?.[spec.name];
          const index = typeof value === 'string' ? spec.values.indexOf(value) : -1;
          if (index >= 0) row[at + index] = 1;
          at += spec.values.length;
          break;
        }
        case 'hour': {
          const { hour, weekend } = localTime(inputs.context[spec.name], spec.name, inputs.now);
          row[at++] = Math.cos((TAU * hour) / 24);
          row[at++] = Math.sin((TAU * hour) / 24);
          row[at++] = weekend ? 1 : 0;
          break;
        }
      }
    }
  }

  private userValue(inputs: DecisionInputs, ordinal: number): number {
    const user = inputs.user;
    if (user === null) return 0;
    if (this.userIndex?.columns !== user.columns) {
      const names = this.specs.filter((s) => s.source === 'user').map((s) => s.name);
      this.userIndex = {
        columns: user.columns,
        at: Int32Array.from(names, (name) => user.columns.indexOf(name)),
      };
    }
    const column = this.userIndex.at[ordinal]!;
    return column < 0 ? 0 : user.numbers[column]!;
  }
}

function numberOf(value: JsonValue | undefined): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return 0;
}

/**
 * The hour (fractional) and weekend flag of the request's local time: the clock reading of an ISO 8601
 * time as written (its offset is the user's, so the written hour is their local hour), or the engine's
 * UTC time when the context has none.
 */
function localTime(
  value: JsonValue | undefined,
  field: string,
  now: EpochMs,
): { hour: number; weekend: boolean } {
  if (value === undefined || value === null) {
    const date = new Date(now);
    const day = date.getUTCDay();
    return { hour: date.getUTCHours() + date.getUTCMinutes() / 60, weekend: day === 0 || day === 6 };
  }
  const match = typeof value === 'string' ? LOCAL_TIME.exec(value) : null;
  const hour = match ? Number(match[4]) : NaN;
  const minute = match ? Number(match[5]) : NaN;
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  if (!match || !date || Number.isNaN(date.getTime()) || hour > 23 || minute > 59) {
    throw new DecisionPointError(
      400,
      `context.${field}`,
      'must be an ISO 8601 local time such as "2026-12-03T19:30:00+01:00"',
    );
  }
  const day = date.getUTCDay();
  return { hour: hour + minute / 60, weekend: day === 0 || day === 6 };
}
