import type { CsrMatrix, Recommender } from '../models/types.js';
import type { HeldOutSplit } from './protocol.js';
import { HeldOutRanker, trainProfile } from './scoring.js';

/** A training matrix with the ids behind its rows and columns (what a training run reads). */
export interface IndexedMatrix {
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly matrix: CsrMatrix;
  /** Latest interaction time per matrix entry, for recency-weighted models. */
  readonly times?: Float64Array;
}

/**
 * The evaluation harness's top `k` for every user of `data`: `model` scores the user's training row
 * (`trainProfile`), the row's items are left out, ties go to the lower index — exactly the lists
 * `rankHeldOut` measures. `alsoExclude` leaves out further items per user (what serving knows and the
 * harness does not: items the user turned down, items the catalog no longer offers), to tell explained
 * differences from unexplained ones.
 */
export function evaluatedLists(
  model: Recommender,
  data: IndexedMatrix,
  k: number,
  alsoExclude: (userId: string) => ReadonlySet<string> = () => NOTHING,
): Map<string, string[]> {
  const { matrix, itemIds } = data;
  const none: HeldOutSplit = {
    part: 'validation',
    rows: { indptr: new Int32Array(matrix.rows + 1), items: new Int32Array(0), times: new Float64Array(0) },
  };
  const ranker = new HeldOutRanker(matrix, none, k);
  // For users with items to leave out: ranked further, so the next items replace them as serving does.
  let deep: HeldOutRanker | null = null;
  const scores = new Float32Array(matrix.cols);
  const lists = new Map<string, string[]>();
  for (let user = 0; user < matrix.rows; user++) {
    const userId = data.userIds[user]!;
    model.score(trainProfile(matrix, user, data.times), scores);
    const extra = alsoExclude(userId);
    const ranked =
      extra.size === 0
        ? ranker.rank(user, scores)
        : (deep ??= new HeldOutRanker(matrix, none, matrix.cols)).rank(user, scores);
    const list: string[] = [];
    for (const index of ranked) {
      const itemId = itemIds[index]!;
      if (extra.has(itemId)) continue;
      list.push(itemId);
      if (list.length === k) break;
    }
    lists.set(userId, list);
  }
  return lists;
}

const NOTHING: ReadonlySet<string> = new Set();

export interface ListComparison {
  /** Users compared (those with an evaluated list). */
  readonly users: number;
  /** Users whose served list equals the evaluated one, item for item. */
  readonly identical: number;
  /** The users whose lists differ, with both lists. */
  readonly differing: readonly {
    readonly userId: string;
    readonly served: readonly string[];
    readonly evaluated: readonly string[];
  }[];
}

/** Compares served lists with evaluated ones, user by user; a user served nothing counts as differing. */
export function compareLists(
  served: ReadonlyMap<string, readonly string[]>,
  evaluated: ReadonlyMap<string, readonly string[]>,
): ListComparison {
  let identical = 0;
  const differing: { userId: string; served: readonly string[]; evaluated: readonly string[] }[] = [];
  for (const [userId, want] of evaluated) {
    const got = served.get(userId) ?? [];
    if (got.length === want.length && got.every((id, r) => id === want[r])) identical += 1;
    else differing.push({ userId, served: got, evaluated: want });
  }
  return { users: evaluated.size, identical, differing };
}
