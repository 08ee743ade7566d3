import type { FeatureBins } from './gbdt-binning.js';

/** Numbers per histogram slot: gradient sum, hessian sum, row count. */
const STRIDE = 3;

/** The tree-shape parameters the grower needs (see `GbdtParams` for the defaults). */
export interface TreeParams {
  readonly maxDepth: number;
  /** λ: L2 penalty on leaf weights. */
  readonly lambda: number;
  /** γ: the least loss reduction a split must bring. */
  readonly gamma: number;
  /** The least hessian sum each child of a split must keep. */
  readonly minChildWeight: number;
  readonly learningRate: number;
}

/**
 * One grown tree in node-local numbering (root 0, nodes in creation order, children after parents).
 * `feature` is -1 at a leaf. The arrays are the grower's own buffers, valid until its next `grow`.
 */
export interface GrownTree {
  readonly nodeCount: number;
  readonly feature: Int32Array;
  /** The split's value bin: bins ≤ it go left (its real threshold is the bin's cut). */
  readonly bin: Int32Array;
  readonly defaultLeft: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaf weight, already scaled by the learning rate (0 at internal nodes). */
  readonly value: Float64Array;
  /** Loss reduction of the split (0 at leaves): the gain importance. */
  readonly gain: Float64Array;
  /** Hessian sum of the node's rows: XGBoost's cover, which TreeSHAP weighs paths by. */
  readonly cover: Float64Array;
}

/**
 * Grows regression trees on gradient/hessian histograms, depth-wise (level by level) as XGBoost's
 * `hist` method does.
 *
 * Per node the rows are a range of one row-index array, partitioned in place (stably, so each range
 * stays in ascending row order and column reads stay close to sequential). Each split builds the
 * histogram of its smaller child only and turns the parent's histogram into the larger child's by
 * subtraction, so a level costs at most half the rows. All buffers are allocated once per grower.
 */
export class TreeGrower {
  private readonly bins: FeatureBins;
  private readonly params: TreeParams;
  private readonly slots: number;

  private readonly rows: Int32Array;
  private readonly rowScratch: Int32Array;
  /**
   * Row-major histogram positions: `rowSlots[row * nFeatures + f]` = STRIDE × (histStart[f] + code),
   * where the row's values of feature f land (Uint16 when the histogram is small enough, else Uint32).
   */
  private readonly rowSlots: Uint16Array | Uint32Array;

  /**
   * Histograms: (grad sum, hess sum, row count) per slot, interleaved; a pool reused across nodes and
   * trees. Counts are exact under subtraction, unlike the float sums, so emptiness is judged by them.
   */
  private readonly histPool: Float64Array[] = [];
  private readonly freeHists: number[] = [];

  // Per-node state, indexed by node id.
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  private readonly sumG: Float64Array;
  private readonly sumH: Float64Array;
  private readonly hist: Int32Array;
  private readonly frontier: Int32Array;
  private readonly nextFrontier: Int32Array;

  private readonly tree: {
    nodeCount: number;
    feature: Int32Array;
    bin: Int32Array;
    defaultLeft: Uint8Array;
    left: Int32Array;
    right: Int32Array;
    value: Float64Array;
    gain: Float64Array;
    cover: Float64Array;
  };

  // The best split of the node last passed to `findSplit`.
  private splitFeature = -1;
  private splitBin = 0;
  private splitDefaultLeft = false;
  private splitGain = 0;
  private splitLeftG = 0;
  private splitLeftH = 0;

  constructor(bins: FeatureBins, params: TreeParams) {
    this.bins = bins;
    this.params = params;
    this.slots = bins.histStart[bins.nFeatures]!;
    const n = bins.nRows;
    this.rows = new Int32Array(n);
    this.rowScratch = new Int32Array(n);
    const d = bins.nFeatures;
    this.rowSlots = STRIDE * this.slots <= 0xffff ? new Uint16Array(n * d) : new Uint32Array(n * d);
    for (let f = 0; f < d; f++) {
      const base = STRIDE * bins.histStart[f]!;
      const column = f * n;
      for (let r = 0, k = f; r < n; r++, k += d) this.rowSlots[k] = base + STRIDE * bins.codes[column + r]!;
    }
    const maxNodes = 2 ** (params.maxDepth + 1) - 1;
    this.start = new Int32Array(maxNodes);
    this.end = new Int32Array(maxNodes);
    this.sumG = new Float64Array(maxNodes);
    this.sumH = new Float64Array(maxNodes);
    this.hist = new Int32Array(maxNodes);
    this.frontier = new Int32Array(2 ** params.maxDepth);
    this.nextFrontier = new Int32Array(2 ** params.maxDepth);
    this.tree = {
      nodeCount: 0,
      feature: new Int32Array(maxNodes),
      bin: new Int32Array(maxNodes),
      defaultLeft: new Uint8Array(maxNodes),
      left: new Int32Array(maxNodes),
      right: new Int32Array(maxNodes),
      value: new Float64Array(maxNodes),
      gain: new Float64Array(maxNodes),
      cover: new Float64Array(maxNodes),
    };
  }

  /** Grows one tree on the given gradients and hessians (one per training row). */
  grow(grad: Float64Array, hess: Float64Array): GrownTree {
    const n = this.bins.nRows;
    const { rows, tree } = this;
    for (let i = 0; i < n; i++) rows[i] = i;
    tree.nodeCount = 0;

    const root = this.newNode(0, n);
    this.hist[root] = this.acquireHist();
    this.buildHist(root, grad, hess);

    let frontier = this.frontier;
    let next = this.nextFrontier;
    frontier[0] = root;
    let width = 1;
    for (let depth = 0; depth < this.params.maxDepth && width > 0; depth++) {
      let nextWidth = 0;
      const childrenSplit = depth + 1 < this.params.maxDepth;
      for (let k = 0; k < width; k++) {
        const node = frontier[k]!;
        if (!this.findSplit(node)) {
          this.makeLeaf(node);
          continue;
        }
        const [left, right] = this.split(node);
        next[nextWidth++] = left;
        next[nextWidth++] = right;
        const parentHist = this.hist[node]!;
        this.hist[node] = -1;
        if (!childrenSplit) {
          this.releaseHist(parentHist);
          continue;
        }
        // Build the smaller child; the parent's histogram becomes the larger one by subtraction.
        const leftSmaller = this.end[left]! - this.start[left]! <= this.end[right]! - this.start[right]!;
        const small = leftSmaller ? left : right;
        const large = leftSmaller ? right : left;
        this.hist[small] = this.acquireHist();
        this.buildHist(small, grad, hess);
        this.hist[large] = parentHist;
        subtract(this.histPool[parentHist]!, this.histPool[this.hist[small]!]!, STRIDE * this.slots);
      }
      [frontier, next] = [next, frontier];
      width = nextWidth;
    }
    for (let k = 0; k < width; k++) this.makeLeaf(frontier[k]!);
    return tree;
  }

  /** Adds each leaf's value to the margins of the training rows that reached it. */
  addLeafValues(margins: Float64Array): void {
    const { tree, rows } = this;
    for (let node = 0; node < tree.nodeCount; node++) {
      if (tree.feature[node]! >= 0) continue;
      const v = tree.value[node]!;
      for (let i = this.start[node]!, end = this.end[node]!; i < end; i++) margins[rows[i]!]! += v;
    }
  }

  private newNode(start: number, end: number): number {
    const node = this.tree.nodeCount++;
    this.start[node] = start;
    this.end[node] = end;
    this.hist[node] = -1;
    return node;
  }

  private makeLeaf(node: number): void {
    const { tree, params } = this;
    const h = this.sumH[node]!;
    tree.feature[node] = -1;
    tree.bin[node] = 0;
    tree.defaultLeft[node] = 0;
    tree.left[node] = -1;
    tree.right[node] = -1;
    tree.gain[node] = 0;
    tree.cover[node] = h;
    // XGBoost's optimal weight -G / (H + λ), shrunk by the learning rate.
    tree.value[node] = (-this.sumG[node]! / (h + params.lambda)) * params.learningRate;
    if (this.hist[node]! >= 0) {
      this.releaseHist(this.hist[node]!);
      this.hist[node] = -1;
    }
  }

  /** Builds the node's histogram into its acquired buffer (and the root's gradient and hessian sums). */
  private buildHist(node: number, grad: Float64Array, hess: Float64Array): void {
    const { rows, rowSlots } = this;
    const d = this.bins.nFeatures;
    const h = this.histPool[this.hist[node]!]!;
    h.fill(0);
    const start = this.start[node]!;
    const end = this.end[node]!;
    let sg = 0;
    let sh = 0;
    // Row-major (XGBoost's hist layout): per row, its d slot indices are one sequential read, and each
    // slot's sums still accumulate over the node's rows in range order.
    for (let i = start; i < end; i++) {
      const r = rows[i]!;
      const g = grad[r]!;
      const hh = hess[r]!;
      sg += g;
      sh += hh;
      let k = r * d;
      const kEnd = k + d;
      // Four features per step: their slots are distinct (each feature has its own range), so loading
      // all four indices first lets the updates run independently (measured ~30% faster than one).
      for (; k + 4 <= kEnd; k += 4) {
        const s0 = rowSlots[k]!;
        const s1 = rowSlots[k + 1]!;
        const s2 = rowSlots[k + 2]!;
        const s3 = rowSlots[k + 3]!;
        h[s0]! += g;
        h[s0 + 1]! += hh;
        h[s0 + 2]!++;
        h[s1]! += g;
        h[s1 + 1]! += hh;
        h[s1 + 2]!++;
        h[s2]! += g;
        h[s2 + 1]! += hh;
        h[s2 + 2]!++;
        h[s3]! += g;
        h[s3 + 1]! += hh;
        h[s3 + 2]!++;
      }
      for (; k < kEnd; k++) {
        const slot = rowSlots[k]!;
        h[slot]! += g;
        h[slot + 1]! += hh;
        h[slot + 2]!++;
      }
    }
    // A child's sums came from the split's histogram scan (its sibling's by difference, so the two add
    // up to the parent's cover); only the root takes them from the rows.
    if (node === 0) {
      this.sumG[node] = sg;
      this.sumH[node] = sh;
    }
  }

  /**
   * Finds the node's best split over all features and value bins, trying missing values on each side
   * (XGBoost's sparsity-aware split finding). Gain is XGBoost's loss change
   * G_L²/(H_L + λ) + G_R²/(H_R + λ) − G²/(H + λ); a split must beat γ and leave each child a hessian
   * sum of at least minChildWeight. Ties keep the lower feature, then the lower bin, so the result is
   * deterministic. Returns false when no split qualifies.
   */
  private findSplit(node: number): boolean {
    const { lambda, gamma, minChildWeight } = this.params;
    const { nFeatures, binCount, histStart } = this.bins;
    const h = this.histPool[this.hist[node]!]!;
    const G = this.sumG[node]!;
    const H = this.sumH[node]!;
    if (H < 2 * minChildWeight) return false;
    const parentScore = (G * G) / (H + lambda);
    let best = gamma > 0 ? gamma : 0;
    let found = false;
    for (let f = 0; f < nFeatures; f++) {
      const nb = binCount[f]!;
      if (nb < 2) continue;
      const base = STRIDE * histStart[f]!;
      const missing = base + STRIDE * nb;
      const gMissing = h[missing]!;
      const hMissing = h[missing + 1]!;
      const hasMissing = h[missing + 2]! > 0;
      let gl = 0;
      let hl = 0;
      for (let b = 0; b < nb - 1; b++) {
        const slot = base + STRIDE * b;
        // An empty bin repeats the previous candidate: skip it.
        if (h[slot + 2] === 0) continue;
        gl += h[slot]!;
        hl += h[slot + 1]!;
        // Missing values go right.
        const hr = H - hl;
        if (hl >= minChildWeight && hr >= minChildWeight) {
          const gr = G - gl;
          const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
          if (gain > best) {
            best = gain;
            found = true;
            this.splitFeature = f;
            this.splitBin = b;
            // With no missing values here, unseen ones follow the heavier child (the likelier path).
            this.splitDefaultLeft = !hasMissing && hl > hr;
            this.splitLeftG = gl;
            this.splitLeftH = hl;
          }
        }
        if (!hasMissing) continue;
        // Missing values go left.
        const hlm = hl + hMissing;
        const hrm = H - hlm;
        if (hlm >= minChildWeight && hrm >= minChildWeight) {
          const glm = gl + gMissing;
          const grm = G - glm;
          const gain = (glm * glm) / (hlm + lambda) + (grm * grm) / (hrm + lambda) - parentScore;
          if (gain > best) {
            best = gain;
            found = true;
            this.splitFeature = f;
            this.splitBin = b;
            this.splitDefaultLeft = true;
            this.splitLeftG = glm;
            this.splitLeftH = hlm;
          }
        }
      }
    }
    this.splitGain = best;
    return found;
  }

  /** Records the found split at the node, partitions its rows and returns the two children. */
  private split(node: number): [number, number] {
    const { tree, rows, rowScratch } = this;
    const f = this.splitFeature;
    const bin = this.splitBin;
    const defaultLeft = this.splitDefaultLeft;
    const { codes, nRows, binCount } = this.bins;
    const missingCode = binCount[f]!;
    const column = f * nRows;

    // Stable partition: left rows compact in place, right rows via the scratch buffer.
    const start = this.start[node]!;
    const end = this.end[node]!;
    let l = start;
    let r = 0;
    for (let i = start; i < end; i++) {
      const row = rows[i]!;
      const code = codes[column + row]!;
      const goesLeft = code === missingCode ? defaultLeft : code <= bin;
      if (goesLeft) rows[l++] = row;
      else rowScratch[r++] = row;
    }
    rows.set(rowScratch.subarray(0, r), l);

    const left = this.newNode(start, l);
    const right = this.newNode(l, end);
    this.sumG[left] = this.splitLeftG;
    this.sumH[left] = this.splitLeftH;
    this.sumG[right] = this.sumG[node]! - this.splitLeftG;
    this.sumH[right] = this.sumH[node]! - this.splitLeftH;

    tree.feature[node] = f;
    tree.bin[node] = bin;
    tree.defaultLeft[node] = defaultLeft ? 1 : 0;
    tree.left[node] = left;
    tree.right[node] = right;
    tree.value[node] = 0;
    tree.gain[node] = this.splitGain;
    tree.cover[node] = this.sumH[node]!;
    return [left, right];
  }

  private acquireHist(): number {
    const free = this.freeHists.pop();
    if (free !== undefined) return free;
    this.histPool.push(new Float64Array(STRIDE * this.slots));
    return this.histPool.length - 1;
  }

  private releaseHist(id: number): void {
    this.freeHists.push(id);
  }
}

function subtract(into: Float64Array, minus: Float64Array, length: number): void {
  for (let i = 0; i < length; i++) into[i]! -= minus[i]!;
}
