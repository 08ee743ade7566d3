import type { Item } from '../catalog/index.js';
import { placeablePins, rankValues } from './rules-stage.js';
import type { Candidate, PipelineContext, Stage } from './types.js';

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
 *
 * With `caps` (`max_per_category`), a candidate is only eligible for a slot while each of its categories
 * has fewer than `caps.max` items among those chosen (an item with several categories counts toward
 * each; an item without categories is never capped). Candidates in `caps.exempt` (pins: the pins stage
 * places them wherever the caps say) are neither chosen here nor counted. When no eligible candidate is
 * left the pool is exhausted for the caps, and the slot goes to the best remaining candidate anyway, so
 * the list still has `n` items: a short list is worse for a shop than a repeated category.
 */
export function diversify(
  candidates: readonly Candidate[],
  n: number,
  lambda: number,
  categoriesOf: (candidate: Candidate) => readonly string[],
  /** Rank values instead of scores: when an earlier stage re-ordered the pool by something else. */
  byRank = false,
  caps?: CategoryCaps,
): Candidate[] {
  const size = candidates.length;
  const max = caps?.max ?? 0;
  const capped = caps !== undefined && max > 0;
  if ((lambda <= 0 && !capped) || size <= 1) return candidates.slice();
  if (categoryIds.size > MAX_CATEGORY_IDS) {
    // A fresh numbering, before any set of this call is built (ids from both would collide).
    categoryIds = new Map();
    setsByList = new WeakMap();
  }
  const buffers = scratchFor(size);
  const sets = buffers.sets;
  for (let i = 0; i < size; i++) sets[i] = categorySet(categoriesOf(candidates[i]!));
  const taken = buffers.taken;
  taken.fill(0, 0, size);
  if (capped && caps.exempt.size > 0) {
    // Exempt candidates are never picked here: marked as taken, they follow the chosen ones in order.
    for (let i = 0; i < size; i++) if (caps.exempt.has(candidates[i]!.itemId)) taken[i] = 2;
  }
  const counts = capped ? buffers.counts(categoryCount()) : null;
  const eligible = (i: number): boolean => {
    if (counts === null) return true;
    const set = sets[i]!;
    for (let k = 0; k < set.length; k++) if (counts[set[k]!]! >= max) return false;
    return true;
  };
  const out: Candidate[] = [];
  let picks = 0;
  for (let i = 0; i < size; i++) if (taken[i] === 0) picks++;
  picks = Math.min(n, picks);
  if (lambda <= 0) {
    // Caps alone: the first eligible candidates in pool order, then the best remaining if too few are.
    for (let i = 0; i < size && out.length < picks; i++) {
      if (taken[i] !== 0 || !eligible(i)) continue;
      choose(i);
    }
    for (let i = 0; i < size && out.length < picks; i++) if (taken[i] === 0) choose(i);
  } else {
    const relevance = relevanceOf(candidates, byRank, buffers.relevance);
    const maxSim = buffers.maxSim;
    maxSim.fill(0, 0, size);
    // With at most 32 distinct categories in the pool (the usual case), each set is one bit mask and a
    // similarity is two popcounts: the same counts, so the same Jaccard values as the set intersection.
    const masks = poolMasks(sets, size, buffers);
    for (let slot = 0; slot < picks; slot++) {
      let best = -1;
      let bestValue = -Infinity;
      let fallback = -1;
      let fallbackValue = -Infinity;
      for (let i = 0; i < size; i++) {
        if (taken[i] !== 0) continue;
        const value = (1 - lambda) * relevance[i]! - lambda * maxSim[i]!;
        if (value > bestValue && eligible(i)) {
          best = i;
          bestValue = value;
        } else if (value > fallbackValue) {
          fallback = i;
          fallbackValue = value;
        }
      }
      if (best < 0) best = fallback;
      choose(best);
      if (masks !== null) {
        const chosen = masks[best]!;
        if (chosen === 0) continue;
        const chosenCount = popcount(chosen);
        for (let i = 0; i < size; i++) {
          const mask = masks[i]!;
          if (taken[i] !== 0 || mask === 0) continue;
          const both = popcount(mask & chosen);
          const sim = both / (popcount(mask) + chosenCount - both);
          if (sim > maxSim[i]!) maxSim[i] = sim;
        }
      } else {
        const chosen = sets[best]!;
        for (let i = 0; i < size; i++) {
          if (taken[i] !== 0) continue;
          const sim = jaccard(sets[i]!, chosen);
          if (sim > maxSim[i]!) maxSim[i] = sim;
        }
      }
    }
  }
  if (counts !== null) {
    for (let i = 0; i < size; i++) if (taken[i] === 1) for (const id of sets[i]!) counts[id] = 0;
  }
  for (let i = 0; i < size; i++) if (taken[i] !== 1) out.push(candidates[i]!);
  sets.fill(EMPTY_SET, 0, size);
  return out;

  function choose(i: number): void {
    taken[i] = 1;
    out.push(candidates[i]!);
    if (counts !== null) for (const id of sets[i]!) counts[id]!++;
  }
}

/**
 * One 32-bit mask per pool candidate, bits numbered by first appearance in the pool; `null` when the pool
 * has more than 32 distinct categories. Reuses the scratch buffers; leaves `bitOf` all zero.
 */
function poolMasks(sets: readonly Int32Array[], size: number, buffers: Scratch): Int32Array | null {
  const masks = buffers.masks;
  const bitOf = buffers.bitOf(categoryCount());
  let next = 0;
  let fits = true;
  for (let i = 0; i < size && fits; i++) {
    const set = sets[i]!;
    let mask = 0;
    for (let k = 0; k < set.length; k++) {
      const id = set[k]!;
      let bit = bitOf[id]!;
      if (bit === 0) {
        if (next === 32) {
          fits = false;
          break;
        }
        bit = ++next;
        bitOf[id] = bit;
      }
      mask |= 1 << (bit - 1);
    }
    masks[i] = mask;
  }
  for (let i = 0; i < size; i++) for (const id of sets[i]!) bitOf[id] = 0;
  return fits ? masks : null;
}

/** Set bits of a 32-bit integer. */
function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** `max_per_category` for one request. */
export interface CategoryCaps {
  /** At most this many chosen items per category; 0 = no cap. */
  readonly max: number;
  /** Item ids the caps neither choose nor count (pins). */
  readonly exempt: ReadonlySet<string>;
}

/**
 * Relevance in [0, 1]: min-max scaled scores when one source ranked the whole pool (score gaps say how
 * much better an item is), else rank values, since scores of different sources are not comparable.
 */
function relevanceOf(candidates: readonly Candidate[], byRank: boolean, out: Float64Array): Float64Array {
  if (byRank) return rankValues(candidates, out);
  const source = candidates[0]!.source;
  let min = Infinity;
  let max = -Infinity;
  for (const c of candidates) {
    if (c.source !== source || !Number.isFinite(c.score)) return rankValues(candidates, out);
    if (c.score < min) min = c.score;
    if (c.score > max) max = c.score;
  }
  const range = max - min;
  if (!(range > 0)) return rankValues(candidates, out);
  for (let i = 0; i < candidates.length; i++) out[i] = (candidates[i]!.score - min) / range;
  return out;
}

// --- per-request buffers and category sets, reused across requests ----------------------------------

const EMPTY_SET = new Int32Array(0);

/**
 * Buffers as long as the pool, reused by every request (a pipeline runs synchronously, and `diversify`
 * never keeps them past its return): a request then allocates nothing here but the output list.
 */
interface Scratch {
  readonly taken: Uint8Array;
  readonly maxSim: Float64Array;
  readonly relevance: Float64Array;
  readonly sets: Int32Array[];
  readonly masks: Int32Array;
  /** Per-category counters, all zero between calls; as long as there are category ids. */
  counts(length: number): Int32Array;
  /** Category id → its bit + 1 in this pool (`poolMasks`), all zero between calls. */
  bitOf(length: number): Int32Array;
}

let scratch: Scratch | null = null;
let countsBuffer = new Int32Array(0);
let bitOfBuffer = new Int32Array(0);

function scratchFor(size: number): Scratch {
  if (scratch === null || scratch.taken.length < size) {
    const capacity = Math.max(size, 2 * (scratch?.taken.length ?? 64));
    scratch = {
      taken: new Uint8Array(capacity),
      maxSim: new Float64Array(capacity),
      relevance: new Float64Array(capacity),
      sets: new Array<Int32Array>(capacity).fill(EMPTY_SET),
      masks: new Int32Array(capacity),
      counts(length) {
        if (countsBuffer.length < length)
          countsBuffer = new Int32Array(Math.max(length, 2 * countsBuffer.length));
        return countsBuffer;
      },
      bitOf(length) {
        if (bitOfBuffer.length < length)
          bitOfBuffer = new Int32Array(Math.max(length, 2 * bitOfBuffer.length));
        return bitOfBuffer;
      },
    };
  }
  return scratch;
}

/**
 * Category names as small integers, shared by all requests, so that similarity compares numbers, not
 * strings. Bounded: past `MAX_CATEGORY_IDS` distinct names (a catalog churning through names), the next
 * `diversify` call starts a fresh numbering and fresh cached sets rather than growing without end.
 */
let categoryIds = new Map<string, number>();
const MAX_CATEGORY_IDS = 1 << 16;

/**
 * Each item's categories as a sorted set of ids without repeats, by the categories array itself: catalog
 * items are immutable (an update replaces the item and its array), so a set is built once per item
 * version and collected with it.
 */
let setsByList = new WeakMap<readonly string[], Int32Array>();

function categoryCount(): number {
  return categoryIds.size;
}

function categorySet(names: readonly string[]): Int32Array {
  if (names.length === 0) return EMPTY_SET;
  let set = setsByList.get(names);
  if (set !== undefined) return set;
  set = new Int32Array(names.length);
  for (let k = 0; k < names.length; k++) {
    let id = categoryIds.get(names[k]!);
    if (id === undefined) {
      id = categoryIds.size;
      categoryIds.set(names[k]!, id);
    }
    set[k] = id;
  }
  set = unique(set.sort());
  setsByList.set(names, set);
  return set;
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
const NO_PINS: ReadonlySet<string> = new Set();

/**
 * The diversity stage: MMR over the pool with the request's `diversity` strength, and the request's
 * `max_per_category` cap. Pins are exempt from the cap: they are a merchandiser's deliberate placement,
 * put on their slots by the pins stage after this one, and they do not use up their categories' share.
 */
export const diversityStage: Stage = {
  name: 'diversity',
  run(context) {
    const rules = context.request.rules;
    const lambda = rules?.diversity ?? 0;
    const max = rules?.maxPerCategory ?? 0;
    if ((lambda <= 0 && max <= 0) || context.candidates.length <= 1) return;
    const { catalog } = context;
    // After boosts, buries or freshness the pool's order, not the model's scores, is the relevance.
    // So is the re-ranker's order (`rerank-stage.ts`), which the model's scores no longer follow.
    const reordered =
      (rules !== undefined && (rules.adjustments.length > 0 || rules.freshness > 0)) ||
      context.candidates.some((c) => c.reranked === true);
    const caps: CategoryCaps | undefined = max > 0 ? { max, exempt: pinnedIds(context) } : undefined;
    context.candidates = diversify(
      context.candidates,
      context.request.n,
      lambda,
      (candidate) => catalog.get(candidate.itemId)?.categories ?? NO_CATEGORIES,
      reordered,
      caps,
    );
  },
};

/** The ids of the pins the pins stage will place (pins it drops are ordinary candidates here). */
function pinnedIds(context: PipelineContext): ReadonlySet<string> {
  const pins = placeablePins(context);
  return pins.length === 0 ? NO_PINS : new Set(pins.map((pin) => pin.itemId));
}

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
