import type { CsrMatrix, Recommender, TrainingInput, UserProfile } from '../models/types.js';
import type { CandidateLists } from './candidates.js';
import { FeatureTable } from './feature-table.js';
import type { ItemCategories, LoggedList } from './train-reranker.js';

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

/** A deterministic stream in [0, 1) (mulberry32): fixtures without Math.random. */
export function stream(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A planted shop log: users, their early history, served lists and what followed. */
export interface PlantedLog {
  readonly input: TrainingInput;
  readonly lists: LoggedList[];
  readonly categories: ItemCategories;
  /** Each user's favourite category (item i is in category i % 3). */
  readonly favourite: Int32Array;
}

/**
 * `nUsers` users, 60 items in 3 categories (item i in i % 3). Each user has a favourite category and an
 * early history of 6 items, 4 of them in it. Lists of 10, in an order of random generator scores that know
 * nothing of categories (or, `informed` > 0, favour the favourite category by that much), are served over
 * 20 days; the user looks at position k with chance `exam^k` and clicks a looked-at item with chance
 * `click(favourite?)`, times `fatigue` per earlier list that showed them the item.
 */
export function plantedLog(
  nUsers: number,
  listsPerUser: number,
  exam: number,
  click: (inFavourite: boolean) => number,
  seed = 1,
  /** What the generator's scores add for an item in the user's favourite category (0: they know nothing). */
  informed = 0,
  /** Each earlier list that showed the user an item multiplies their click chance on it by this. */
  fatigue = 1,
): PlantedLog {
  const nItems = 60;
  const random = stream(seed);
  const favourite = Int32Array.from({ length: nUsers }, () => Math.floor(random() * 3));
  const rows: Row[] = [];
  for (let u = 0; u < nUsers; u++) {
    const taken = new Set<number>();
    while (taken.size < 6) {
      const inFav = taken.size < 4;
      const c = inFav ? favourite[u]! : (favourite[u]! + 1 + Math.floor(random() * 2)) % 3;
      taken.add(c + 3 * Math.floor(random() * 20));
    }
    for (const item of taken) rows.push([u, item, random() * 5]);
  }
  const input = { ...inputOf(rows, nUsers, nItems), now: 5 * DAY };
  const lists: LoggedList[] = [];
  const shownBefore = Array.from({ length: nUsers }, () => new Map<number, number>());
  for (let l = 0; l < listsPerUser; l++) {
    for (let u = 0; u < nUsers; u++) {
      const at = (6 + (14 * (l * nUsers + u)) / (listsPerUser * nUsers)) * DAY;
      const scores = Array.from(
        { length: nItems },
        (_, i) => random() + (i % 3 === favourite[u] ? informed : 0),
      );
      const shown = Array.from({ length: nItems }, (_, i) => i)
        .sort((a, b) => scores[b]! - scores[a]!)
        .slice(0, 10);
      const seen = shownBefore[u]!;
      const grades = shown.map((item, k) =>
        random() < exam ** k && random() < click(item % 3 === favourite[u]) * fatigue ** (seen.get(item) ?? 0)
          ? 1
          : 0,
      );
      for (const item of shown) seen.set(item, (seen.get(item) ?? 0) + 1);
      lists.push({
        user: u,
        at,
        items: Int32Array.from(shown),
        positions: Int32Array.from(shown, (_, k) => k),
        scores: Float64Array.from(shown, (i) => scores[i]!),
        grades: Float64Array.from(grades),
      });
    }
  }
  const categories = {
    itemCategory: Int32Array.from({ length: nItems }, (_, i) => i % 3),
    categories: ['a', 'b', 'c'],
  };
  return { input, lists, categories, favourite };
}
