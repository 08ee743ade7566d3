import { matchesItem } from '../catalog/index.js';
import { filterMask } from './filter-mask.js';
import type { ServingProfile } from './profile.js';
import { hasRules, reshowAllows, type Pin, type Rules } from './rules.js';
import type { Candidate, PipelineContext, Reason, RecommendationRequest, Stage } from './types.js';

/**
 * How a freshness boost fades with an item's age: an item `FRESHNESS_HALF_LIFE_DAYS` old gets half the
 * boost of a brand-new one. Two weeks suits shops, where "new" means this season's arrivals.
 */
export const FRESHNESS_HALF_LIFE_DAYS = 14;
const DAY_MS = 86_400_000;

/**
 * How many candidates the select stage takes: rules, pins and diversity re-rank a pool larger than the
 * list, so that what they push down is replaced by the next best rather than by nothing.
 */
export function candidatePoolSize(request: RecommendationRequest): number {
  const pins = request.rules?.pins.length ?? 0;
  return Math.max(request.n * 3, request.n + pins + 50);
}

/** Whether the request's rules allow an item the user may already have had (pins aside). */
export function ruleAllows(rules: Rules, profile: ServingProfile, itemId: string, now: number): boolean {
  if (rules.exclude.has(itemId)) return false;
  const k = profile.history.find(itemId);
  return k < 0 || historyAllows(rules, profile, k, now);
}

/** `ruleAllows` for the user's history entry `k`: bought (`not purchased`) and re-show policy. */
function historyAllows(rules: Rules, profile: ServingProfile, k: number, now: number): boolean {
  const { history } = profile;
  const purchased = history.purchasedAt(k);
  if (rules.notPurchased && purchased) return false;
  if (!rules.reshow) return true;
  return reshowAllows(purchased ? rules.reshow.purchased : rules.reshow.seen, history.lastAt[k]!, now);
}

/**
 * Marks what the rules leave out in the bundle's exclusion mask before candidates are selected: the
 * exclude list, bought items (`not purchased`) and items the re-show policy holds back. Property filters
 * are the request filter, applied by the filter stage. Costs what the user's history and the lists hold,
 * never the catalog size.
 */
export const ruleFilter: Stage = {
  name: 'rules-filter',
  run(context) {
    const { bundle, excluded, profile, request } = context;
    const rules = request.rules;
    if (!hasRules(rules) || !bundle || !excluded) return;
    const mark = (itemId: string): void => {
      const index = bundle.itemIndex.get(itemId);
      if (index !== undefined) excluded[index] = 1;
    };
    for (const itemId of rules.exclude) mark(itemId);
    if (rules.notPurchased || rules.reshow) {
      const { historyIndex } = profile;
      for (let k = 0; k < historyIndex.length; k++) {
        const index = historyIndex[k]!;
        if (index >= 0 && !historyAllows(rules, profile, k, request.now)) excluded[index] = 1;
      }
    }
  },
};

/**
 * Each candidate's rule value: 1 − rank / pool, where candidates with equal scores from the same source
 * share the rank of the first of them. Ranks rather than raw scores, because the pool mixes sources (the
 * model, popularity backfill, catalog backfill) whose scores are not on one scale, and ALS scores can be
 * negative, which would turn a multiplicative bury into a boost. Shared ranks keep ties tied, so a buried
 * item never passes an equally scored unburied one.
 */
export function rankValues(
  candidates: readonly Candidate[],
  /** Where to write them (at least `candidates.length` long): the serving path reuses one buffer. */
  values: Float64Array = new Float64Array(candidates.length),
): Float64Array {
  let groupStart = 0;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    const previous = candidates[i - 1];
    if (!previous || previous.score !== c.score || previous.source !== c.source) groupStart = i;
    values[i] = 1 - groupStart / candidates.length;
  }
  return values;
}

/**
 * Pool-long buffers of `ruleScore`, reused by every request rather than allocated per request: the stage
 * runs synchronously and reads them only before it returns.
 */
const scratch = { values: new Float64Array(0), lifted: new Uint8Array(0) };

/**
 * Boost, bury and freshness: re-ranks the pool by each candidate's rule value times its boosts (and plus
 * its shifts), stable for equal values. A candidate lifted into
 * the first `n` by a rule is marked, so its reason says so.
 */
export const ruleScore: Stage = {
  name: 'rules-score',
  run(context) {
    const { request, catalog } = context;
    const rules = request.rules;
    if (!rules || (rules.adjustments.length === 0 && rules.freshness === 0)) return;
    const candidates = context.candidates;
    if (candidates.length === 0) return;
    if (scratch.values.length < candidates.length) {
      scratch.values = new Float64Array(2 * candidates.length);
      scratch.lifted = new Uint8Array(2 * candidates.length);
    }
    const values = rankValues(candidates, scratch.values);
    const lifted = scratch.lifted.fill(0, 0, candidates.length);
    const perMs = 1 / (FRESHNESS_HALF_LIFE_DAYS * DAY_MS);
    const { adjustments } = rules;
    const { bundle } = context;
    // Bundle items are matched through each filter's cached mask; catalog backfill (index -1) directly.
    const masks = bundle ? adjustments.map((a) => filterMask(a.filter, bundle, catalog)) : null;
    const size = candidates.length;
    for (let i = 0; i < size; i++) {
      const candidate = candidates[i]!;
      const item = catalog.get(candidate.itemId);
      if (!item) continue;
      let value = values[i]!;
      let boosted = false;
      for (let a = 0; a < adjustments.length; a++) {
        const adjustment = adjustments[a]!;
        const matches =
          masks !== null && candidate.index >= 0
            ? masks[a]![candidate.index] === 0
            : matchesItem(item, adjustment.filter);
        if (!matches) continue;
        value = value * adjustment.scale + adjustment.add;
        if (adjustment.kind === 'boost') boosted = true;
      }
      let fresh = false;
      if (rules.freshness > 0) {
        const age = Math.max(0, request.now - item.createdAt);
        const lift = rules.freshness * Math.pow(0.5, age * perMs);
        value *= 1 + lift;
        fresh = lift >= 0.05;
      }
      values[i] = value;
      if (i >= request.n) lifted[i] = boosted ? 1 : fresh ? 2 : 0;
    }
    const order: number[] = new Array<number>(size);
    for (let i = 0; i < size; i++) order[i] = i;
    // Array.prototype.sort is stable: equal values keep their pool order.
    // (-1, 0, 1 rather than a difference: a double returned from the comparator is boxed on every call.)
    order.sort((a, b) => {
      const x = values[a]!;
      const y = values[b]!;
      return y > x ? 1 : y < x ? -1 : 0;
    });
    const ranked: Candidate[] = new Array<Candidate>(size);
    for (let k = 0; k < size; k++) {
      const i = order[k]!;
      const c = candidates[i]!;
      const rule = lifted[i] === 1 ? 'boosted' : lifted[i] === 2 ? 'fresh' : c.rule;
      // The reported score stays the model's: it keeps one meaning across requests and sources, and
      // the order already says what the rules did.
      ranked[k] = rule ? markedBy(c, rule) : c;
    }
    context.candidates = ranked;
  },
};

/**
 * `candidate` marked as placed by `rule`, every field written out rather than `{ ...candidate, rule }`: a
 * property added to a spread copy takes V8's slow path on Node 20 (`shared/extend.ts`), and a boost marks
 * every matching candidate below the first `n`, ~45 a request. `Required` makes a field added to
 * `Candidate` one this must copy.
 */
function markedBy(candidate: Candidate, rule: NonNullable<Candidate['rule']>): Candidate {
  const marked: Required<Candidate> = {
    itemId: candidate.itemId,
    index: candidate.index,
    score: candidate.score,
    source: candidate.source,
    rule,
    reranked: candidate.reranked === true,
  };
  return marked;
}

/**
 * The request's pins that the pins stage places: on a slot within the list, not excluded, not turned
 * down by the user, and recommendable now.
 */
export function placeablePins(context: PipelineContext): readonly Pin[] {
  const { request, catalog, profile } = context;
  const rules = request.rules;
  if (!rules || rules.pins.length === 0) return NO_PINS;
  return rules.pins.filter(
    (pin) =>
      pin.slot < request.n &&
      !rules.exclude.has(pin.itemId) &&
      !profile.history.rejected(pin.itemId) &&
      catalog.isRecommendable(pin.itemId, request.now),
  );
}

const NO_PINS: readonly Pin[] = Object.freeze([]);

/**
 * Places pinned items exactly at their slots: each pin that the catalog can show (exists, available, not
 * expired), that is not excluded and that the user did not turn down goes to its slot, the other
 * candidates fill the remaining slots in order. A pin whose slot lies beyond the candidates moves up to
 * the end of the list rather than being lost.
 */
export const placePins: Stage = {
  name: 'rules-pins',
  run(context) {
    const { bundle } = context;
    const pins = placeablePins(context);
    if (pins.length === 0) return;
    const pinned = new Set(pins.map((pin) => pin.itemId));
    const byId = new Map<string, Candidate>();
    const rest: Candidate[] = [];
    for (const candidate of context.candidates) {
      if (pinned.has(candidate.itemId)) byId.set(candidate.itemId, candidate);
      else rest.push(candidate);
    }
    const pinCandidate = (itemId: string): Candidate => {
      const found = byId.get(itemId);
      if (found) return markedBy(found, 'pinned');
      const index = bundle?.itemIndex.get(itemId) ?? -1;
      const score = index >= 0 && context.scores ? context.scores[index]! : 0;
      return { itemId, index, score, source: index >= 0 ? context.model : null, rule: 'pinned' };
    };
    const out: Candidate[] = [];
    let next = 0;
    for (const pin of pins) {
      while (out.length < pin.slot && next < rest.length) out.push(rest[next++]!);
      out.push(pinCandidate(pin.itemId));
    }
    while (next < rest.length) out.push(rest[next++]!);
    context.candidates = out;
  },
};

/** Cuts the pool down to the `n` the request asked for, after every re-ranking stage. */
export const truncate: Stage = {
  name: 'truncate',
  run(context) {
    if (context.candidates.length > context.request.n) context.candidates.length = context.request.n;
  },
};

/** The reason of an item a rule put in the list, or `null` when the model's reason stands. */
export function ruleReason(context: PipelineContext, candidate: Candidate): Reason | null {
  switch (candidate.rule) {
    case 'pinned':
      return { kind: 'pinned', text: 'Pinned by rule' };
    case 'boosted':
      return { kind: 'boosted', text: 'Boosted by rule' };
    case 'fresh': {
      const category = context.catalog.get(candidate.itemId)?.categories[0];
      return { kind: 'new', text: category ? `New in ${category}` : 'New in the catalog' };
    }
    default:
      return null;
  }
}
