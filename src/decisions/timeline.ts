import type { EpochMs } from '../shared/types.js';
import type { LoggedDecision } from './points/log-types.js';

/**
 * A decision point over time, for the dashboard: per hour or day, how many decisions, how many have their
 * outcome and what they earned, and how often the policy explored. The store aggregates its log into these
 * buckets (`Store.decisionActivity`); this module says what they mean.
 */

export interface DecisionBucketStats {
  readonly start: EpochMs;
  readonly decisions: number;
  /** Decisions whose outcome is known (a reward, or the default when the window closed). */
  readonly rewarded: number;
  readonly rewardSum: number;
  /** Decisions that `explored`. */
  readonly explored: number;
  /** The chosen actions' probabilities, summed. */
  readonly propensitySum: number;
}

export interface DecisionTimeline {
  /** Oldest first, zero-filled. */
  readonly buckets: readonly DecisionBucketStats[];
  /** Decisions before the first bucket. */
  readonly earlier: number;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Relative slack under which two probabilities count as equal (they come from floating-point policies). */
export const PROBABILITY_TIE = 1e-9;

/**
 * Whether a decision explored: its action was not one the policy gave the highest probability (an
 * ε-greedy learner's random pick, a Thompson draw that differed from the favourite). A uniform arm over
 * equal chances has no favourite, so it never counts: the mean propensity shows it instead. The chosen
 * action's probability is its propensity, so this needs no lookup of the action among those offered.
 */
export function explored(decision: Pick<LoggedDecision, 'probabilities' | 'propensity'>): boolean {
  let best = 0;
  for (const p of decision.probabilities) if (p > best) best = p;
  return decision.propensity < best * (1 - PROBABILITY_TIE);
}

/** The start of the first of `count` consecutive UTC hours or days that end with the one holding `now`. */
export function timelineStart(now: EpochMs, bucketMs: number, count: number): EpochMs {
  return (Math.floor(now / bucketMs) - count + 1) * bucketMs;
}
