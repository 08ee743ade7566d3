import { binFeatures, categoryOf, MAX_BINS, thresholdOf, type FeatureBins } from './gbdt-binning.js';
import { addLeafValues, GbdtModel, type GbdtNodes } from './gbdt-model.js';
import { binaryLogistic, squaredError, type GbdtObjective } from './gbdt-objective.js';
import { lambdaRank } from './gbdt-rank.js';
import { TreeGrower, type GrownTree } from './gbdt-tree.js';
import { checkGroups } from './metrics.js';

export { decodeGbdtModel, encodeGbdtModel } from './gbdt-codec.js';
export { GBDT_FORMAT_VERSION, GbdtModel, type GbdtModelJson, type GbdtNodes } from './gbdt-model.js';
export { binaryLogistic, objectiveByName, squaredError, type GbdtObjective } from './gbdt-objective.js';
export { groupsFromQueryIds, lambdaRank, type LambdaRankOptions } from './gbdt-rank.js';
export { shapContributions } from './gbdt-shap.js';

/**
 * Gradient-boosted decision trees, histogram-based (XGBoost's `hist`, LightGBM): features are binned
 * once, trees grow depth-wise on gradient/hessian histograms, and the result is a flat, serialisable
 * ensemble that predicts on raw features.
 */

/** Rows of a tabular set: row-major n × d features (NaN = missing) and one label per row. */
export interface GbdtDataset {
  readonly features: Float64Array;
  readonly labels: Float64Array;
  readonly nRows: number;
  readonly nFeatures: number;
  /**
   * Query sizes for ranking (XGBoost's `set_group`, LightGBM's `group`): query q is the next
   * `group[q]` rows, so a query's rows are consecutive (`groupsFromQueryIds` turns a query id per row
   * into sizes). Required by the 'rank' objective, ignored by the others.
   */
  readonly group?: Int32Array;
  /**
   * Sample weights (finite, ≥ 0), one per row, as XGBoost's `weight`: a row of weight 2 counts as two
   * equal rows in gradients, hessians (so in `minChildWeight` and leaf values), the base score and the
   * reported loss; for 'rank' a row's weight scales the pairs it is the more relevant row of. Bins are
   * still cut on the unweighted rows. Absent: every row weighs 1, by the unweighted code path.
   */
  readonly weight?: Float64Array;
  /**
   * Per-row starting margins (XGBoost's `base_margin`): boosting starts from these rather than from a
   * base score, which is then 0, so the trees fit what another model (a linear one) left over. The
   * model's own predictions are the trees only: add the same offsets to its margins to score. Given on
   * the training set, it must be given on the validation set too (early stopping judges the sum).
   */
  readonly baseMargin?: Float64Array;
}

export interface GbdtParams {
  /**
   * 'binary' (log loss on a logit), 'regression' (squared error), 'rank' (LambdaRank for NDCG over
   * the data's query groups, `rankTruncation` and `rankEvalAt`), or any objective.
   */
  readonly objective: 'binary' | 'regression' | 'rank' | GbdtObjective;
  readonly nTrees: number;
  readonly learningRate: number;
  readonly maxDepth: number;
  /** λ: L2 penalty on leaf weights. */
  readonly lambda: number;
  /** γ: least loss reduction for a split. */
  readonly gamma: number;
  readonly minChildWeight: number;
  /** Value bins per feature, at most 255 (a missing bin comes on top). */
  readonly maxBins: number;
  /**
   * With a validation set: stop after this many trees without a better validation loss (0 = never).
   * For 'rank' the loss is 1 − NDCG@rankEvalAt, so this stops on validation NDCG@k.
   */
  readonly earlyStoppingRounds: number;
  /** 'rank': pairs count only when the better-placed row is in the top this many (LightGBM's 30). */
  readonly rankTruncation: number;
  /** 'rank': the k of the NDCG@k reported as loss and used for early stopping. */
  readonly rankEvalAt: number;
  /**
   * Features holding category codes (integers ≥ 0, NaN = missing), split by category sets rather than
   * thresholds (LightGBM's `categorical_feature`).
   */
  readonly categoricalFeatures: readonly number[];
  /** Categorical: with at most this many categories in a node, try each against the rest. */
  readonly maxCatToOnehot: number;
  /** Categorical: at most this many categories on the left of a split. */
  readonly maxCatThreshold: number;
  /** Categorical: smoothing added to a category's hessian sum when ordering categories. */
  readonly catSmooth: number;
  /** Categorical: a category with fewer rows in a node is not put on the left of a sorted split. */
  readonly minDataPerCategory: number;
  /**
   * Monotone constraints (XGBoost's `monotone_constraints`): one entry per feature, +1 for a prediction
   * that never falls as the feature rises (the others held), −1 for one that never rises, 0 for none;
   * empty (the default) constrains nothing. Splits that break a direction are rejected and leaf weights
   * are bounded by their ancestors' constrained splits, so the model is monotone on every input (missing
   * values follow their default side and are no point on the feature's axis). Not on a categorical
   * feature. Training only: the model predicts as any other.
   */
  readonly monotone: Int8Array | readonly number[];
}

export const defaultGbdtParams: GbdtParams = {
  objective: 'binary',
  nTrees: 100,
  learningRate: 0.1,
  maxDepth: 6,
  lambda: 1,
  gamma: 0,
  minChildWeight: 1,
  maxBins: MAX_BINS,
  earlyStoppingRounds: 0,
  rankTruncation: 30,
  rankEvalAt: 10,
  categoricalFeatures: [],
  // LightGBM's defaults (max_cat_to_onehot, max_cat_threshold, cat_smooth, min_data_per_group).
  maxCatToOnehot: 4,
  maxCatThreshold: 32,
  catSmooth: 10,
  minDataPerCategory: 100,
  monotone: [],
};

export interface GbdtTraining {
  /** The model, cut back to the best iteration when early stopping ran. */
  readonly model: GbdtModel;
  /**
   * Mean training loss after each tree (index t: after t + 1 trees). Computed on first read (replaying
   * the trees over a copy of the training rows, which gives the training margins exactly), so callers
   * that only want the model do not pay a loss evaluation per tree.
   */
  readonly trainLoss: Float64Array;
  /** Mean validation loss after each tree, when a validation set was given. */
  readonly validLoss?: Float64Array;
  /** Number of trees kept: the best validation iteration, or all trees grown. */
  readonly bestTreeCount: number;
}

export function trainGbdt(
  train: GbdtDataset,
  params: Partial<GbdtParams> = {},
  validation?: GbdtDataset,
): GbdtTraining {
  const { p, objective } = checkGbdtInputs(train, params, validation);
  const { nRows: n, nFeatures: d, labels, group, weight } = train;
  const bins = binFeatures(train.features, n, d, p.maxBins, p.categoricalFeatures);
  const grower = new TreeGrower(bins, p);
  const offset = train.baseMargin;
  const baseScore =
    offset !== undefined
      ? 0
      : weight === undefined
        ? objective.baseScore(labels)
        : objective.baseScore(labels, weight);
  const ensemble = new EnsembleBuilder();

  const margins = startMargins(n, baseScore, offset);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const validMargins = validation
    ? startMargins(validation.nRows, baseScore, validation.baseMargin)
    : undefined;
  const validLoss = validation ? new Float64Array(p.nTrees) : undefined;
  let bestLoss = Infinity;
  let bestTreeCount = 0;
  let grown = 0;

  for (let t = 0; t < p.nTrees; t++) {
    if (weight === undefined) objective.gradients(labels, margins, grad, hess, group);
    else if (objective.weighsRows === true) objective.gradients(labels, margins, grad, hess, group, weight);
    else {
      objective.gradients(labels, margins, grad, hess, group);
      for (let i = 0; i < n; i++) {
        grad[i]! *= weight[i]!;
        hess[i]! *= weight[i]!;
      }
    }
    const tree = grower.grow(grad, hess);
    grower.addLeafValues(margins);
    ensemble.add(tree, bins);
    grown = t + 1;

    if (validation && validMargins && validLoss) {
      ensemble.addLastTreeTo(validation.features, validation.nRows, d, validMargins);
      const loss = objective.loss(validation.labels, validMargins, validation.group, validation.weight);
      validLoss[t] = loss;
      if (loss < bestLoss) {
        bestLoss = loss;
        bestTreeCount = grown;
      } else if (p.earlyStoppingRounds > 0 && grown - bestTreeCount >= p.earlyStoppingRounds) {
        break;
      }
    }
  }

  const stopEarly = validation !== undefined && p.earlyStoppingRounds > 0;
  const kept = stopEarly ? bestTreeCount : grown;
  const full = new GbdtModel(objective, baseScore, d, ensemble.nodes());
  const replay: GbdtDataset = {
    features: train.features.slice(),
    labels: labels.slice(),
    nRows: n,
    nFeatures: d,
    ...(group ? { group: group.slice() } : {}),
    ...(weight ? { weight: weight.slice() } : {}),
    ...(offset ? { baseMargin: offset.slice() } : {}),
  };
  let trainLoss: Float64Array | undefined;
  return {
    model: full.truncated(kept),
    get trainLoss(): Float64Array {
      trainLoss ??= replayTrainLoss(full, replay);
      return trainLoss;
    },
    ...(validLoss ? { validLoss: validLoss.slice(0, grown) } : {}),
    bestTreeCount: kept,
  };
}

/** Where boosting starts: the given per-row offsets (`baseMargin`), else the base score for every row. */
function startMargins(n: number, baseScore: number, offset: Float64Array | undefined): Float64Array {
  return offset === undefined ? new Float64Array(n).fill(baseScore) : Float64Array.from(offset);
}

/**
 * The training loss after each tree: the margins start at the base score and take each tree's leaf
 * values in turn, as in training (prediction on raw values reaches the same leaves as the bins did),
 * so every figure equals the one training would have computed.
 */
function replayTrainLoss(model: GbdtModel, data: GbdtDataset): Float64Array {
  const { features, labels, nRows: n, nFeatures: d, group, weight } = data;
  const margins = startMargins(n, model.baseScore, data.baseMargin);
  const out = new Float64Array(model.treeCount);
  for (let t = 0; t < model.treeCount; t++) {
    model.addTree(t, features, n, d, margins);
    out[t] = model.objective.loss(labels, margins, group, weight);
  }
  return out;
}

/**
 * Appends grown trees into growable flat arrays (doubling), converting each split's bin into its real
 * threshold, or a categorical split's bins into its bitset of category codes. Also walks the newest
 * tree over raw rows, for the validation margins.
 */
class EnsembleBuilder {
  private treeStart: number[] = [0];
  private size = 0;
  private feature = new Int32Array(64);
  private threshold = new Float64Array(64);
  private defaultLeft = new Uint8Array(64);
  private left = new Int32Array(64);
  private right = new Int32Array(64);
  private value = new Float64Array(64);
  private gain = new Float64Array(64);
  private cover = new Float64Array(64);
  private catSplit = new Int32Array(64);
  private catBoundaries: number[] = [0];
  private catBits: number[] = [];

  add(tree: GrownTree, bins: FeatureBins): void {
    const count = tree.nodeCount;
    this.reserve(this.size + count);
    const at = this.size;
    this.feature.set(tree.feature.subarray(0, count), at);
    this.defaultLeft.set(tree.defaultLeft.subarray(0, count), at);
    this.left.set(tree.left.subarray(0, count), at);
    this.right.set(tree.right.subarray(0, count), at);
    this.value.set(tree.value.subarray(0, count), at);
    this.gain.set(tree.gain.subarray(0, count), at);
    this.cover.set(tree.cover.subarray(0, count), at);
    for (let i = 0; i < count; i++) {
      const f = tree.feature[i]!;
      const catLeft = tree.catLeft[i];
      this.catSplit[at + i] = -1;
      this.threshold[at + i] = 0;
      if (f < 0) continue;
      if (!catLeft) {
        this.threshold[at + i] = thresholdOf(bins, f, tree.bin[i]!);
        continue;
      }
      const codes: number[] = [];
      for (let b = 0; b < catLeft.length; b++) if (catLeft[b] === 1) codes.push(categoryOf(bins, f, b));
      const words = (Math.max(...codes) >>> 5) + 1;
      const from = this.catBits.length;
      for (let w = 0; w < words; w++) this.catBits.push(0);
      for (const c of codes) this.catBits[from + (c >>> 5)]! |= 1 << (c & 31);
      this.catSplit[at + i] = this.catBoundaries.length - 1;
      this.catBoundaries.push(this.catBits.length);
    }
    this.size += count;
    this.treeStart.push(this.size);
  }

  addLastTreeTo(features: Float64Array, n: number, d: number, out: Float64Array): void {
    const nodes = {
      feature: this.feature,
      threshold: this.threshold,
      defaultLeft: this.defaultLeft,
      left: this.left,
      right: this.right,
      value: this.value,
      catSplit: this.catSplit,
      catBoundaries: Int32Array.from(this.catBoundaries),
      catBits: Uint32Array.from(this.catBits),
    };
    addLeafValues(nodes, this.treeStart[this.treeStart.length - 2]!, features, n, d, out);
  }

  nodes(): GbdtNodes {
    const end = this.size;
    return {
      treeStart: Int32Array.from(this.treeStart),
      feature: this.feature.slice(0, end),
      threshold: this.threshold.slice(0, end),
      defaultLeft: this.defaultLeft.slice(0, end),
      left: this.left.slice(0, end),
      right: this.right.slice(0, end),
      value: this.value.slice(0, end),
      gain: this.gain.slice(0, end),
      cover: this.cover.slice(0, end),
      catSplit: this.catSplit.slice(0, end),
      catBoundaries: Int32Array.from(this.catBoundaries),
      catBits: Uint32Array.from(this.catBits),
    };
  }

  private reserve(capacity: number): void {
    if (capacity <= this.feature.length) return;
    let next = this.feature.length;
    while (next < capacity) next *= 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(next);
      b.set(a);
      return b;
    };
    this.feature = grow(this.feature, (k) => new Int32Array(k));
    this.threshold = grow(this.threshold, (k) => new Float64Array(k));
    this.defaultLeft = grow(this.defaultLeft, (k) => new Uint8Array(k));
    this.left = grow(this.left, (k) => new Int32Array(k));
    this.right = grow(this.right, (k) => new Int32Array(k));
    this.value = grow(this.value, (k) => new Float64Array(k));
    this.gain = grow(this.gain, (k) => new Float64Array(k));
    this.cover = grow(this.cover, (k) => new Float64Array(k));
    this.catSplit = grow(this.catSplit, (k) => new Int32Array(k));
  }
}

function objectiveOf(p: GbdtParams): GbdtObjective {
  const o = p.objective;
  if (o === 'binary') return binaryLogistic;
  if (o === 'regression') return squaredError;
  if (o === 'rank') return lambdaRank({ truncation: p.rankTruncation, evalAt: p.rankEvalAt });
  return o;
}

/**
 * The checks `trainGbdt` makes before any work (also run on the calling thread by
 * `trainGbdtInWorker`, so bad input fails there, with the same errors): the parameters with their
 * defaults, the data sets' shapes, labels and query groups.
 */
export function checkGbdtInputs(
  train: GbdtDataset,
  params: Partial<GbdtParams>,
  validation?: GbdtDataset,
): { p: GbdtParams; objective: GbdtObjective } {
  const p: GbdtParams = { ...defaultGbdtParams, ...params };
  checkParams(p);
  checkDataset(train, 'train');
  if (validation) {
    checkDataset(validation, 'validation');
    if (validation.nFeatures !== train.nFeatures) {
      throw new RangeError(
        `trainGbdt: validation has ${validation.nFeatures} features, train ${train.nFeatures}`,
      );
    }
    // Early stopping compares losses of offset + trees: without the offset they mean something else.
    if ((train.baseMargin === undefined) !== (validation.baseMargin === undefined)) {
      throw new RangeError(
        'trainGbdt: give baseMargin on both the training and the validation set, or neither',
      );
    }
  }
  const objective = objectiveOf(p);
  objective.checkLabels(train.labels);
  if (validation) objective.checkLabels(validation.labels);
  if (objective.needsGroups === true) {
    for (const [name, data] of [['train', train] as const, ['validation', validation] as const]) {
      if (!data) continue;
      if (!data.group) throw new RangeError(`trainGbdt: ${objective.name} needs ${name}.group (query sizes)`);
      checkGroups(data.group, data.nRows);
    }
  }
  for (const f of p.categoricalFeatures) {
    if (!Number.isInteger(f) || f < 0 || f >= train.nFeatures) {
      throw new RangeError(
        `trainGbdt: categorical feature ${f} is not one of the ${train.nFeatures} features`,
      );
    }
  }
  checkMonotone(p, train.nFeatures);
  return { p, objective };
}

function checkMonotone(p: GbdtParams, nFeatures: number): void {
  const { monotone } = p;
  if (monotone.length === 0) return;
  if (monotone.length !== nFeatures) {
    throw new RangeError(`trainGbdt: monotone has ${monotone.length} entries for ${nFeatures} features`);
  }
  for (let f = 0; f < nFeatures; f++) {
    const c = monotone[f]!;
    if (c !== -1 && c !== 0 && c !== 1) {
      throw new RangeError(`trainGbdt: monotone[${f}] must be -1, 0 or 1, got ${c}`);
    }
    // A category code has no order for a direction to follow.
    if (c !== 0 && p.categoricalFeatures.includes(f)) {
      throw new RangeError(`trainGbdt: feature ${f} is categorical and cannot be monotone`);
    }
  }
}

function checkParams(p: GbdtParams): void {
  const fail = (name: string, rule: string, value: number): never => {
    throw new RangeError(`trainGbdt: ${name} must be ${rule}, got ${value}`);
  };
  if (!Number.isInteger(p.nTrees) || p.nTrees < 1) fail('nTrees', 'a positive integer', p.nTrees);
  if (!Number.isInteger(p.maxDepth) || p.maxDepth < 1 || p.maxDepth > 16) {
    fail('maxDepth', 'an integer in [1, 16]', p.maxDepth);
  }
  if (!(p.learningRate > 0 && p.learningRate <= 1)) fail('learningRate', 'in (0, 1]', p.learningRate);
  if (!(p.lambda >= 0 && Number.isFinite(p.lambda))) fail('lambda', 'finite and ≥ 0', p.lambda);
  if (!(p.gamma >= 0 && Number.isFinite(p.gamma))) fail('gamma', 'finite and ≥ 0', p.gamma);
  if (!(p.minChildWeight >= 0 && Number.isFinite(p.minChildWeight))) {
    fail('minChildWeight', 'finite and ≥ 0', p.minChildWeight);
  }
  if (!Number.isInteger(p.earlyStoppingRounds) || p.earlyStoppingRounds < 0) {
    fail('earlyStoppingRounds', 'a non-negative integer', p.earlyStoppingRounds);
  }
  for (const [name, value] of [
    ['maxCatToOnehot', p.maxCatToOnehot],
    ['maxCatThreshold', p.maxCatThreshold],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) fail(name, 'a positive integer', value);
  }
  if (!(p.catSmooth >= 0 && Number.isFinite(p.catSmooth))) fail('catSmooth', 'finite and ≥ 0', p.catSmooth);
  if (!(p.minDataPerCategory >= 0 && Number.isFinite(p.minDataPerCategory))) {
    fail('minDataPerCategory', 'finite and ≥ 0', p.minDataPerCategory);
  }
}

function checkDataset(data: GbdtDataset, name: string): void {
  const { nRows, nFeatures } = data;
  if (!Number.isInteger(nRows) || nRows < 1 || !Number.isInteger(nFeatures) || nFeatures < 1) {
    throw new RangeError(`trainGbdt: ${name} needs at least one row and one feature`);
  }
  if (data.features.length !== nRows * nFeatures) {
    throw new RangeError(`trainGbdt: ${name} has ${data.features.length} values for ${nRows} × ${nFeatures}`);
  }
  if (data.labels.length !== nRows) {
    throw new RangeError(`trainGbdt: ${name} has ${data.labels.length} labels for ${nRows} rows`);
  }
  const { weight } = data;
  if (weight !== undefined) {
    if (weight.length !== nRows) {
      throw new RangeError(`trainGbdt: ${name} has ${weight.length} weights for ${nRows} rows`);
    }
    for (let i = 0; i < nRows; i++) {
      const w = weight[i]!;
      if (!(w >= 0 && Number.isFinite(w))) {
        throw new RangeError(`trainGbdt: ${name} weight ${w} at row ${i} is not finite and ≥ 0`);
      }
    }
  }
  const { baseMargin } = data;
  if (baseMargin !== undefined) {
    if (baseMargin.length !== nRows) {
      throw new RangeError(`trainGbdt: ${name} has ${baseMargin.length} base margins for ${nRows} rows`);
    }
    for (let i = 0; i < nRows; i++) {
      if (!Number.isFinite(baseMargin[i]!)) {
        throw new RangeError(`trainGbdt: ${name} base margin ${baseMargin[i]} at row ${i} is not finite`);
      }
    }
  }
}
