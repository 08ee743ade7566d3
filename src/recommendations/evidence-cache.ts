import type { Evidence, Recommender, UserProfile } from '../models/index.js';

/**
 * The most items whose evidence is kept per model and profile: a whole list at the largest n the engine
 * serves (`maxResults`, 100) with a few pins. Past it evidence is still given, just not kept.
 */
export const EVIDENCE_KEPT = 128;

/** Evidence found so far, by profile, then model, then item. */
const kept = new WeakMap<UserProfile, Map<Recommender, Map<number, Evidence>>>();

/**
 * `model.evidence(profile, item)`, remembered. The explain stage asks for the evidence behind every listed
 * item on every request, and the search behind it is the costliest part of a request once the user's
 * scores are cached (`scoreItems`): for the factor models a cosine per pair of listed item and recent
 * history item, ~150 µs for 20 items × 50 history items × 64 factors. A user who asks again before doing
 * anything gets the same list, so the same searches.
 *
 * Exact: a model's evidence is a function of its fitted state, which never changes once fitted, of the
 * profile, which serving rebuilds as a new object whenever the user's history changes and reuses
 * otherwise (`buildProfile`, `newestItems`), and of the item. Bounded: held weakly by the profile (an
 * entry goes with it), at most `EVIDENCE_KEPT` items per model and profile.
 */
export function cachedEvidence(model: Recommender, profile: UserProfile, item: number): Evidence {
  let byModel = kept.get(profile);
  if (byModel === undefined) {
    byModel = new Map();
    kept.set(profile, byModel);
  }
  let byItem = byModel.get(model);
  if (byItem === undefined) {
    byItem = new Map();
    byModel.set(model, byItem);
  }
  let evidence = byItem.get(item);
  if (evidence === undefined) {
    evidence = model.evidence(profile, item);
    if (byItem.size < EVIDENCE_KEPT) byItem.set(item, evidence);
  }
  return evidence;
}
