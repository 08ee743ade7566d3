import { addZScored, BlendRecommender } from '../models/blend.js';
import { TopKHeap } from '../models/topk.js';
import type { Recommender, TrainingInput, UserProfile } from '../models/types.js';
import { FeatureTable } from './feature-table.js';

/**
 * The first stage: each user's top N items by the candidate generator (the selected model or blend),
 * outside the user's rows of the matrix it was fitted on, as the protocol ranks. Each list keeps the
 * generator's order (row 0 is its best), so the generator's own ranking of a list is its row order, and
 * the signals the re-ranker learns from: the generator's score and rank, and each blend component's
 * z-scored score and rank within the list.
 */
export interface CandidateLists {
  /** The user of each list. */
  readonly users: Int32Array;
  /** List q's rows are `offsets[q] .. offsets[q + 1]`. */
  readonly offsets: Int32Array;
  /** Each row's item. */
  readonly items: Int32Array;
  /** One row per (user, candidate); starts with the generator's columns (`GENERATOR_COLUMNS`, per part). */
  readonly table: FeatureTable;
}

/** Candidates per user unless told otherwise: wide enough that most of what the re-ranker lifts is in it. */
export const DEFAULT_CANDIDATES = 200;

/**
 * The generator's own columns (its score, rank, and score below the list's top, which puts users whose
 * lists are flat and users with one clear favourite on one scale); blend components add `z_<model>` and
 * `rank_<model>`.
 */
export const GENERATOR_COLUMNS = ['gen_score', 'gen_rank', 'gen_gap'] as const;

interface Part {
  readonly model: Recommender;
  readonly weight: number;
}

/** A blend's weighted components, or the model itself as the one part of weight 1. */
function partsOf(generator: Recommender): readonly Part[] {
  if (generator instanceof BlendRecommender) return generator.components.filter((p) => p.weight !== 0);
  return [{ model: generator, weight: 1 }];
}

/** User `user`'s row of the fit matrix as a model profile (the layout evaluation and serving use). */
export function rowProfile(input: TrainingInput, user: number): UserProfile {
  const { matrix, times } = input;
  const start = matrix.indptr[user]!;
  const end = matrix.indptr[user + 1]!;
  return {
    userIndex: user,
    fresh: false,
    items: matrix.indices.subarray(start, end),
    weights: matrix.data.subarray(start, end),
    ...(times === undefined ? {} : { times: times.subarray(start, end) }),
  };
}

/**
 * Top-`n` candidates for each of `users` from `generator`, fitted on `input`. For a blend the components
 * are scored once each and summed exactly as `BlendRecommender.score` sums them (same z-scoring, same
 * order), so the lists' order is the blend's ranking; their z-scores are kept as columns on the way.
 */
export function generateCandidates(
  generator: Recommender,
  input: TrainingInput,
  users: Int32Array,
  n: number = DEFAULT_CANDIDATES,
): CandidateLists {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`candidates: n must be a positive integer, got ${n}`);
  const nItems = input.matrix.cols;
  const parts = partsOf(generator);
  const blended = generator instanceof BlendRecommender;
  const depth = Math.min(n, nItems);
  // Upper bound on rows; trimmed at the end (users with fewer unseen items give shorter lists).
  const capacity = users.length * depth;
  const items = new Int32Array(capacity);
  const genScore = new Float64Array(capacity);
  const partZ = parts.map(() => new Float64Array(capacity));
  const offsets = new Int32Array(users.length + 1);

  const scratch = new Float32Array(nItems);
  const combined = new Float32Array(nItems);
  const zs = parts.map(() => new Float32Array(nItems));
  const seen = new Uint8Array(nItems);
  const heap = new TopKHeap(depth);
  const listItems = new Int32Array(depth);
  let rows = 0;
  users.forEach((user, q) => {
    const profile = rowProfile(input, user);
    for (const item of profile.items) seen[item] = 1;
    combined.fill(0);
    parts.forEach(({ model, weight }, c) => {
      model.score(profile, scratch);
      const z = zs[c]!;
      z.fill(0);
      addZScored(scratch, seen, 1, z);
      if (blended) addZScored(scratch, seen, weight, combined);
      else combined.set(scratch);
    });
    heap.reset(depth);
    for (let item = 0; item < nItems; item++) if (seen[item] === 0) heap.push(item, combined[item]!);
    const count = heap.drain(listItems);
    for (let r = 0; r < count; r++) {
      const item = listItems[r]!;
      items[rows + r] = item;
      genScore[rows + r] = combined[item]!;
      parts.forEach((_, c) => (partZ[c]![rows + r] = zs[c]![item]!));
    }
    for (const item of profile.items) seen[item] = 0;
    rows += count;
    offsets[q + 1] = rows;
  });

  const table = new FeatureTable(rows);
  table.set('gen_score', genScore.slice(0, rows));
  const genRank = table.add('gen_rank');
  const genGap = table.add('gen_gap');
  for (let q = 0; q < users.length; q++) {
    const top = genScore[offsets[q]!]!;
    for (let row = offsets[q]!; row < offsets[q + 1]!; row++) {
      genRank[row] = row - offsets[q]!;
      genGap[row] = top - genScore[row]!;
    }
  }
  if (parts.length > 1) {
    parts.forEach(({ model }, c) => {
      const z = partZ[c]!.slice(0, rows);
      table.set(`z_${model.name}`, z);
      table.set(`rank_${model.name}`, ranksWithin(z, offsets));
    });
  }
  return { users: users.slice(), offsets, items: items.slice(0, rows), table };
}

/** Each row's 0-based rank by `values` (descending) within its list; ties keep the list's order. */
export function ranksWithin(values: Float64Array, offsets: Int32Array): Float64Array {
  const out = new Float64Array(values.length);
  let order = new Int32Array(0);
  for (let q = 0; q + 1 < offsets.length; q++) {
    const start = offsets[q]!;
    const size = offsets[q + 1]! - start;
    if (order.length < size) order = new Int32Array(size);
    const view = order.subarray(0, size);
    for (let j = 0; j < size; j++) view[j] = start + j;
    view.sort((a, b) => values[b]! - values[a]! || a - b);
    for (let r = 0; r < size; r++) out[view[r]!] = r;
  }
  return out;
}
