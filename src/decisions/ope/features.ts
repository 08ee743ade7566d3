/**
 * The context of each logged decision as a dense numeric row: what the reward model of DR and the learners
 * read. Numeric columns are standardized (mean 0, standard deviation 1, over the present values) with a
 * missing value at the mean plus a 0/1 missing indicator; text columns are one-hot over their most
 * frequent levels (a missing value, or a rarer level, has all of them 0); the position, when the log has
 * more than one, is one-hot too, since a slot's reward depends on where it is shown.
 *
 * The encoding is fitted on the whole log without looking at rewards, so using it inside cross-fitting
 * leaks nothing about a row's reward into the model that scores it.
 */
import type { DecisionLog } from './log.js';

/** One-hot columns per text column at most; rarer levels share the all-zero code. */
export const DEFAULT_MAX_LEVELS = 32;

export interface EncodedContext {
  readonly rows: number;
  readonly dimension: number;
  /** Row-major, rows × dimension. */
  readonly values: Float64Array;
  /** One per dimension, e.g. `age`, `age (missing)`, `country=fr`, `position=2`. */
  readonly names: readonly string[];
}

export interface EncodeOptions {
  readonly maxLevels?: number;
}

/** A column's contribution: how to write row i's values starting at `offset`. */
interface Block {
  readonly names: readonly string[];
  write(row: number, out: Float64Array, offset: number): void;
}

function numericBlock(name: string, values: Float64Array): Block | null {
  let present = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isNaN(values[i]!)) {
      present++;
      sum += values[i]!;
    }
  }
  if (present === 0) return null;
  const mean = sum / present;
  let squares = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) squares += (values[i]! - mean) ** 2;
  const sd = Math.sqrt(squares / present);
  const hasMissing = present < values.length;
  const varies = sd > 0;
  if (!varies && !hasMissing) return null;
  const names = [...(varies ? [name] : []), ...(hasMissing ? [`${name} (missing)`] : [])];
  return {
    names,
    write(row, out, offset) {
      const value = values[row]!;
      const missing = Number.isNaN(value);
      if (varies) out[offset++] = missing ? 0 : (value - mean) / sd;
      if (hasMissing) out[offset] = missing ? 1 : 0;
    },
  };
}

function oneHotBlock(
  name: string,
  codes: Int32Array,
  levels: readonly string[],
  maxLevels: number,
): Block | null {
  const counts = new Float64Array(levels.length);
  let missing = 0;
  for (let i = 0; i < codes.length; i++) {
    if (codes[i]! < 0) missing++;
    else counts[codes[i]!]!++;
  }
  const byCount = levels.map((_, code) => code).filter((code) => counts[code]! > 0);
  // Most frequent first; ties in order of first appearance (the codes' order), so the encoding is stable.
  byCount.sort((a, b) => counts[b]! - counts[a]! || a - b);
  const kept = byCount.slice(0, maxLevels);
  // One level and nothing else: a constant column.
  if (kept.length === 0 || (byCount.length === 1 && missing === 0)) return null;
  const column = new Int32Array(levels.length).fill(-1);
  kept.forEach((code, j) => (column[code] = j));
  const width = kept.length;
  return {
    names: kept.map((code) => `${name}=${levels[code]}`),
    write(row, out, offset) {
      out.fill(0, offset, offset + width);
      const code = codes[row]!;
      if (code >= 0 && column[code]! >= 0) out[offset + column[code]!] = 1;
    },
  };
}

export function encodeContext(
  log: Pick<DecisionLog, 'rows' | 'context' | 'positions' | 'position'>,
  options: EncodeOptions = {},
): EncodedContext {
  const maxLevels = options.maxLevels ?? DEFAULT_MAX_LEVELS;
  const blocks: Block[] = [];
  for (const column of log.context) {
    const block =
      column.kind === 'numeric'
        ? numericBlock(column.name, column.values)
        : oneHotBlock(column.name, column.codes, column.levels, maxLevels);
    if (block !== null) blocks.push(block);
  }
  if (log.position !== null && log.positions !== null) {
    const block = oneHotBlock('position', log.position, log.positions, Number.MAX_SAFE_INTEGER);
    if (block !== null) blocks.push(block);
  }
  const names = blocks.flatMap((b) => b.names);
  const dimension = names.length;
  const values = new Float64Array(log.rows * dimension);
  for (let i = 0; i < log.rows; i++) {
    let offset = i * dimension;
    for (const block of blocks) {
      block.write(i, values, offset);
      offset += block.names.length;
    }
  }
  return { rows: log.rows, dimension, values, names };
}
