import { goesLeft, type GbdtModel, type GbdtNodes } from './gbdt-model.js';

/**
 * Per-prediction feature contributions by path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2,
 * as XGBoost's `pred_contribs`): exact Shapley values of the margin, where a feature left out of a
 * coalition is integrated over the training distribution the tree saw (each child weighted by its
 * share of the node's cover).
 *
 * Returns n × (d + 1) row-major values: column f is feature f's contribution and column d the bias (the
 * base score plus every tree's expected value), so each row sums to the row's raw margin.
 */
export function shapContributions(model: GbdtModel, features: Float64Array): Float64Array {
  const d = model.nFeatures;
  if (d === 0 || features.length % d !== 0) {
    throw new RangeError(
      `shapContributions: ${features.length} values is not a whole number of ${d}-feature rows`,
    );
  }
  const n = features.length / d;
  const out = new Float64Array(n * (d + 1));
  const { nodes } = model;
  const trees = model.treeCount;

  let bias = model.baseScore;
  let maxDepth = 0;
  for (let t = 0; t < trees; t++) {
    const base = nodes.treeStart[t]!;
    bias += expectedValue(nodes, base, 0);
    maxDepth = Math.max(maxDepth, depthOf(nodes, base, 0));
  }
  const walker = new PathWalker(nodes, maxDepth + 2);
  for (let i = 0; i < n; i++) {
    const phi = out.subarray(i * (d + 1), (i + 1) * (d + 1));
    const x = features.subarray(i * d, (i + 1) * d);
    for (let t = 0; t < trees; t++) walker.explain(nodes.treeStart[t]!, x, phi);
    phi[d] = bias;
  }
  return out;
}

/** The tree's mean output over its training rows: leaves weighted by cover. */
function expectedValue(nodes: GbdtNodes, base: number, node: number): number {
  const at = base + node;
  if (nodes.feature[at]! < 0) return nodes.value[at]!;
  const l = nodes.left[at]!;
  const r = nodes.right[at]!;
  const cl = nodes.cover[base + l]!;
  const cr = nodes.cover[base + r]!;
  return (cl * expectedValue(nodes, base, l) + cr * expectedValue(nodes, base, r)) / (cl + cr);
}

function depthOf(nodes: GbdtNodes, base: number, node: number): number {
  const at = base + node;
  if (nodes.feature[at]! < 0) return 0;
  return 1 + Math.max(depthOf(nodes, base, nodes.left[at]!), depthOf(nodes, base, nodes.right[at]!));
}

/**
 * The recursion's "unique path" of (feature, zero fraction, one fraction, permutation weight) entries.
 * Each recursion level copies its parent's path into the next block of one preallocated arena (the
 * reference implementation's layout), so explaining a row allocates nothing.
 */
class PathWalker {
  private readonly nodes: GbdtNodes;
  private readonly feature: Int32Array;
  private readonly zero: Float64Array;
  private readonly one: Float64Array;
  private readonly weight: Float64Array;
  private base = 0;
  private x: Float64Array = new Float64Array(0);
  private phi: Float64Array = new Float64Array(0);

  constructor(nodes: GbdtNodes, maxPath: number) {
    this.nodes = nodes;
    const size = ((maxPath + 1) * (maxPath + 2)) / 2;
    this.feature = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.weight = new Float64Array(size);
  }

  /** Adds one tree's contributions for row x into phi. */
  explain(base: number, x: Float64Array, phi: Float64Array): void {
    this.base = base;
    this.x = x;
    this.phi = phi;
    this.recurse(0, 0, 0, 0, 1, 1, -1);
  }

  /**
   * `parent` is the arena offset of the parent's path of `depth` entries; this level's path starts
   * right after it. The entry being added is (feature, zeroFraction, oneFraction).
   */
  private recurse(
    node: number,
    parent: number,
    path: number,
    depth: number,
    zeroFraction: number,
    oneFraction: number,
    feature: number,
  ): void {
    const { nodes, base } = this;
    // This level's path: a copy of the parent's, extended by the split that led here.
    // (A plain loop: paths are a few entries long, too short for copyWithin's call overhead.)
    for (let i = 0; i < depth; i++) {
      this.feature[path + i] = this.feature[parent + i]!;
      this.zero[path + i] = this.zero[parent + i]!;
      this.one[path + i] = this.one[parent + i]!;
      this.weight[path + i] = this.weight[parent + i]!;
    }
    this.extend(path, depth, zeroFraction, oneFraction, feature);

    const at = base + node;
    const split = nodes.feature[at]!;
    if (split < 0) {
      const value = nodes.value[at]!;
      for (let i = 1; i <= depth; i++) {
        const w = this.unwoundSum(path, depth, i);
        this.phi[this.feature[path + i]!]! += w * (this.one[path + i]! - this.zero[path + i]!) * value;
      }
      return;
    }

    // The row's path: a categorical split sends its set left, like prediction (`goesLeft`).
    const goLeft = goesLeft(nodes, at, this.x[split]!);
    const hot = goLeft ? nodes.left[at]! : nodes.right[at]!;
    const cold = goLeft ? nodes.right[at]! : nodes.left[at]!;
    const cover = nodes.cover[at]!;
    const hotZero = nodes.cover[base + hot]! / cover;
    const coldZero = nodes.cover[base + cold]! / cover;

    // A feature split on again higher up: undo its earlier entry and carry its fractions down.
    let incomingZero = 1;
    let incomingOne = 1;
    let pathDepth = depth;
    let k = 0;
    while (k <= depth && this.feature[path + k] !== split) k++;
    if (k <= depth) {
      incomingZero = this.zero[path + k]!;
      incomingOne = this.one[path + k]!;
      this.unwind(path, depth, k);
      pathDepth--;
    }
    const child = path + depth + 1;
    this.recurse(hot, path, child, pathDepth + 1, hotZero * incomingZero, incomingOne, split);
    this.recurse(cold, path, child, pathDepth + 1, coldZero * incomingZero, 0, split);
  }

  private extend(
    path: number,
    depth: number,
    zeroFraction: number,
    oneFraction: number,
    feature: number,
  ): void {
    const { weight } = this;
    this.feature[path + depth] = feature;
    this.zero[path + depth] = zeroFraction;
    this.one[path + depth] = oneFraction;
    weight[path + depth] = depth === 0 ? 1 : 0;
    for (let i = depth - 1; i >= 0; i--) {
      weight[path + i + 1]! += (oneFraction * weight[path + i]! * (i + 1)) / (depth + 1);
      weight[path + i] = (zeroFraction * weight[path + i]! * (depth - i)) / (depth + 1);
    }
  }

  private unwind(path: number, depth: number, index: number): void {
    const { weight } = this;
    const oneFraction = this.one[path + index]!;
    const zeroFraction = this.zero[path + index]!;
    let nextOne = weight[path + depth]!;
    for (let i = depth - 1; i >= 0; i--) {
      if (oneFraction !== 0) {
        const tmp = weight[path + i]!;
        weight[path + i] = (nextOne * (depth + 1)) / ((i + 1) * oneFraction);
        nextOne = tmp - (weight[path + i]! * zeroFraction * (depth - i)) / (depth + 1);
      } else {
        weight[path + i] = (weight[path + i]! * (depth + 1)) / (zeroFraction * (depth - i));
      }
    }
    for (let i = index; i < depth; i++) {
      this.feature[path + i] = this.feature[path + i + 1]!;
      this.zero[path + i] = this.zero[path + i + 1]!;
      this.one[path + i] = this.one[path + i + 1]!;
    }
  }

  /** The total permutation weight of the path with entry `index` unwound, without changing the path. */
  private unwoundSum(path: number, depth: number, index: number): number {
    const { weight } = this;
    const oneFraction = this.one[path + index]!;
    const zeroFraction = this.zero[path + index]!;
    let nextOne = weight[path + depth]!;
    let total = 0;
    for (let i = depth - 1; i >= 0; i--) {
      if (oneFraction !== 0) {
        const tmp = (nextOne * (depth + 1)) / ((i + 1) * oneFraction);
        total += tmp;
        nextOne = weight[path + i]! - tmp * zeroFraction * ((depth - i) / (depth + 1));
      } else if (zeroFraction !== 0) {
        total += weight[path + i]! / zeroFraction / ((depth - i) / (depth + 1));
      }
    }
    return total;
  }
}
