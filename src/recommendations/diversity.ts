import type { Item } from '../catalog/index.js';
import { rankValues } from './rules-stage.js';
import type { Candidate, Stage } from './types.js';

/**
 * Maximal marginal relevance over category overlap. Greedily fills the first `n` slots with the
 * candidate maximising (1 − λ)·relevance − λ·max similarity to the items already chosen, where relevance
 * is the model score min-max scaled over the pool (score gaps say how much better an item is; the rank
 * value of `rankValues` when the pool mixes sources or rules re-ordered it) and similarity is the Jaccard
 * overlap of the items' categories. λ is the request's `diversity` (0 = off, the default: the model's
 * order is what ndcg measures, so diversity is opt-in per request or preset). Categories rather
 * than model similarity: they are what a shopper perceives as "the same kind of thing", they exist for
 * items no model knows, and the cost is n × pool small-set intersections, not n × pool factor products.
 *
 * Candidates past the first `n` keep their order after the chosen ones (the pins stage may still need
 * them). Ties go to the earlier candidate, so λ = 0 reproduces the input order exactly.
 */
export function diversify(
  candidates: readonly Candidate[],
  n: number,
  lambda: number,
  categoriesOf: (candidate: Candidate) => readonly string[],
  /** Rank values instead of scores: when an earlier stage re-ordered the pool by something else. */
  byRank = false,
): Candidate[] {
  const size = candidates.length;
  if (lambda <= 0 || size <= 1) return candidates.slice();
  // Categories as small sorted integer sets, so that the inner loop compares numbers, not strings.
  const ids = new Map<string, number>();
  const sets: Int32Array[] = candidates.map((candidate) => {
    const names = categoriesOf(candidate);
    const set = new Int32Array(names.length);
    for (let k = 0; k < names.length; k++) {
      let id = ids.get(names[k]!);
      if (id === undefined) {
        id = ids.size;
        ids.set(names[k]!, id);
      }
      set[k] = id;
    }
    return unique(set.sort());
  });
  const relevance = byRank ? rankValues(candidates) : relevanceOf(candidates);
  const maxSim = new Float64Array(size);
  const taken = new Uint8Array(size);
  const out: Candidate[] = [];
  const picks = Math.min(n, size);
  for (let slot = 0; slot < picks; slot++) {
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < size; i++) {
      if (taken[i] === 1) continue;
      const value = (1 - lambda) * relevance[i]! - lambda * maxSim[i]!;
      if (value > bestValue) {
        best = i;
        bestValue = value;
      }
    }
    taken[best] = 1;
    out.push(candidates[best]!);
    const chosen = sets[best]!;
    for (let i = 0; i < size; i++) {
      if (taken[i] === 1) continue;
      const sim = jaccard(sets[i]!, chosen);
      if (sim > maxSim[i]!) maxSim[i] = sim;
    }
  }
  for (let i = 0; i < size; i++) if (taken[i] === 0) out.push(candidates[i]!);
  return out;
}

/**
 * Relevance in [0, 1]: min-max scaled scores when one source ranked the whole pool (score gaps say how
 * much better an item is), else rank values, since scores of different sources are not comparable.
 */
function relevanceOf(candidates: readonly Candidate[]): Float64Array {
  const source = candidates[0]!.source;
  let min = Infinity;
  let max = -Infinity;
  for (const c of candidates) {
    if (c.source !== source || !Number.isFinite(c.score)) return rankValues(candidates);
    if (c.score < min) min = c.score;
    if (c.score > max) max = c.score;
  }
  const range = max - min;
  if (!(range > 0)) return rankValues(candidates);
  return Float64Array.from(candidates, (c) => (c.score - min) / range);
}

/** A sorted set without repeats (an item may list a category twice), in place. */
function unique(sorted: Int32Array): Int32Array {
  let n = 0;
  for (let k = 0; k < sorted.length; k++)
    if (k === 0 || sorted[k] !== sorted[k - 1]) sorted[n++] = sorted[k]!;
  return n === sorted.length ? sorted : sorted.subarray(0, n);
}

/** |a ∩ b| / |a ∪ b| of two sorted sets; two items without categories are not alike. */
export function jaccard(a: Int32Array, b: Int32Array): number {
  if (a.length === 0 || b.length === 0) return 0;
  let i = 0;
  let j = 0;
  let both = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      both++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return both / (a.length + b.length - both);
}

const NO_CATEGORIES: readonly string[] = [];

/** The diversity stage: MMR over the pool with the request's `diversity` strength. */
export const diversityStage: Stage = {
  name: 'diversity',
  run(context) {
    const lambda = context.request.rules?.diversity ?? 0;
    if (lambda <= 0 || context.candidates.length <= 1) return;
    const { catalog } = context;
    const rules = context.request.rules;
    // After boosts, buries or freshness the pool's order, not the model's scores, is the relevance.
    const reordered = rules !== undefined && (rules.adjustments.length > 0 || rules.freshness > 0);
    context.candidates = diversify(
      context.candidates,
      context.request.n,
      lambda,
      (candidate) => catalog.get(candidate.itemId)?.categories ?? NO_CATEGORIES,
      reordered,
    );
  },
};

/** Mean pairwise category dissimilarity (1 − Jaccard) of a list: the intra-list diversity reported. */
export function intraListDiversity(items: readonly Pick<Item, 'categories'>[]): number {
  if (items.length < 2) return 0;
  const ids = new Map<string, number>();
  const sets = items
    .map((item) =>
      Int32Array.from(
        item.categories.map((name) => {
          let id = ids.get(name);
          if (id === undefined) {
            id = ids.size;
            ids.set(name, id);
          }
          return id;
        }),
      ).sort(),
    )
    .map(unique);
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < sets.length; a++) {
    for (let b = a + 1; b < sets.length; b++) {
      sum += 1 - jaccard(sets[a]!, sets[b]!);
      pairs++;
    }
  }
  return sum / pairs;
}
