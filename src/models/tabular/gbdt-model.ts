import { objectiveByName, type GbdtObjective, type GbdtObjectiveName } from './gbdt-objective.js';

/**
 * A trained tree ensemble in flat typed arrays, one entry per node of all trees back to back. Tree t's
 * nodes are `treeStart[t] .. treeStart[t + 1])`, its root first; child indices are local to the tree.
 * Splits hold real thresholds (v ≤ threshold goes left, NaN follows defaultLeft), so prediction runs
 * on raw features, not bins. A categorical split instead holds a set of category codes that go left
 * (LightGBM's bitsets): split k's set is bits `catBits[catBoundaries[k] .. catBoundaries[k + 1])`, code c
 * being bit c % 32 of word c / 32; any other value goes right, NaN follows defaultLeft.
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
  /** The node's categorical split index k, or −1 (a numeric split or a leaf). */
  readonly catSplit: Int32Array;
  /** One more entry than categorical splits: split k's words are catBoundaries[k] .. [k + 1]. */
  readonly catBoundaries: Int32Array;
  readonly catBits: Uint32Array;
}

/**
 * The version of the serialised forms (JSON and bytes). 2 added categorical splits; version 1 models
 * (numeric splits only) are still read.
 */
export const GBDT_FORMAT_VERSION = 2;

/** The JSON form: plain number arrays, so it can be stored with a model version as it is. */
export interface GbdtModelJson {
  readonly format: 'attune-gbdt';
  readonly version: 1 | 2;
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
  /** From version 2 (absent: no categorical splits). */
  readonly catSplit?: number[];
  readonly catBoundaries?: number[];
  readonly catBits?: number[];
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
    const { treeStart, catSplit, catBoundaries } = this.nodes;
    const end = treeStart[count]!;
    // Categorical splits are numbered in node order, so the kept trees use a prefix of them.
    let splits = 0;
    for (let i = 0; i < end; i++) splits = Math.max(splits, catSplit[i]! + 1);
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
      catSplit: catSplit.slice(0, end),
      catBoundaries: catBoundaries.slice(0, splits + 1),
      catBits: this.nodes.catBits.slice(0, catBoundaries[splits]!),
    };
    return new GbdtModel(this.objective, this.baseScore, this.nFeatures, nodes);
  }

  toJSON(): GbdtModelJson {
    const n = this.nodes;
    return {
      format: 'attune-gbdt',
      version: GBDT_FORMAT_VERSION,
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
      catSplit: Array.from(n.catSplit),
      catBoundaries: Array.from(n.catBoundaries),
      catBits: Array.from(n.catBits),
    };
  }

  /** Reads `toJSON`'s form back, checking the structure so a corrupt model cannot loop or read past ends. */
  static fromJSON(json: GbdtModelJson): GbdtModel {
    if (json.format !== 'attune-gbdt' || (json.version !== 1 && json.version !== 2)) {
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
      catSplit: json.catSplit ? Int32Array.from(json.catSplit) : new Int32Array(json.feature.length).fill(-1),
      catBoundaries: Int32Array.from(json.catBoundaries ?? [0]),
      catBits: Uint32Array.from(json.catBits ?? []),
    };
    checkNodes(nodes, json.nFeatures, 'GbdtModel.fromJSON');
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

/**
 * Every array the same length, trees contiguous, features in range, children strictly after parents,
 * categorical sets in range: what a decoder checks so a corrupt model cannot loop or read past ends.
 */
export function checkNodes(nodes: GbdtNodes, nFeatures: number, caller: string): void {
  const total = nodes.feature.length;
  const fail = (why: string): never => {
    throw new RangeError(`${caller}: ${why}`);
  };
  if (!Number.isInteger(nFeatures) || nFeatures < 1) fail(`${nFeatures} features`);
  for (const a of [
    nodes.threshold,
    nodes.defaultLeft,
    nodes.left,
    nodes.right,
    nodes.value,
    nodes.gain,
    nodes.cover,
    nodes.catSplit,
  ]) {
    if (a.length !== total) fail('node arrays differ in length');
  }
  const { catBoundaries, catBits, catSplit } = nodes;
  const splits = catBoundaries.length - 1;
  if (splits < 0 || catBoundaries[0] !== 0 || catBoundaries[splits] !== catBits.length) {
    fail('categorical boundaries do not cover the bits');
  }
  for (let k = 0; k < splits; k++) {
    if (catBoundaries[k + 1]! < catBoundaries[k]!) fail(`categorical split ${k} has negative size`);
  }
  for (let i = 0; i < total; i++) {
    const k = catSplit[i]!;
    if (k < -1 || k >= splits || (k >= 0 && nodes.feature[i]! < 0))
      fail(`node ${i} has categorical split ${k}`);
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
export type WalkedNodes = Pick<
  GbdtNodes,
  | 'feature'
  | 'threshold'
  | 'defaultLeft'
  | 'left'
  | 'right'
  | 'value'
  | 'catSplit'
  | 'catBoundaries'
  | 'catBits'
>;

/**
 * Whether value v of the node's split feature goes left: NaN takes the default side; a numeric split
 * sends v ≤ threshold left; a categorical one sends v left when it is a code in the split's set (any
 * other value, an unseen category or a non-integer, goes right). Prediction and TreeSHAP share it.
 */
export function goesLeft(nodes: WalkedNodes, at: number, v: number): boolean {
  if (v !== v) return nodes.defaultLeft[at] === 1;
  const k = nodes.catSplit[at]!;
  if (k < 0) return v <= nodes.threshold[at]!;
  const from = nodes.catBoundaries[k]!;
  const words = nodes.catBoundaries[k + 1]! - from;
  if (!(v >= 0 && v < 32 * words) || v !== Math.floor(v)) return false;
  return ((nodes.catBits[from + (v >>> 5)]! >>> (v & 31)) & 1) === 1;
}

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
  const { feature, threshold, catSplit, left, right, value } = nodes;
  for (let i = 0, row = 0; i < n; i++, row += d) {
    let node = base;
    let f = feature[node]!;
    while (f >= 0) {
      const v = features[row + f]!;
      // The common case (a present value at a numeric split) inline; the rest in goesLeft.
      const goLeft = v === v && catSplit[node]! < 0 ? v <= threshold[node]! : goesLeft(nodes, node, v);
      node = base + (goLeft ? left[node]! : right[node]!);
      f = feature[node]!;
    }
    out[i]! += value[node]!;
  }
}
