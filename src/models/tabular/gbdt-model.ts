import { objectiveByName, type GbdtObjective, type GbdtObjectiveName } from './gbdt-objective.js';

/**
 * A trained tree ensemble in flat typed arrays, one entry per node of all trees back to back. Tree t's
 * nodes are `treeStart[t] .. treeStart[t + 1])`, its root first; child indices are local to the tree.
 * Splits hold real thresholds (v ≤ threshold goes left, NaN follows defaultLeft), so prediction runs
 * on raw features, not bins.
 */
export interface GbdtNodes {
  readonly treeStart: Int32Array;
  /** Split feature, or -1 at a leaf. */
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly defaultLeft: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaf value (learning rate applied); 0 at internal nodes. */
  readonly value: Float64Array;
  /** Split loss reduction; 0 at leaves. */
  readonly gain: Float64Array;
  /** Hessian sum of the training rows through the node. */
  readonly cover: Float64Array;
}

/** The JSON form: plain number arrays, so it can be stored with a model version as it is. */
export interface GbdtModelJson {
  readonly format: 'attune-gbdt';
  readonly version: 1;
  readonly objective: GbdtObjectiveName;
  readonly baseScore: number;
  readonly nFeatures: number;
  readonly treeStart: number[];
  readonly feature: number[];
  readonly threshold: number[];
  readonly defaultLeft: number[];
  readonly left: number[];
  readonly right: number[];
  readonly value: number[];
  readonly gain: number[];
  readonly cover: number[];
}

export class GbdtModel {
  readonly objective: GbdtObjective;
  readonly baseScore: number;
  readonly nFeatures: number;
  readonly nodes: GbdtNodes;

  constructor(objective: GbdtObjective, baseScore: number, nFeatures: number, nodes: GbdtNodes) {
    this.objective = objective;
    this.baseScore = baseScore;
    this.nFeatures = nFeatures;
    this.nodes = nodes;
  }

  get treeCount(): number {
    return this.nodes.treeStart.length - 1;
  }

  /** Raw margins (log-odds for binary) of row-major rows of `nFeatures` values. */
  predictMargin(features: Float64Array): Float64Array {
    const d = this.nFeatures;
    const n = this.rowsIn(features);
    const out = new Float64Array(n).fill(this.baseScore);
    // Tree-outer: one tree's nodes stay in cache across all rows.
    for (let t = 0; t < this.treeCount; t++) this.addTree(t, features, n, d, out);
    return out;
  }

  /** Predictions on the objective's scale (probabilities for binary log loss). */
  predict(features: Float64Array): Float64Array {
    const out = this.predictMargin(features);
    for (let i = 0; i < out.length; i++) out[i] = this.objective.transform(out[i]!);
    return out;
  }

  /** Adds tree t's leaf values for n row-major rows to `out` (used to track validation margins). */
  addTree(t: number, features: Float64Array, n: number, d: number, out: Float64Array): void {
    addLeafValues(this.nodes, this.nodes.treeStart[t]!, features, n, d, out);
  }

  /** Total split gain per feature (XGBoost's `total_gain` importance). */
  gainImportance(): Float64Array {
    const out = new Float64Array(this.nFeatures);
    const { feature, gain } = this.nodes;
    for (let i = 0; i < feature.length; i++) if (feature[i]! >= 0) out[feature[i]!]! += gain[i]!;
    return out;
  }

  /** The model with its first `count` trees only (early stopping keeps the best iteration). */
  truncated(count: number): GbdtModel {
    if (count >= this.treeCount) return this;
    const { treeStart } = this.nodes;
    const end = treeStart[count]!;
    const nodes: GbdtNodes = {
      treeStart: treeStart.slice(0, count + 1),
      feature: this.nodes.feature.slice(0, end),
      threshold: this.nodes.threshold.slice(0, end),
      defaultLeft: this.nodes.defaultLeft.slice(0, end),
      left: this.nodes.left.slice(0, end),
      right: this.nodes.right.slice(0, end),
      value: this.nodes.value.slice(0, end),
      gain: this.nodes.gain.slice(0, end),
      cover: this.nodes.cover.slice(0, end),
    };
    return new GbdtModel(this.objective, this.baseScore, this.nFeatures, nodes);
  }

  toJSON(): GbdtModelJson {
    const n = this.nodes;
    return {
      format: 'attune-gbdt',
      version: 1,
      objective: this.objective.name,
      baseScore: this.baseScore,
      nFeatures: this.nFeatures,
      treeStart: Array.from(n.treeStart),
      feature: Array.from(n.feature),
      threshold: Array.from(n.threshold),
      defaultLeft: Array.from(n.defaultLeft),
      left: Array.from(n.left),
      right: Array.from(n.right),
      value: Array.from(n.value),
      gain: Array.from(n.gain),
      cover: Array.from(n.cover),
    };
  }

  /** Reads `toJSON`'s form back, checking the structure so a corrupt model cannot loop or read past ends. */
  static fromJSON(json: GbdtModelJson): GbdtModel {
    if (json.format !== 'attune-gbdt' || json.version !== 1) {
      throw new RangeError(
        `GbdtModel.fromJSON: unsupported format ${String(json.format)} v${String(json.version)}`,
      );
    }
    const nodes: GbdtNodes = {
      treeStart: Int32Array.from(json.treeStart),
      feature: Int32Array.from(json.feature),
      threshold: Float64Array.from(json.threshold),
      defaultLeft: Uint8Array.from(json.defaultLeft),
      left: Int32Array.from(json.left),
      right: Int32Array.from(json.right),
      value: Float64Array.from(json.value),
      gain: Float64Array.from(json.gain),
      cover: Float64Array.from(json.cover),
    };
    checkNodes(nodes, json.nFeatures);
    return new GbdtModel(objectiveByName(json.objective), json.baseScore, json.nFeatures, nodes);
  }

  private rowsIn(features: Float64Array): number {
    const d = this.nFeatures;
    if (d === 0 || features.length % d !== 0) {
      throw new RangeError(`GbdtModel: ${features.length} values is not a whole number of ${d}-feature rows`);
    }
    return features.length / d;
  }
}

/** Every array the same length, trees contiguous, features in range, children strictly after parents. */
function checkNodes(nodes: GbdtNodes, nFeatures: number): void {
  const total = nodes.feature.length;
  const fail = (why: string): never => {
    throw new RangeError(`GbdtModel.fromJSON: ${why}`);
  };
  for (const a of [
    nodes.threshold,
    nodes.defaultLeft,
    nodes.left,
    nodes.right,
    nodes.value,
    nodes.gain,
    nodes.cover,
  ]) {
    if (a.length !== total) fail('node arrays differ in length');
  }
  const { treeStart } = nodes;
  if (treeStart.length < 1 || treeStart[0] !== 0 || treeStart[treeStart.length - 1] !== total) {
    fail('tree starts do not cover the nodes');
  }
  for (let t = 0; t + 1 < treeStart.length; t++) {
    const start = treeStart[t]!;
    const size = treeStart[t + 1]! - start;
    if (size < 1) fail(`tree ${t} is empty`);
    for (let i = 0; i < size; i++) {
      const f = nodes.feature[start + i]!;
      if (f < 0) continue;
      if (f >= nFeatures) fail(`tree ${t} splits on feature ${f} of ${nFeatures}`);
      const l = nodes.left[start + i]!;
      const r = nodes.right[start + i]!;
      if (!(l > i && l < size && r > i && r < size)) fail(`tree ${t} node ${i} has children out of order`);
      if (!Number.isFinite(nodes.threshold[start + i]!))
        fail(`tree ${t} node ${i} has a non-finite threshold`);
    }
  }
}

/** What walking a tree reads of the node arrays (a model's, or those of the trees still being grown). */
type WalkedNodes = Pick<GbdtNodes, 'feature' | 'threshold' | 'defaultLeft' | 'left' | 'right' | 'value'>;

/**
 * Adds the leaf value of the tree whose root is node `base` for each of n row-major rows to `out`: a
 * missing value (NaN) takes the split's default side, any other goes left when at most the threshold.
 */
export function addLeafValues(
  nodes: WalkedNodes,
  base: number,
  features: Float64Array,
  n: number,
  d: number,
  out: Float64Array,
): void {
  const { feature, threshold, defaultLeft, left, right, value } = nodes;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    let node = base;
    let f = feature[node]!;
    while (f >= 0) {
      const v = features[row + f]!;
      const goLeft = v !== v ? defaultLeft[node] === 1 : v <= threshold[node]!;
      node = base + (goLeft ? left[node]! : right[node]!);
      f = feature[node]!;
    }
    out[i]! += value[node]!;
  }
}
