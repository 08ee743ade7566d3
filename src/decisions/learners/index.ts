/**
 * Contextual-bandit learners for decision points: LinUCB, linear Thompson sampling and epsilon-greedy over
 * ridge models, persisted with a version, and an apprentice wrapper that serves a default while learning.
 *
 * - Representation (`FeatureLayout`): `'disjoint'` — one ridge model per action over the context features
 *   — is the default, because a decision point's actions are usually a small fixed set without features
 *   and it keeps both a choice (O(|A|·d²)) and an update (O(d²), one model) in microseconds at 20 × 30;
 *   `'shared'` — one model over a joint feature row per action — generalises across actions with
 *   descriptive features, at O(|A|·D²) per choice in the joint dimension D.
 * - Numerics (`ridge.ts`): A⁻¹ by Sherman–Morrison, refreshed from A by Cholesky every 1,000 updates per
 *   model; posterior draws of a shared model through a Cholesky factor of A kept current by rank-1 updates.
 * - Propensities: every learner's `choose` draws from the very distribution it writes out. LinUCB: 1 on
 *   the argmax (ties split); epsilon-greedy: (1 − ε)·1[greedy]/|ties| + ε/|A|; Thompson sampling: the win
 *   shares of K posterior draws, the choice being one of those draws (see `thompson.ts`). An optional
 *   `floor` mixes in uniform exploration so that every action keeps a propensity ≥ floor/|A|.
 * - Persistence: `toJSON` / `learnerFromJSON`, versioned, bit for bit (base64 doubles, random state
 *   included); errors name the field.
 */
export {
  Apprentice,
  APPRENTICE_STATE_FORMAT,
  APPRENTICE_STATE_VERSION,
  apprenticeFromJSON,
  type ApprenticeOptions,
  type ApprenticeReport,
  type ApprenticeState,
} from './apprentice.js';
export { LearnerStateError } from './codec.js';
export { DEFAULT_EPSILON, EpsilonGreedy } from './epsilon-greedy.js';
export { createLearner, learnerFromJSON } from './factory.js';
export { DEFAULT_REFRESH_EVERY, DEFAULT_RIDGE, LinearLearner } from './linear.js';
export { DEFAULT_ALPHA, LinUcb } from './linucb.js';
export { DEFAULT_SAMPLES, DEFAULT_SCALE, LinearThompson } from './thompson.js';
export {
  LEARNER_STATE_FORMAT,
  LEARNER_STATE_VERSION,
  type CommonLearnerOptions,
  type EpsilonGreedyOptions,
  type FeatureLayout,
  type Learner,
  type LearnerKind,
  type LearnerOptions,
  type LearnerState,
  type LinUcbOptions,
  type Policy,
  type ThompsonOptions,
} from './types.js';
