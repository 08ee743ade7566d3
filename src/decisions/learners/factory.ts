import {
  decodeFloats,
  LearnerStateError,
  requireInteger,
  requireNumber,
  requireObject,
  requireOneOf,
} from './codec.js';
import { EpsilonGreedy } from './epsilon-greedy.js';
import type { LinearLearner } from './linear.js';
import { LinUcb } from './linucb.js';
import { LinearThompson } from './thompson.js';
import {
  LEARNER_STATE_FORMAT,
  LEARNER_STATE_VERSION,
  type CommonLearnerOptions,
  type FeatureLayout,
  type Learner,
  type LearnerKind,
  type LearnerOptions,
} from './types.js';

const KINDS: readonly LearnerKind[] = ['linucb', 'thompson', 'epsilon-greedy'];
const LAYOUTS: readonly FeatureLayout[] = ['disjoint', 'shared'];

export function createLearner(options: LearnerOptions): Learner {
  return createLinear(options);
}

function createLinear(options: LearnerOptions): LinearLearner {
  switch (options.kind) {
    case 'linucb':
      return new LinUcb(options);
    case 'thompson':
      return new LinearThompson(options);
    case 'epsilon-greedy':
      return new EpsilonGreedy(options);
    default: {
      const kind: unknown = (options as { kind: unknown }).kind;
      throw new RangeError(`kind: unknown learner '${String(kind)}'`);
    }
  }
}

/**
 * Restores a learner from `toJSON`'s state (or its JSON text, parsed), bit for bit: the next choice and
 * update behave exactly as they would have on the learner that was saved. Throws `LearnerStateError`
 * naming the first field that is missing or malformed.
 */
export function learnerFromJSON(value: unknown): Learner {
  const state = requireObject(value, '(root)');
  if (state.format !== LEARNER_STATE_FORMAT) {
    throw new LearnerStateError(
      'format',
      `expected '${LEARNER_STATE_FORMAT}', got ${JSON.stringify(state.format)}`,
    );
  }
  const version = requireInteger(state.version, 'version', 1);
  if (version !== LEARNER_STATE_VERSION) {
    throw new LearnerStateError(
      'version',
      `version ${version} is not readable here (this build reads ${LEARNER_STATE_VERSION})`,
    );
  }
  const kind = requireOneOf(state.kind, 'kind', KINDS);
  const params = requireObject(state.params, 'params');
  const common: CommonLearnerOptions = {
    layout: requireOneOf(state.layout, 'layout', LAYOUTS),
    actions: requireInteger(state.actions, 'actions', 1),
    dimension: requireInteger(state.dimension, 'dimension', 1),
    ridge: requireNumber(state.ridge, 'ridge'),
    floor: requireNumber(state.floor, 'floor'),
    refreshEvery: requireInteger(state.refreshEvery, 'refreshEvery', 0),
  };
  let learner: LinearLearner;
  try {
    learner =
      kind === 'linucb'
        ? new LinUcb({ ...common, alpha: requireNumber(params.alpha, 'params.alpha') })
        : kind === 'thompson'
          ? new LinearThompson({
              ...common,
              scale: requireNumber(params.scale, 'params.scale'),
              samples: requireInteger(params.samples, 'params.samples', 1),
            })
          : new EpsilonGreedy({ ...common, epsilon: requireNumber(params.epsilon, 'params.epsilon') });
  } catch (error) {
    if (error instanceof LearnerStateError) throw error;
    // The constructors name the option in their message; keep it as the field.
    const message = error instanceof Error ? error.message : String(error);
    const field = /^([\w.]+):/.exec(message)?.[1] ?? '(options)';
    throw new LearnerStateError(field, message.replace(/^[\w.]+:\s*/, ''));
  }

  const random = requireObject(state.random, 'random');
  if (!Array.isArray(random.state) || random.state.length !== 4) {
    throw new LearnerStateError('random.state', 'expected four 32-bit words');
  }
  const words = random.state.map((word: unknown, i) => {
    const n = requireInteger(word, `random.state[${i}]`, 0);
    if (n > 0xffffffff) throw new LearnerStateError(`random.state[${i}]`, 'expected a 32-bit word');
    return n;
  });
  if (words.every((word) => word === 0)) throw new LearnerStateError('random.state', 'all-zero state');
  const spare = random.spare === null ? null : requireNumber(random.spare, 'random.spare');

  const models = requireObject(state.models, 'models');
  const ridge = learner.ridgeSet;
  if (!Array.isArray(models.counts) || models.counts.length !== ridge.counts.length) {
    throw new LearnerStateError('models.counts', `expected ${ridge.counts.length} counts`);
  }
  models.counts.forEach((count: unknown, i) => {
    ridge.counts[i] = requireInteger(count, `models.counts[${i}]`, 0);
  });
  ridge.a.set(decodeFloats(models.a, 'models.a', ridge.a.length));
  ridge.ainv.set(decodeFloats(models.ainv, 'models.ainv', ridge.ainv.length));
  ridge.b.set(decodeFloats(models.b, 'models.b', ridge.b.length));
  ridge.theta.set(decodeFloats(models.theta, 'models.theta', ridge.theta.length));
  if (ridge.factor) ridge.factor.set(decodeFloats(models.factor, 'models.factor', ridge.factor.length));
  else if (models.factor !== null && models.factor !== undefined) {
    throw new LearnerStateError('models.factor', 'only Thompson sampling over a shared model keeps a factor');
  }
  learner.random.setState(words, spare);
  return learner;
}
