import { createHash } from 'node:crypto';
import type { CsrMatrix, TrainingInput } from '../models/types.js';
import type { Interaction } from './datasets.js';
import { idOrder } from './ids.js';

/**
 * Every user's item indices in protocol order — by (timestamp, item index) — as one flat CSR-like layout:
 * user u owns `items[indptr[u]..indptr[u+1]]`, with the matching `times` (epoch ms).
 */
export interface UserRows {
  readonly indptr: Int32Array;
  readonly items: Int32Array;
  readonly times: Float64Array;
}

/**
 * What models may learn from and be tuned on. The `part` tag keeps splits apart in signatures: tuning
 * takes a `TrainSplit` and nothing else, so the test split cannot reach it.
 */
export interface TrainSplit {
  readonly part: 'train';
  readonly nUsers: number;
  readonly nItems: number;
  readonly rows: UserRows;
}

/** Interactions held out of a train split to score it: the test split, or validation inside train. */
export interface HeldOutSplit {
  readonly part: 'test' | 'validation';
  readonly rows: UserRows;
}

export interface PreparedDataset {
  /** Original ids by index, in the protocol's order. */
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  /** Rows read, before repeated (user, item) pairs were merged. */
  readonly rowsRead: number;
  readonly train: TrainSplit;
  readonly test: HeldOutSplit;
}

/** The protocol's per-user holdout sizes: `n` is the user's interaction count in the split being cut. */
export const testHoldout = (n: number): number => (n >= 5 ? Math.max(1, Math.floor(n / 5)) : 0);
export const validationHoldout = (n: number): number => (n >= 5 ? Math.floor(n / 5) : 0);

/** Interactions as they stream in, ids interned in order of first appearance. */
class InteractionColumns {
  users = new Int32Array(1024);
  items = new Int32Array(1024);
  times = new Float64Array(1024);
  length = 0;
  readonly userIds: string[] = [];
  readonly itemIds: string[] = [];
  private readonly userIndex = new Map<string, number>();
  private readonly itemIndex = new Map<string, number>();

  add(row: Interaction): void {
    if (this.length === this.users.length) this.grow();
    this.users[this.length] = intern(this.userIndex, this.userIds, row.user);
    this.items[this.length] = intern(this.itemIndex, this.itemIds, row.item);
    this.times[this.length] = row.timestamp;
    this.length += 1;
  }

  private grow(): void {
    const size = this.users.length * 2;
    const users = new Int32Array(size);
    users.set(this.users);
    const items = new Int32Array(size);
    items.set(this.items);
    const times = new Float64Array(size);
    times.set(this.times);
    Object.assign(this, { users, items, times });
  }
}

function intern(index: Map<string, number>, list: string[], id: string): number {
  let found = index.get(id);
  if (found === undefined) {
    found = list.length;
    index.set(id, found);
    list.push(id);
  }
  return found;
}

/** Sorts interned ids into the protocol's order; returns the sorted ids and old index → new index. */
function reindex(ids: readonly string[]): { sorted: string[]; remap: Int32Array } {
  const order = idOrder(ids);
  const remap = new Int32Array(ids.length);
  order.forEach((old, position) => (remap[old] = position));
  return { sorted: order.map((old) => ids[old]!), remap };
}

/**
 * Groups interactions by user, keeps each (user, item) pair once with its earliest time, and orders each
 * user's pairs by (timestamp, item index) — item index order being the protocol's item id order.
 */
function groupByUser(
  columns: InteractionColumns,
  userRemap: Int32Array,
  itemRemap: Int32Array,
  nUsers: number,
) {
  const { length } = columns;
  const starts = new Int32Array(nUsers + 1);
  for (let k = 0; k < length; k++) starts[userRemap[columns.users[k]!]! + 1]! += 1;
  for (let u = 0; u < nUsers; u++) starts[u + 1]! += starts[u]!;
  const fill = starts.slice(0, nUsers);
  const items = new Int32Array(length);
  const times = new Float64Array(length);
  for (let k = 0; k < length; k++) {
    const at = fill[userRemap[columns.users[k]!]!]!++;
    items[at] = itemRemap[columns.items[k]!]!;
    times[at] = columns.times[k]!;
  }

  const indptr = new Int32Array(nUsers + 1);
  const outItems = new Int32Array(length);
  const outTimes = new Float64Array(length);
  let nnz = 0;
  for (let u = 0; u < nUsers; u++) {
    const start = starts[u]!;
    const byItem = Array.from({ length: starts[u + 1]! - start }, (_, j) => start + j);
    byItem.sort((a, b) => items[a]! - items[b]! || times[a]! - times[b]!);
    // The first of each run of one item is its earliest interaction.
    const unique = byItem.filter((k, j) => j === 0 || items[byItem[j - 1]!] !== items[k]);
    unique.sort((a, b) => times[a]! - times[b]! || items[a]! - items[b]!);
    for (const k of unique) {
      outItems[nnz] = items[k]!;
      outTimes[nnz] = times[k]!;
      nnz += 1;
    }
    indptr[u + 1] = nnz;
  }
  return { indptr, items: outItems.slice(0, nnz), times: outTimes.slice(0, nnz) };
}

/**
 * The protocol's data preparation: dedupe, index users and items by sorted id (the catalog is every item
 * in the data), and split each user's history temporally into train and test.
 */
export async function prepareDataset(
  source: Iterable<Interaction> | AsyncIterable<Interaction>,
): Promise<PreparedDataset> {
  const columns = new InteractionColumns();
  for await (const row of source) columns.add(row);
  const users = reindex(columns.userIds);
  const items = reindex(columns.itemIds);
  const nUsers = users.sorted.length;
  const nItems = items.sorted.length;
  const all = groupByUser(columns, users.remap, items.remap, nUsers);
  const { kept, held } = holdoutLast(all, testHoldout);
  return {
    userIds: users.sorted,
    itemIds: items.sorted,
    rowsRead: columns.length,
    train: { part: 'train', nUsers, nItems, rows: kept },
    test: { part: 'test', rows: held },
  };
}

/** Moves each user's last `take(n)` interactions (in protocol order) from `rows` into a held-out part. */
export function holdoutLast(rows: UserRows, take: (n: number) => number): { kept: UserRows; held: UserRows } {
  const nUsers = rows.indptr.length - 1;
  const total = rows.items.length;
  const keptPtr = new Int32Array(nUsers + 1);
  const heldPtr = new Int32Array(nUsers + 1);
  const keptItems = new Int32Array(total);
  const keptTimes = new Float64Array(total);
  const heldItems = new Int32Array(total);
  const heldTimes = new Float64Array(total);
  let k = 0;
  let h = 0;
  for (let u = 0; u < nUsers; u++) {
    const start = rows.indptr[u]!;
    const end = rows.indptr[u + 1]!;
    const cut = end - take(end - start);
    for (let j = start; j < end; j++) {
      if (j < cut) {
        keptItems[k] = rows.items[j]!;
        keptTimes[k++] = rows.times[j]!;
      } else {
        heldItems[h] = rows.items[j]!;
        heldTimes[h++] = rows.times[j]!;
      }
    }
    keptPtr[u + 1] = k;
    heldPtr[u + 1] = h;
  }
  return {
    kept: { indptr: keptPtr, items: keptItems.slice(0, k), times: keptTimes.slice(0, k) },
    held: { indptr: heldPtr, items: heldItems.slice(0, h), times: heldTimes.slice(0, h) },
  };
}

/**
 * Cuts the validation split from a train split (last `floor(n_train / 5)` of users with ≥ 5 train
 * interactions). Takes only the train split, so tuning built on it never sees the test split.
 */
export function validationSplit(train: TrainSplit): { fit: TrainSplit; validation: HeldOutSplit } {
  const { kept, held } = holdoutLast(train.rows, validationHoldout);
  return {
    fit: { part: 'train', nUsers: train.nUsers, nItems: train.nItems, rows: kept },
    validation: { part: 'validation', rows: held },
  };
}

/**
 * The users × items matrix of a train split with value 1 per pair (every interaction is an implicit
 * positive), columns ascending per row, and each pair's time for models that decay by age.
 */
export function trainingInput(train: TrainSplit): TrainingInput {
  const { indptr, items, times } = train.rows;
  const indices = new Int32Array(items.length);
  const sortedTimes = new Float64Array(items.length);
  let now = -Infinity;
  for (let u = 0; u < train.nUsers; u++) {
    const start = indptr[u]!;
    const order = Array.from({ length: indptr[u + 1]! - start }, (_, j) => start + j);
    order.sort((a, b) => items[a]! - items[b]!);
    order.forEach((k, j) => {
      indices[start + j] = items[k]!;
      sortedTimes[start + j] = times[k]!;
      now = Math.max(now, times[k]!);
    });
  }
  const matrix: CsrMatrix = {
    rows: train.nUsers,
    cols: train.nItems,
    indptr: indptr.slice(),
    indices,
    data: new Float32Array(items.length).fill(1),
  };
  return { matrix, times: sortedTimes, ...(items.length > 0 ? { now } : {}) };
}

/** Users with at least one held-out interaction: the users the metrics average over. */
export function heldOutUsers(split: HeldOutSplit): Int32Array {
  const { indptr } = split.rows;
  const users: number[] = [];
  for (let u = 0; u + 1 < indptr.length; u++) if (indptr[u + 1]! > indptr[u]!) users.push(u);
  return Int32Array.from(users);
}

/**
 * sha1 of the lines `USER_ID<TAB>ITEM_ID` (original ids) sorted by user then item in the protocol's id
 * order — i.e. by index — joined by `\n` with no trailing newline. Pins the split across implementations.
 */
export function splitFingerprint(dataset: PreparedDataset, split: HeldOutSplit = dataset.test): string {
  const hash = createHash('sha1');
  const { indptr, items } = split.rows;
  let first = true;
  for (let u = 0; u + 1 < indptr.length; u++) {
    const row = items.slice(indptr[u]!, indptr[u + 1]!).sort();
    for (const item of row) {
      hash.update(`${first ? '' : '\n'}${dataset.userIds[u]!}\t${dataset.itemIds[item]!}`);
      first = false;
    }
  }
  return hash.digest('hex');
}

export interface SplitSummary {
  readonly users: number;
  readonly items: number;
  readonly rowsRead: number;
  readonly pairs: number;
  readonly evaluatedUsers: number;
  readonly trainPairs: number;
  readonly testPairs: number;
  readonly validationPairs: number;
  readonly testFingerprint: string;
}

/** The numbers the protocol pins for a dataset, to check a preparation against the reference. */
export function summarize(dataset: PreparedDataset): SplitSummary {
  const { validation } = validationSplit(dataset.train);
  const trainPairs = dataset.train.rows.items.length;
  const testPairs = dataset.test.rows.items.length;
  return {
    users: dataset.userIds.length,
    items: dataset.itemIds.length,
    rowsRead: dataset.rowsRead,
    pairs: trainPairs + testPairs,
    evaluatedUsers: heldOutUsers(dataset.test).length,
    trainPairs,
    testPairs,
    validationPairs: validation.rows.items.length,
    testFingerprint: splitFingerprint(dataset),
  };
}
