import type { Store } from '../../store/index.js';
import type { DecisionLog, NumericContextColumn, PolicySpec } from '../ope/index.js';
import { FeatureEncoder } from './encoder.js';
import { DecisionPointError, type DecisionPoint } from './definition.js';

/**
 * A point's own decision log as the off-policy estimators read it: the closed decisions in log order, the
 * logged action, reward and propensity, and as context the numbers of the point's context row (the
 * learner's input for a disjoint layout; the context part of the joint row for a shared one), so that a
 * replayed learner sees what the serving learner saw and the doubly robust reward model has the same
 * inputs. Decisions made under an earlier feature row (another width) are left out, and counted.
 */
export async function pointDecisionLog(
  store: Store,
  point: DecisionPoint,
): Promise<{ log: DecisionLog; skipped: number }> {
  const encoder = new FeatureEncoder(point);
  const perAction = encoder.dimension / encoder.width;
  const index = new Map(point.actions.map((a, i) => [a.id, i]));
  const actions: number[] = [];
  const rewards: number[] = [];
  const propensities: number[] = [];
  const times: number[] = [];
  const columns: number[][] = Array.from({ length: encoder.width - 1 }, () => []);
  let skipped = 0;
  for await (const batch of store.scanDecisions(point.id)) {
    for (const decision of batch) {
      const action = index.get(decision.action);
      if (
        decision.outcome === null ||
        action === undefined ||
        decision.features.length !== encoder.inputLength
      ) {
        if (decision.outcome !== null) skipped++;
        continue;
      }
      actions.push(action);
      rewards.push(decision.outcome.reward);
      propensities.push(decision.propensity);
      times.push(decision.at);
      // The constant (column 0) is left out: the reward model adds its own intercept.
      for (let c = 1; c < encoder.width; c++) columns[c - 1]!.push(decision.features[c * perAction]!);
    }
  }
  if (actions.length === 0) {
    throw new DecisionPointError(
      422,
      null,
      `decision point "${point.id}" has no closed decisions to evaluate yet`,
    );
  }
  const context = columns.map((values, c): NumericContextColumn => ({
    kind: 'numeric',
    name: `x${c + 1}`,
    values: Float64Array.from(values),
  }));
  return {
    log: {
      rows: actions.length,
      actions: point.actions.map((a) => a.id),
      action: Int32Array.from(actions),
      reward: Float64Array.from(rewards),
      propensity: Float64Array.from(propensities),
      positions: null,
      position: null,
      timestamp: Float64Array.from(times),
      context,
      lines: null,
    },
    skipped,
  };
}

/**
 * What `attune decisions evaluate POINT` weighs without a policy file: always serving the default action,
 * uniform random choice, and the point's own learner replayed on the log.
 */
export function defaultCandidates(point: DecisionPoint): { name: string; spec: PolicySpec }[] {
  const only = (id: string) => new Map(point.actions.map((a) => [a.id, a.id === id ? 1 : 0]));
  const uniform = new Map(point.actions.map((a) => [a.id, 1 / point.actions.length]));
  return [
    {
      name: `default (${point.defaultAction})`,
      spec: { type: 'fixed', by: null, probabilities: only(point.defaultAction) },
    },
    { name: 'uniform', spec: { type: 'fixed', by: null, probabilities: uniform } },
    {
      name: `${point.learner.kind} (replayed)`,
      spec: { type: point.learner.kind, parameters: { ...point.learner.params } },
    },
  ];
}
