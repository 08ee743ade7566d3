import { feedbackOf, type FeedbackConfig } from '../events/index.js';
import { csrFromCoo, type CsrMatrix, type TrainingInput } from '../models/index.js';
import type { Store } from '../store/index.js';

/** The user × item matrix the models learn from, with the ids behind its rows and columns. */
export interface TrainingSet {
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly input: TrainingInput;
  /** Events read from the log (all kinds). */
  readonly eventsRead: number;
  /**
   * The log position read through: every event with seq ≤ position, and no other, was read (see
   * `BundleInfo.position`).
   */
  readonly position: number;
  /**
   * The wall-clock time the scan started: "now" for what depends on time (e.g. whether an item has
   * expired), not a statement of which events were read — that is `position`.
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
 * Reads the event log through the store's cursor, up to the position it has when the read starts, and
 * aggregates it into a user × item matrix: each entry is the sum of the pair's feedback weights (negative
 * feedback subtracts), keeping the latest time. Pairs whose sum is not positive are left out. Events
 * committed during the read wait for the next run, so the set is exactly the log up to `position`.
 */
export async function buildTrainingSet(
  store: Store,
  feedback: FeedbackConfig,
  /** Whether a user's events may be learned from (their consent, `privacy/consent.ts`); all when absent. */
  personalizes: (userId: string) => boolean = () => true,
): Promise<TrainingSet> {
  const cutoff = Date.now();
  const position = await store.lastEventSeq();
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const userIds: string[] = [];
  const itemIds: string[] = [];
  const log = new FeedbackLog();
  let eventsRead = 0;
  for await (const batch of store.scanEvents({ withItemOnly: true, throughSeq: position })) {
    for (const event of batch) {
      eventsRead += 1;
      if (event.itemId === null || !personalizes(event.userId)) continue;
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
  const summed = csrFromCoo({
    rows: userIds.length,
    cols: itemIds.length,
    rowIdx: log.rows.subarray(0, log.length),
    colIdx: log.cols.subarray(0, log.length),
    values: log.weights.subarray(0, log.length),
    times: log.times.subarray(0, log.length),
  });
  const { matrix, times } = positiveEntries(summed.matrix, summed.times ?? new Float64Array(0));
  let now = 0;
  for (let k = 0; k < times.length; k++) now = Math.max(now, times[k]!);
  return { userIds, itemIds, input: { matrix, times, now }, eventsRead, position, cutoff };
}

/** Keeps the entries whose summed weight is positive: a pair the user turned down is not learned as liked. */
function positiveEntries(matrix: CsrMatrix, times: Float64Array): { matrix: CsrMatrix; times: Float64Array } {
  const indptr = new Int32Array(matrix.rows + 1);
  const indices = new Int32Array(matrix.indices.length);
  const data = new Float32Array(matrix.data.length);
  const kept = new Float64Array(times.length);
  let nnz = 0;
  for (let r = 0; r < matrix.rows; r++) {
    for (let k = matrix.indptr[r]!; k < matrix.indptr[r + 1]!; k++) {
      if (matrix.data[k]! <= 0) continue;
      indices[nnz] = matrix.indices[k]!;
      data[nnz] = matrix.data[k]!;
      kept[nnz] = times[k]!;
      nnz += 1;
    }
    indptr[r + 1] = nnz;
  }
  return {
    matrix: {
      rows: matrix.rows,
      cols: matrix.cols,
      indptr,
      indices: indices.slice(0, nnz),
      data: data.slice(0, nnz),
    },
    times: kept.slice(0, nnz),
  };
}
