import { mulberry32 } from '../../models/random.js';
import type { JsonValue } from '../../shared/types.js';
import {
  Apprentice,
  apprenticeFromJSON,
  createLearner,
  learnerFromJSON,
  type ApprenticeReport,
  type Learner,
} from '../learners/index.js';
import { learnerOptions, learnerShape, type DecisionPoint } from './definition.js';
import { FeatureEncoder } from './encoder.js';
import { Guardrail, type GuardrailStatus } from './guardrail.js';
import type { DecisionPolicy } from './log-types.js';

/**
 * A choice among the offered actions: indices into the point's actions. Its arrays are the point's scratch,
 * valid until its next `choose` (the service copies what it keeps before anything else runs).
 */
export interface Choice {
  readonly action: number;
  readonly policy: DecisionPolicy;
  /** Per action of the point: the probability it was chosen with (0 for actions not offered). */
  readonly probabilities: Float64Array;
  /** Per action: the learner's index (UCB, a posterior draw, the estimate); NaN for actions not offered. */
  readonly scores: Float64Array;
}

/** What an experiment arm or the holdout asks of a decision: whose policy chooses. */
export type RequestedPolicy = 'learner' | 'default' | 'uniform' | 'consent';

/** The persisted state of a point's learner (the service saves it, versioned, under `decision-point/<id>`). */
export interface LivePointState {
  readonly format: 'attune.decision-point';
  readonly version: 1;
  /** `learnerShape` of the definition it was trained for: a state of another shape is not restored. */
  readonly shape: string;
  /** The learner's state, or the apprentice's (which holds the learner's) in apprentice mode. */
  readonly learner: JsonValue;
  readonly guardrail: { sums: number[]; tripped: boolean } | null;
}

/** What a point needs to know about the user to decide. */
export interface InputNeeds {
  readonly traits: boolean;
  readonly segment: boolean;
  readonly user: boolean;
}

/**
 * One decision point as serving holds it: its definition, feature encoder, learner (wrapped by the
 * apprentice in apprentice mode) and guardrail. Choosing and learning are synchronous and allocation-light:
 * a request's cost is its feature row and one pass of the learner over the offered actions.
 */
export class LivePoint {
  readonly encoder: FeatureEncoder;
  /** What this revision's features and rules read of the user: the same for every decision it makes. */
  readonly needs: InputNeeds;
  readonly learner: Learner;
  readonly apprentice: Apprentice | null;
  readonly guardrail: Guardrail | null;
  readonly defaultIndex: number;
  private readonly uniform: () => number;
  // Reused by every choice: two typed arrays fewer per decision for the scavenger to copy and sweep.
  readonly #probabilities: Float64Array;
  readonly #scores: Float64Array;
  /** Rewards learned since the state was last saved. */
  unsaved = 0;

  constructor(
    readonly definition: DecisionPoint,
    saved: LivePointState | null = null,
  ) {
    this.encoder = new FeatureEncoder(definition);
    this.needs = readsOfUser(definition);
    this.defaultIndex = definition.actions.findIndex((a) => a.id === definition.defaultAction);
    // A saved state has this definition's shape (the service checks), so its mode is this one's.
    if (definition.mode === 'apprentice') {
      this.apprentice =
        saved === null
          ? new Apprentice(createLearner(learnerOptions(definition, this.encoder.dimension)), {
              defaultAction: this.defaultIndex,
            })
          : apprenticeFromJSON(saved.learner);
      this.learner = this.apprentice.learner;
    } else {
      this.learner =
        saved === null
          ? createLearner(learnerOptions(definition, this.encoder.dimension))
          : learnerFromJSON(saved.learner);
      this.apprentice = null;
    }
    this.guardrail = definition.guardrails ? new Guardrail(definition.guardrails) : null;
    if (this.guardrail && saved?.guardrail) this.guardrail.restore(saved.guardrail);
    this.uniform = mulberry32((definition.learner.params.seed ?? 0) + 0x9e3779b9);
    this.#probabilities = new Float64Array(definition.actions.length);
    this.#scores = new Float64Array(definition.actions.length);
  }

  /**
   * Chooses among the `allowed` actions for the learner input `input`. `requested` is what the user's
   * experiment arm asks for (`learner` outside experiments); apprentice mode and a tripped guardrail turn a
   * learner request into the default action. The default-action policies serve the point's default when it
   * is offered, else the first offered action (the request's default): deterministic, propensity 1.
   */
  choose(input: Float64Array, allowed: Uint8Array, requested: RequestedPolicy): Choice {
    const n = this.definition.actions.length;
    const probabilities = this.#probabilities.fill(0);
    const scores = this.learner.scores(input, this.#scores);
    for (let a = 0; a < n; a++) if (!allowed[a]) scores[a] = NaN;
    const policy: DecisionPolicy =
      requested !== 'learner'
        ? requested
        : this.apprentice
          ? 'apprentice'
          : this.guardrail?.tripped
            ? 'guardrail'
            : 'learner';
    if (policy === 'learner') {
      const action = this.learner.choose(input, probabilities, allowed);
      return { action, policy, probabilities, scores };
    }
    if (policy === 'uniform') {
      let count = 0;
      for (let a = 0; a < n; a++) count += allowed[a]!;
      for (let a = 0; a < n; a++) probabilities[a] = allowed[a] ? 1 / count : 0;
      let pick = Math.floor(this.uniform() * count);
      for (let a = 0; a < n; a++) {
        if (allowed[a] && pick-- === 0) return { action: a, policy, probabilities, scores };
      }
    }
    const action = allowed[this.defaultIndex] ? this.defaultIndex : allowed.indexOf(1);
    probabilities[action] = 1;
    return { action, policy, probabilities, scores };
  }

  /** Learns the reward of one closed decision, from the feature row it was chosen on. */
  learn(
    action: number,
    input: Float64Array,
    reward: number,
    policy: DecisionPolicy,
    propensity: number,
  ): void {
    if (this.apprentice) this.apprentice.update(action, input, reward);
    else this.learner.update(action, input, reward);
    if (policy === 'learner') this.guardrail?.observe(reward, action === this.defaultIndex, propensity);
    this.unsaved++;
  }

  get apprenticeReport(): ApprenticeReport | null {
    return this.apprentice?.report() ?? null;
  }

  get guardrailStatus(): GuardrailStatus | null {
    return this.guardrail?.status() ?? null;
  }

  state(): LivePointState {
    return {
      format: 'attune.decision-point',
      version: 1,
      shape: learnerShape(this.definition),
      learner: (this.apprentice ? this.apprentice.toJSON() : this.learner.toJSON()) as unknown as JsonValue,
      guardrail: this.guardrail?.toJSON() ?? null,
    };
  }
}

function readsOfUser(point: DecisionPoint): InputNeeds {
  const fields = [
    ...point.features.map((f) => f.source),
    ...point.rules.flatMap((r) => r.when.map((c) => c.field)),
  ];
  return {
    traits: fields.some((f) => f === 'trait' || f.startsWith('trait.')),
    segment: fields.includes('segment'),
    user: fields.includes('user'),
  };
}
