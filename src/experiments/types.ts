import type { ModelName } from '../models/index.js';
import type { EpochMs, JsonValue, Scalar } from '../shared/types.js';

/**
 * What a variant changes about what the engine serves. Everything absent is the engine's default, so a
 * control with an empty treatment serves exactly what users outside the experiment get.
 */
export interface VariantTreatment {
  /**
   * The model that ranks the variant's lists: a model of the serving bundle (`blend`, `als`, `itemknn`,
   * `ease`, `rp3beta`, `hybrid`; each training run also fits every model a running experiment names), or
   * `popularity` for the non-personalized baseline. Absent: the bundle's primary model.
   */
  readonly model?: ModelName;
  /** A stored rules preset (`PUT /v1/rules/presets/:name`) applied to the variant's lists. */
  readonly preset?: string;
  /** Anything the client renders differently (client-side variants): returned by assignment, never read. */
  readonly config?: JsonValue;
  /**
   * Who chooses at the decision point an experiment targets: its learner, its default action, or uniformly
   * at random (unbiased logging for later evaluation). Absent: the learner. Decision targets only.
   */
  readonly policy?: DecisionVariantPolicy;
}

export const DECISION_VARIANT_POLICIES = ['learner', 'default', 'uniform'] as const;
export type DecisionVariantPolicy = (typeof DECISION_VARIANT_POLICIES)[number];

export interface Variant {
  /** `[a-z0-9_]+`, unique within the experiment. */
  readonly name: string;
  /** Relative traffic weight (> 0); weights are normalised over the variants. */
  readonly weight: number;
  readonly control: boolean;
  readonly treatment: VariantTreatment;
}

/** What an experiment governs: the recommendations, or one decision point (`decision:<point>`). */
export type ExperimentTarget =
  { readonly kind: 'recommendations' } | { readonly kind: 'decision'; readonly point: string };

/**
 * Who may enter: every condition must hold on the user's stored traits (a user without traits fails).
 * The trait `segment` is the user's current segment id (`seg-2`, `unsegmented`), placed at request time.
 */
export interface AudienceCondition {
  readonly trait: string;
  readonly op: 'eq' | 'neq' | 'in' | 'gt' | 'gte' | 'lt' | 'lte' | 'exists';
  /** For `in`, a list; for `exists`, absent. */
  readonly value?: Scalar | readonly Scalar[];
}

export type ExperimentStatus = 'draft' | 'running' | 'stopped';

/**
 * An experiment. Users are placed in two steps, each a deterministic hash of (salt, user id):
 * the layer's hash decides whether the user falls in this experiment's slice of the layer (`slice`,
 * `traffic` wide), so experiments in one layer never share a user; the experiment's own hash then picks
 * the variant by the weights. Because the two hashes are independent, widening `traffic` (a ramp from
 * 10% to 50%) only adds users and never moves one between variants; changing weights moves only the
 * users whose point changes hands.
 */
export interface Experiment {
  /** `[a-z0-9_-]+`, at most 64 characters; the report's and the response's name for it. */
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly status: ExperimentStatus;
  readonly target: ExperimentTarget;
  /** Experiments in the same layer are mutually exclusive: a user is in at most one of them. */
  readonly layer: string;
  /** The share of the layer's users the experiment takes, in (0, 1]. */
  readonly traffic: number;
  /** Where in the layer's [0, 1) the experiment's users fall: `[start, start + traffic)`. */
  readonly slice: { readonly start: number };
  readonly variants: readonly Variant[];
  readonly audience: readonly AudienceCondition[];
  /** Metric names (`experiments/metrics`): the first is primary. */
  readonly metrics: readonly string[];
  /** Metrics that must not get significantly worse. */
  readonly guardrails: readonly string[];
  /** Seeds the variant hash; fixed at creation so that assignments survive restarts and edits. */
  readonly salt: string;
  readonly createdAt: EpochMs;
  readonly updatedAt: EpochMs;
  readonly startedAt: EpochMs | null;
  readonly stoppedAt: EpochMs | null;
  /** Increases with every stored change; an update naming an older revision is refused (409). */
  readonly revision: number;
}

/** Where one user landed in one experiment, as serving and `GET /v1/assignments` report it. */
export interface Assignment {
  readonly experiment: string;
  readonly variant: string;
  readonly control: boolean;
  readonly treatment: VariantTreatment;
}

/** The global holdout's name in reports and responses. */
export const HOLDOUT = 'holdout';

/**
 * What serving does for one user: hold out, or personalize with the variants of the experiments the user
 * is in (one per layer; experiments in different layers overlap, and where two set the same part of the
 * treatment the first layer by name wins), merged into one treatment.
 */
export type ServingPlan =
  | { readonly kind: 'holdout' }
  | {
      readonly kind: 'personalized';
      readonly assignments: readonly Assignment[];
      readonly treatment: VariantTreatment;
    };

/** A user's first exposure to an experiment's variant: what analysis counts from. */
export interface Exposure {
  readonly experiment: string;
  readonly userId: string;
  readonly variant: string;
  readonly at: EpochMs;
}
