import { feedbackOf, type FeedbackConfig } from '../events/index.js';
import type { CsrMatrix, TrainingInput } from '../models/index.js';
import type { Store } from '../store/index.js';

/** The user × item matrix the models learn from, with the ids behind its rows and columns. */
export interface TrainingSet {
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly input: TrainingInput;
  /** Events read from the log (all kinds). */
  readonly eventsRead: number;
  /**
   * When the scan started. Events received before it are in the matrix; a user with events received at
   * or after it holds feedback the model has not seen (the serving path folds it in).
   */
  readonly cutoff: number;
}

/** Feedback as it streams in: one row per event that carries a weight. */
class FeedbackLog {
  rows = new Int32Array(1024);
  cols = new Int32Array(1024);
  weights = new Float32Array(1024);
  times = new Float64Array(1024);
  length = 0;

  push(row: number, col: number, weight: number, time: number): void {
    if (this.length === this.rows.length) this.grow();
    this.rows[this.length] = row;
    this.cols[this.length] = col;
    this.weights[this.length] = weight;
    this.times[this.length] = time;
    this.length += 1;
  }

  private grow(): void {
    const size = this.rows.length * 2;
    const rows = new Int32Array(size);
    rows.set(this.rows);
    const cols = new Int32Array(size);
    cols.set(this.cols);
    const weights = new Float32Array(size);
    weights.set(this.weights);
    const times = new Float64Array(size);
    times.set(this.times);
    Object.assign(this, { rows, cols, weights, times });
  }
}

function indexOf(ids: Map<string, number>, list: string[], id: string): number {
  let index = ids.get(id);
  if (index === undefined) {
    index = list.length;
    ids.set(id, index);
    list.push(id);
  }
  return index;
}

/**
 * Reads the whole event log through the store's cursor and aggregates it into a user × item matrix:
 * each entry is the sum of the pair's feedback weights (negative feedback subtracts), keeping the latest
 * time. Pairs whose sum is not positive are left out, so a dismissed item is not learned as liked.
 */
export async function buildTrainingSet(store: Store, feedback: FeedbackConfig): Promise<TrainingSet> {
  const cutoff = Date.now();
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const userIds: string[] = [];
  const itemIds: string[] = [];
  const log = new FeedbackLog();
  let eventsRead = 0;
  for await (const batch of store.scanEvents({ withItemOnly: true })) {
    for (const event of batch) {
      eventsRead += 1;
      if (event.itemId === null) continue;
      const kind = feedbackOf(feedback, event);
      if (kind.kind !== 'positive' && kind.kind !== 'negative') continue;
      const weight = kind.kind === 'positive' ? kind.weight : -kind.weight;
      log.push(
        indexOf(userIndex, userIds, event.userId),
        indexOf(itemIndex, itemIds, event.itemId),
        weight,
        event.timestamp,
      );
    }
  }
  const { matrix, times } = aggregate(log, userIds.length, itemIds.length);
  let now = 0;
  for (let k = 0; k < times.length; k++) now = Math.max(now, times[k]!);
  return { userIds, itemIds, input: { matrix, times, now }, eventsRead, cutoff };
}

/** Sums repeated (row, col) pairs, keeps the latest time, drops non-positive sums; rows and columns sorted. */
function aggregate(log: FeedbackLog, rows: number, cols: number): { matrix: CsrMatrix; times: Float64Array } {
  const counts = new Int32Array(rows + 1);
  for (let k = 0; k < log.length; k++) counts[log.rows[k]! + 1]! += 1;
  for (let r = 0; r < rows; r++) counts[r + 1]! += counts[r]!;
  const order = new Int32Array(log.length);
  const fill = counts.slice(0, rows);
  for (let k = 0; k < log.length; k++) order[fill[log.rows[k]!]!++] = k;

  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(log.length);
  const data = new Float32Array(log.length);
  const times = new Float64Array(log.length);
  let nnz = 0;
  for (let r = 0; r < rows; r++) {
    const slice = Array.from(order.subarray(counts[r]!, counts[r + 1]!));
    slice.sort((a, b) => log.cols[a]! - log.cols[b]! || a - b);
    let k = 0;
    while (k < slice.length) {
      const col = log.cols[slice[k]!]!;
      let weight = 0;
      let time = 0;
      for (; k < slice.length && log.cols[slice[k]!] === col; k++) {
        weight += log.weights[slice[k]!]!;
        time = Math.max(time, log.times[slice[k]!]!);
      }
      if (weight > 0) {
        indices[nnz] = col;
        data[nnz] = weight;
        times[nnz] = time;
        nnz += 1;
      }
    }
    indptr[r + 1] = nnz;
  }
  return {
    matrix: { rows, cols, indptr, indices: indices.slice(0, nnz), data: data.slice(0, nnz) },
    times: times.slice(0, nnz),
  };
}
