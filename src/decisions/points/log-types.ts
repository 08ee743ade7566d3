import type { EpochMs, JsonValue } from '../../shared/types.js';

/**
 * The decision log's rows: what `POST /v1/decisions/:point` chose, with everything off-policy evaluation
 * and the learner's later update need (the feature row the choice was made on, the actions offered and
 * their probabilities), and, once known, the outcome. The store keeps them; `decisions/` gives them
 * meaning.
 */

/** Which policy chose: what a report splits decisions by. */
export type DecisionPolicy =
  /** The point's learner (with its exploration). */
  | 'learner'
  /** Apprentice mode: the default action, while the learner learns beside it. */
  | 'apprentice'
  /** The default action: a paused point, an experiment's control, or the global holdout. */
  | 'default'
  /** Uniformly at random among the offered actions (an experiment variant for unbiased logging). */
  | 'uniform'
  /** The default action because the point's guardrail tripped. */
  | 'guardrail'
  /**
   * The default action because the user's consent withholds personalization (`privacy/consent.ts`): logged
   * for measurement, never learned from.
   */
  | 'consent';

/** How a decision's reward became known. */
export type OutcomeSource =
  /** `POST /v1/decisions/:point/reward`. */
  | 'explicit'
  /** An event of the user within the reward window (automatic attribution). */
  | 'event'
  /** No reward within the window: the point's default reward. */
  | 'timeout';

export interface DecisionOutcome {
  readonly reward: number;
  readonly at: EpochMs;
  readonly source: OutcomeSource;
}

export interface LoggedDecision {
  /** Unique; what reward calls name. */
  readonly id: string;
  readonly point: string;
  readonly userId: string;
  readonly at: EpochMs;
  /** The request's context as sent (device, location, local time, page, free fields). */
  readonly context: { readonly [key: string]: JsonValue };
  /** The learner's input row for this decision: what its update on the reward must see again. */
  readonly features: Float64Array;
  /** The actions offered (available and allowed by the point's rules), in the point's order. */
  readonly offered: readonly string[];
  /** The probability of each offered action under the policy that chose; sums to one. */
  readonly probabilities: readonly number[];
  /** The chosen action. */
  readonly action: string;
  /** Its probability: what an inverse-propensity estimate divides by. */
  readonly propensity: number;
  readonly policy: DecisionPolicy;
  /** The experiment arm the user was in for this decision point, if any (`holdout` for the global holdout). */
  readonly experiment: { readonly id: string; readonly variant: string } | null;
  /** The end of the reward window: no reward is taken after it, and an open decision closes with the default. */
  readonly deadline: EpochMs;
  /** Null while the reward window is open and nothing arrived. */
  readonly outcome: DecisionOutcome | null;
}

export interface DecisionClose {
  readonly id: string;
  readonly outcome: DecisionOutcome;
}

/** What closing a decision did. */
export type CloseResult =
  | { readonly status: 'recorded'; readonly decision: LoggedDecision }
  /** It had an outcome already (a duplicate reward, or one after the window closed it); nothing changed. */
  | { readonly status: 'closed'; readonly outcome: DecisionOutcome }
  | { readonly status: 'unknown' };

/** Counts over one point's log. */
export interface DecisionLogStats {
  readonly decisions: number;
  /** Decisions with an outcome. */
  readonly closed: number;
  /** Σ reward over closed decisions. */
  readonly rewardSum: number;
}
