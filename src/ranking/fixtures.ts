import type { CsrMatrix, Recommender, TrainingInput, UserProfile } from '../models/types.js';
import type { CandidateLists } from './candidates.js';
import { FeatureTable } from './feature-table.js';

/** Test fixtures: hand-built logs, fake generators and lists (no shared data). */

export const DAY = 86_400_000;

/** One interaction: user, item, time in days. */
export type Row = readonly [user: number, item: number, day: number];

/** The training input of `rows` (each (user, item) once), as the protocol's `trainingInput` lays it out. */
export function inputOf(rows: readonly Row[], nUsers: number, nItems: number): TrainingInput {
  const sorted = [...rows].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const indptr = new Int32Array(nUsers + 1);
  for (const [user] of sorted) indptr[user + 1]! += 1;
  for (let u = 0; u < nUsers; u++) indptr[u + 1]! += indptr[u]!;
  const matrix: CsrMatrix = {
    rows: nUsers,
    cols: nItems,
    indptr,
    indices: Int32Array.from(sorted, (r) => r[1]),
    data: new Float32Array(sorted.length).fill(1),
  };
  return { matrix, times: Float64Array.from(sorted, (r) => r[2] * DAY) };
}

/** Held-out rows by user, as the protocol's `UserRows` (without times). */
export function heldOutOf(rows: readonly Row[], nUsers: number): { indptr: Int32Array; items: Int32Array } {
  const sorted = [...rows].sort((a, b) => a[0] - b[0] || a[2] - b[2]);
  const indptr = new Int32Array(nUsers + 1);
  for (const [user] of sorted) indptr[user + 1]! += 1;
  for (let u = 0; u < nUsers; u++) indptr[u + 1]! += indptr[u]!;
  return { indptr, items: Int32Array.from(sorted, (r) => r[1]) };
}

/** A generator that scores item i for user u by `score(u, i)`. */
export function fakeGenerator(
  nUsers: number,
  nItems: number,
  score: (user: number, item: number) => number,
): Recommender {
  return {
    name: 'popularity',
    params: null,
    nUsers,
    nItems,
    score(profile: UserProfile, out: Float32Array) {
      for (let i = 0; i < nItems; i++) out[i] = score(profile.userIndex, i);
    },
    similar: () => [],
    evidence: () => ({ kind: 'popular', popularity: 0 }),
    toArtifact() {
      throw new Error('fake generator');
    },
  };
}

/** Lists built by hand: user u's list is `lists[u]` (items in the generator's order), an empty table. */
export function listsOf(users: readonly number[], lists: readonly (readonly number[])[]): CandidateLists {
  const offsets = new Int32Array(users.length + 1);
  lists.forEach((list, q) => (offsets[q + 1] = offsets[q]! + list.length));
  return {
    users: Int32Array.from(users),
    offsets,
    items: Int32Array.from(lists.flat()),
    table: new FeatureTable(offsets[users.length]!),
  };
}
