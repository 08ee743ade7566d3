import type { ScalarRecord } from '../shared/types.js';
import { hashPoint } from './hash.js';
import type {
  Assignment,
  AudienceCondition,
  Experiment,
  ServingPlan,
  Variant,
  VariantTreatment,
} from './types.js';

/**
 * The audience trait that is the user's current segment (`attune segments train`), not a stored trait:
 * serving adds it to the traits it matches, over a stored trait of the same name.
 */
export const SEGMENT_TRAIT = 'segment';

const NOBODY_ASSIGNED: ServingPlan = { kind: 'personalized', assignments: [], treatment: {} };

/** Salts of the two hashes every placement uses; an experiment's own salt seeds the variant hash. */
const layerSalt = (layer: string): string => `layer:${layer}`;

/**
 * The variant at `point` in [0, 1): variants own consecutive ranges as wide as their normalised weights,
 * in their listed order. Changing weights moves only the points whose range changes hands (a 90/10 to
 * 50/50 change moves the users in [0.5, 0.9) and nobody else).
 */
export function variantAt(variants: readonly Variant[], point: number): Variant {
  let total = 0;
  for (const variant of variants) total += variant.weight;
  let end = 0;
  for (const variant of variants) {
    end += variant.weight / total;
    if (point < end) return variant;
  }
  // Rounding can leave the cumulative end a hair below 1.
  const last = variants.at(-1);
  if (last === undefined) throw new Error('an experiment without variants cannot assign');
  return last;
}

/** Whether the user's traits satisfy every condition (no traits satisfy only an empty audience). */
export function matchesAudience(
  audience: readonly AudienceCondition[],
  traits: ScalarRecord | null,
): boolean {
  return audience.every((condition) => matches(condition, traits?.[condition.trait]));
}

function matches(condition: AudienceCondition, value: ScalarRecord[string] | undefined): boolean {
  const wanted = condition.value;
  switch (condition.op) {
    case 'exists':
      return value !== undefined && value !== null;
    case 'eq':
      return value === wanted;
    case 'neq':
      return value !== undefined && value !== wanted;
    case 'in':
      return Array.isArray(wanted) && value !== undefined && wanted.includes(value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof value !== 'number' || typeof wanted !== 'number') return false;
      if (condition.op === 'gt') return value > wanted;
      if (condition.op === 'gte') return value >= wanted;
      if (condition.op === 'lt') return value < wanted;
      return value <= wanted;
    }
  }
}

/** Where a user stands at one decision point (see `Assigner.decisionArm`). */
export type DecisionArmPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'holdout' }
  | { readonly kind: 'experiment'; readonly assignment: Assignment };

/** The global holdout: users whose point under `salt` falls below `share` never get personalization. */
export interface HoldoutSettings {
  /** In [0, 1); 0 turns the holdout off. */
  readonly share: number;
  readonly salt: string;
}

/**
 * Places users for one set of running experiments. Built once per change of the experiments (not per
 * request): a request costs one hash for the holdout, one per layer and one for the experiment it lands
 * in, and no allocation beyond the reply.
 */
export class Assigner {
  private readonly layers: ReadonlyMap<string, readonly Experiment[]>;
  /** Whether any running experiment filters on traits (only then must serving read the user's traits). */
  readonly needsTraits: boolean;
  /**
   * Whether any running experiment's audience names the pseudo-trait `segment` (only then must serving
   * place the user in a segment, from their online features).
   */
  readonly needsSegment: boolean;

  constructor(
    running: readonly Experiment[],
    readonly holdout: HoldoutSettings,
  ) {
    const layers = new Map<string, Experiment[]>();
    // Layers in name order: which layer's treatment wins a conflict must not depend on creation order.
    const ordered = [...running].sort((a, b) => (a.layer < b.layer ? -1 : a.layer > b.layer ? 1 : 0));
    for (const experiment of ordered) {
      if (experiment.status !== 'running') continue;
      const list = layers.get(experiment.layer) ?? [];
      list.push(experiment);
      layers.set(experiment.layer, list);
    }
    this.layers = layers;
    this.needsTraits = running.some((e) => e.status === 'running' && e.audience.length > 0);
    this.needsSegment = running.some(
      (e) => e.status === 'running' && e.audience.some((c) => c.trait === SEGMENT_TRAIT),
    );
  }

  get experimentCount(): number {
    let count = 0;
    for (const list of this.layers.values()) count += list.length;
    return count;
  }

  isHeldOut(userId: string): boolean {
    return this.holdout.share > 0 && hashPoint(this.holdout.salt, userId) < this.holdout.share;
  }

  /** What serving does for the user's recommendations: hold out, or personalize (in a variant or not). */
  plan(userId: string, traits: ScalarRecord | null): ServingPlan {
    if (this.isHeldOut(userId)) return { kind: 'holdout' };
    const assignments: Assignment[] = [];
    for (const placed of this.placements(userId, traits)) {
      if (placed.experiment.target.kind === 'recommendations') assignments.push(placed.assignment);
    }
    if (assignments.length === 0) return NOBODY_ASSIGNED;
    let model: VariantTreatment['model'];
    let preset: VariantTreatment['preset'];
    for (const { treatment } of assignments) {
      model ??= treatment.model;
      preset ??= treatment.preset;
    }
    const treatment = {
      ...(model === undefined ? {} : { model }),
      ...(preset === undefined ? {} : { preset }),
    };
    return { kind: 'personalized', assignments, treatment };
  }

  /**
   * The user's arm at one decision point: held out, in the variant of a running experiment that targets the
   * point (the first layer by name, if several do), or in none.
   */
  decisionArm(userId: string, traits: ScalarRecord | null, point: string): DecisionArmPlan {
    if (this.isHeldOut(userId)) return { kind: 'holdout' };
    for (const placed of this.placements(userId, traits)) {
      const target = placed.experiment.target;
      if (target.kind === 'decision' && target.point === point) {
        return { kind: 'experiment', assignment: placed.assignment };
      }
    }
    return { kind: 'none' };
  }

  /** Every running experiment the user is in, one per layer at most; none for a held-out user. */
  *assignments(userId: string, traits: ScalarRecord | null): Generator<Assignment> {
    for (const placed of this.placements(userId, traits)) yield placed.assignment;
  }

  private *placements(
    userId: string,
    traits: ScalarRecord | null,
  ): Generator<{ readonly experiment: Experiment; readonly assignment: Assignment }> {
    if (this.isHeldOut(userId)) return;
    for (const [layer, experiments] of this.layers) {
      const point = hashPoint(layerSalt(layer), userId);
      const experiment = experiments.find((e) => point >= e.slice.start && point < e.slice.start + e.traffic);
      if (experiment === undefined || !matchesAudience(experiment.audience, traits)) continue;
      const variant = variantAt(experiment.variants, hashPoint(experiment.salt, userId));
      yield {
        experiment,
        assignment: {
          experiment: experiment.id,
          variant: variant.name,
          control: variant.control,
          treatment: variant.treatment,
        },
      };
    }
  }
}
