import type { GbdtModel } from './gbdt-model.js';

/**
 * A tree ensemble laid out for prediction in the request path: the re-ranker scores 200 candidates per
 * request through a hundred or more shallow trees. Walking linked nodes costs a hard-to-predict branch per
 * level (which way a row goes is data), and those mispredictions, not the comparisons, are most of the time.
 *
 * This is QuickScorer (Lucchese et al., SIGIR 2015): a tree's leaves are bits of a word, leftmost leaf the
 * highest bit. A split a row does not take to the left ("false": value above the threshold, or missing
 * where missing values go right) rules out the leaves of its left subtree; the row's exit leaf is the
 * leftmost leaf no false split ruled out. So per row and feature, the splits on that feature are scanned
 * in ascending threshold order while the threshold is below the value, each clearing its mask from its
 * tree's word; then each tree's leaf is `Math.clz32` of its word. Loops run over sorted arrays and stop
 * once per feature, so branches predict well.
 *
 * The sum per row adds the trees' leaf values in tree order starting from the base score, as
 * `GbdtModel.predictMargin` does, so the margins are bit-for-bit the same. Ensembles that do not fit
 * (categorical splits, or a tree with more than 32 leaves) are not compiled: `compileGbdt` returns null
 * and the caller keeps `predictMargin`.
 */
export interface CompiledGbdt {
  readonly nFeatures: number;
  /** Margins of row-major rows into `out` (length = rows), as `GbdtModel.predictMargin` computes them. */
  predictMarginInto(features: Float64Array, out: Float64Array): void;
}

/** Leaves per tree one 32-bit word holds. */
export const MAX_COMPILED_LEAVES = 32;

export function compileGbdt(model: GbdtModel): CompiledGbdt | null {
  const nodes = model.nodes;
  if (nodes.catSplit.some((k) => k >= 0)) return null;
  const trees = model.treeCount;
  const d = model.nFeatures;

  // Per split: its tree, the leaves of its left subtree as cleared bits, threshold, feature, missing side.
  const splitTree: number[] = [];
  const splitMask: number[] = [];
  const splitThreshold: number[] = [];
  const splitFeature: number[] = [];
  const splitNanRight: boolean[] = [];
  const leafStart = new Int32Array(trees + 1);
  const leafValues: number[] = [];
  for (let t = 0; t < trees; t++) {
    const root = nodes.treeStart[t]!;
    const first = leafValues.length;
    // In order (left subtree, node, right subtree): leaves are numbered left to right.
    const walk = (node: number): { readonly from: number; readonly to: number } | null => {
      const at = root + node;
      if (nodes.feature[at]! < 0) {
        leafValues.push(nodes.value[at]!);
        const leaf = leafValues.length - 1 - first;
        return { from: leaf, to: leaf + 1 };
      }
      const left = walk(nodes.left[at]!);
      const right = walk(nodes.right[at]!);
      if (left === null || right === null || right.to > MAX_COMPILED_LEAVES) return null;
      let cleared = 0;
      for (let leaf = left.from; leaf < left.to; leaf++) cleared |= bitOf(leaf);
      splitTree.push(t);
      splitMask.push(~cleared);
      splitThreshold.push(nodes.threshold[at]!);
      splitFeature.push(nodes.feature[at]!);
      splitNanRight.push(nodes.defaultLeft[at] === 0);
      return { from: left.from, to: right.to };
    };
    if (walk(0) === null) return null;
    leafStart[t + 1] = leafValues.length;
  }

  // Splits grouped by feature, ascending threshold within a feature; and per feature those that send
  // missing values right.
  const order = Array.from(splitTree.keys()).sort(
    (a, b) => splitFeature[a]! - splitFeature[b]! || splitThreshold[a]! - splitThreshold[b]!,
  );
  const featureStart = new Int32Array(d + 1);
  for (const s of order) featureStart[splitFeature[s]! + 1]!++;
  for (let f = 0; f < d; f++) featureStart[f + 1]! += featureStart[f]!;
  const threshold = Float64Array.from(order, (s) => splitThreshold[s]!);
  const tree = Int32Array.from(order, (s) => splitTree[s]!);
  const mask = Int32Array.from(order, (s) => splitMask[s]!);
  const nanRightStart = new Int32Array(d + 1);
  const nanRight = order.filter((s) => splitNanRight[s]);
  for (const s of nanRight) nanRightStart[splitFeature[s]! + 1]!++;
  for (let f = 0; f < d; f++) nanRightStart[f + 1]! += nanRightStart[f]!;
  const nanRightTree = Int32Array.from(nanRight, (s) => splitTree[s]!);
  const nanRightMask = Int32Array.from(nanRight, (s) => splitMask[s]!);
  const leaf = Float64Array.from(leafValues);
  const words = new Int32Array(trees);
  const start = new Int32Array(trees);
  const varying = new Int32Array(d);
  const { baseScore } = model;

  /** Clears from `into` the leaves that value `v` of feature `f` rules out. */
  const applyFeature = (into: Int32Array, f: number, v: number): void => {
    if (v !== v) {
      for (let p = nanRightStart[f]!; p < nanRightStart[f + 1]!; p++)
        into[nanRightTree[p]!]! &= nanRightMask[p]!;
      return;
    }
    const end = featureStart[f + 1]!;
    for (let p = featureStart[f]!; p < end && threshold[p]! < v; p++) into[tree[p]!]! &= mask[p]!;
  };

  return {
    nFeatures: d,
    predictMarginInto(features: Float64Array, out: Float64Array): void {
      const n = out.length;
      if (features.length !== n * d) {
        throw new RangeError(`CompiledGbdt: ${features.length} values for ${n} rows of ${d} features`);
      }
      if (n === 0) return;
      // A feature with one value in every row (the user's own, when one user's candidates are scored)
      // rules out the same leaves for all of them: applied once, to the words every row starts from.
      start.fill(-1);
      let nVarying = 0;
      for (let f = 0; f < d; f++) {
        const first = features[f]!;
        let same = true;
        for (let row = d + f; row < features.length && same; row += d) {
          const v = features[row]!;
          same = v === first || (v !== v && first !== first);
        }
        if (same) applyFeature(start, f, first);
        else varying[nVarying++] = f;
      }
      for (let i = 0, row = 0; i < n; i++, row += d) {
        words.set(start);
        for (let k = 0; k < nVarying; k++) {
          const f = varying[k]!;
          applyFeature(words, f, features[row + f]!);
        }
        let sum = baseScore;
        for (let t = 0; t < trees; t++) sum += leaf[leafStart[t]! + Math.clz32(words[t]!)]!;
        out[i] = sum;
      }
    },
  };
}

/** Leaf `j` (counted from the left) is bit 31 − j, so the leftmost leaf left standing is `clz32` of the word. */
const bitOf = (leaf: number): number => 1 << (31 - leaf);
