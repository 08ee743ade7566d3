import { CHUNK_SIZE } from './columns.js';

/**
 * What each matching record added to a user's value after exposure, and on which day: the raw material of
 * the daily series (`series.ts`). Only records that change a value are kept (a small share of the events:
 * purchases, clicks, served lists), in three typed columns appended in chunks (`columns.ts`: no doubling
 * while the store's batches are read) — no object per record.
 */
export class ContributionLog {
  readonly users: Int32Array[] = [];
  /** Day of the record, counted from the user's entry day (their first exposure's day) in the series. */
  readonly days: Uint16Array[] = [];
  readonly values: Float64Array[] = [];
  length = 0;
  private fill = CHUNK_SIZE;
  private currentUsers = new Int32Array(0);
  private currentDays = new Uint16Array(0);
  private currentValues = new Float64Array(0);

  push(user: number, day: number, value: number): void {
    if (this.fill === CHUNK_SIZE) this.addChunk();
    const at = this.fill++;
    this.currentUsers[at] = user;
    this.currentDays[at] = day;
    this.currentValues[at] = value;
    this.length++;
  }

  private addChunk(): void {
    this.currentUsers = new Int32Array(CHUNK_SIZE);
    this.currentDays = new Uint16Array(CHUNK_SIZE);
    this.currentValues = new Float64Array(CHUNK_SIZE);
    this.users.push(this.currentUsers);
    this.days.push(this.currentDays);
    this.values.push(this.currentValues);
    this.fill = 0;
  }
}

/** A log regrouped by user: user `u`'s records are `[start[u], start[u + 1])` of `days` and `values`. */
export interface ContributionsByUser {
  readonly start: Int32Array;
  readonly days: Uint16Array;
  readonly values: Float64Array;
}

/** Groups a log by user with a counting sort (linear; records keep their order within a user). */
export function groupByUser(log: ContributionLog, users: number): ContributionsByUser {
  const start = new Int32Array(users + 1);
  for (const chunk of chunksOf(log.users, log.length)) {
    for (let i = 0; i < chunk.length; i++) start[chunk[i]! + 1]!++;
  }
  for (let u = 0; u < users; u++) start[u + 1]! += start[u]!;
  const next = start.slice(0, users);
  const days = new Uint16Array(log.length);
  const values = new Float64Array(log.length);
  for (let c = 0; c < log.users.length; c++) {
    const chunkUsers = log.users[c]!;
    const chunkDays = log.days[c]!;
    const chunkValues = log.values[c]!;
    const n = Math.min(CHUNK_SIZE, log.length - c * CHUNK_SIZE);
    for (let i = 0; i < n; i++) {
      const at = next[chunkUsers[i]!]!++;
      days[at] = chunkDays[i]!;
      values[at] = chunkValues[i]!;
    }
  }
  return { start, days, values };
}

/** The filled part of each chunk. */
function chunksOf(chunks: readonly Int32Array[], length: number): Int32Array[] {
  return chunks.map((chunk, c) => chunk.subarray(0, Math.min(CHUNK_SIZE, length - c * CHUNK_SIZE)));
}
