import type { UserProfile } from './types.js';

/**
 * What a model derives from one profile before it can score it — the user's factors after a fresh
 * profile's conjugate-gradient update (ALS), or the representation mixed from the trained one and the
 * profile's centroids (the hybrid) — kept for as long as that profile object lives, so the work is done
 * once per profile rather than once per call (a request asks a model for scores, evidence, new-item and
 * feature-only scores, each of which needs the user's state).
 *
 * Keyed by the profile object, which makes it exact: profiles are immutable values, and serving builds a
 * new one whenever anything they are made of changes — a committed event of the user, a new bundle, other
 * settings — and hands out the same one otherwise (`recommendations/profile.ts`); the views derived from a
 * profile (recency weighting, `recency.ts`; the newest items for reasons) are made once per profile too. A
 * value found here was therefore computed from exactly the profile asked about, and a user's next event is
 * a new key. Recency weighting ranks interactions by order, not by age, so no value depends on the clock.
 *
 * Bounded by the profiles alive: an entry goes with its profile (a `WeakMap`), and serving keeps profiles
 * in bounded caches only; evaluation drops each profile after scoring it.
 */
export class PerProfile<T> {
  readonly #values = new WeakMap<UserProfile, T>();

  /** The value for `profile`, computed by `compute` the first time it is asked for. */
  get(profile: UserProfile, compute: (profile: UserProfile) => T): T {
    let value = this.#values.get(profile);
    if (value === undefined) {
      value = compute(profile);
      this.#values.set(profile, value);
    }
    return value;
  }
}
