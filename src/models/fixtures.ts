import { csrFromCoo } from './csr.js';
import { mulberry32 } from './random.js';
import type { CsrMatrix, Recommender, UserProfile } from './types.js';

/**
 * Synthetic feedback with planted structure, for tests: users 0..users/2-1 (group A) interact only with
 * items 0..items/2-1 (cluster A), the other users only with the other items, each user with a seeded
 * random `density` share of its cluster. Any sensible model must rank a user's unseen own-cluster items
 * above every other-cluster item.
 */
export function plantedClusters(users = 40, items = 20, density = 0.5, seed = 7): CsrMatrix {
  const random = mulberry32(seed);
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  const half = items / 2;
  for (let u = 0; u < users; u++) {
    const offset = u < users / 2 ? 0 : half;
    for (let i = 0; i < half; i++) {
      if (random() < density) {
        rowIdx.push(u);
        colIdx.push(offset + i);
      }
    }
  }
  return csrFromCoo({ rows: users, cols: items, rowIdx, colIdx, values: rowIdx.map(() => 1) }).matrix;
}

/** A profile from user `u`'s row of `m`, as evaluation builds it. */
export function rowProfile(m: CsrMatrix, u: number, fresh = false): UserProfile {
  const start = m.indptr[u]!;
  const end = m.indptr[u + 1]!;
  return { userIndex: u, fresh, items: m.indices.slice(start, end), weights: m.data.slice(start, end) };
}

/** A profile of a user the model never saw. */
export function newUserProfile(items: readonly number[], weights?: readonly number[]): UserProfile {
  return {
    userIndex: -1,
    fresh: true,
    items: Int32Array.from(items),
    weights: Float32Array.from(weights ?? items.map(() => 1)),
  };
}

/**
 * Each of `users`' scores by `model`, from their row of `m` with weights falling by position (1, ½, ⅓, …)
 * so that a path that ignored the weights would show.
 */
export function scoresByUser(model: Recommender, m: CsrMatrix, users: readonly number[]): Float32Array[] {
  return users.map((u) => {
    const row = rowProfile(m, u);
    const scores = new Float32Array(m.cols);
    model.score({ ...row, weights: Float32Array.from(row.weights, (w, k) => w / (k + 1)) }, scores);
    return scores;
  });
}
