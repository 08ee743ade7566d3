/**
 * Radius queries over the rows of a row-major matrix (n rows × d columns, one Float64Array): which rows lie
 * within eps of a row. DBSCAN asks this once or twice per row, so it must not cost n distances a query.
 *
 * Exactness: a row y is within eps of x when the squared distance, summed over the columns in order as
 * s = 0; s += (x_j − y_j)²; is at most eps·eps, both in float64. That is the test scikit-learn's k-d and ball
 * trees make (their "reduced distance"), so a pair exactly at eps, or a hair off it by rounding, counts the
 * same here as there. Every index below prunes only where the same rounded test cannot pass, so they all
 * give exactly the brute-force neighbours (`spatial.test.ts` checks it on random data).
 */

/** Which rows lie within the index's eps of a row. */
export interface RadiusIndex {
  readonly kind: 'grid' | 'kdtree' | 'brute';
  /** Writes the rows within eps of `row` (itself included) into `out` from 0 and returns how many. */
  neighbours(row: number, out: Int32Array): number;
  /** How many rows lie within eps of `row` (itself included), counting no further than `limit`. */
  count(row: number, limit: number): number;
}

/** The squared distance between row a of `x` and row b of `y`, summed over the columns in order. */
export function squaredDistanceInOrder(
  x: Float64Array,
  a: number,
  y: Float64Array,
  b: number,
  d: number,
): number {
  let sum = 0;
  for (let j = 0, p = a * d, q = b * d; j < d; j++) {
    const t = x[p + j]! - y[q + j]!;
    sum += t * t;
  }
  return sum;
}

/** Every row against every row: the reference the other indexes are tested against. */
export class BruteIndex implements RadiusIndex {
  readonly kind = 'brute';
  private readonly eps2: number;
  constructor(
    private readonly data: Float64Array,
    private readonly n: number,
    private readonly d: number,
    eps: number,
  ) {
    this.eps2 = eps * eps;
  }

  neighbours(row: number, out: Int32Array): number {
    let size = 0;
    for (let i = 0; i < this.n; i++) {
      if (squaredDistanceInOrder(this.data, row, this.data, i, this.d) <= this.eps2) out[size++] = i;
    }
    return size;
  }

  count(row: number, limit: number): number {
    let size = 0;
    for (let i = 0; i < this.n && size < limit; i++) {
      if (squaredDistanceInOrder(this.data, row, this.data, i, this.d) <= this.eps2) size++;
    }
    return size;
  }
}

/**
 * Squared distance from row `row` of `query` to the nearest point of box `box` (lo/hi hold boxes × d),
 * summed in column order. Each term is at most the same term of any row in the box (rounding is
 * monotone), and so is the sum: a box this finds beyond eps holds no row the pair test passes.
 */
function nearestInBox(
  query: Float64Array,
  row: number,
  d: number,
  lo: Float64Array,
  hi: Float64Array,
  box: number,
): number {
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const x = query[row * d + j]!;
    const below = lo[box * d + j]! - x;
    const above = x - hi[box * d + j]!;
    const gap = below > 0 ? below : above > 0 ? above : 0;
    sum += gap * gap;
  }
  return sum;
}

/** Squared distance to the box's farthest corner: at least every row's in it, likewise rounded. */
function farthestInBox(
  query: Float64Array,
  row: number,
  d: number,
  lo: Float64Array,
  hi: Float64Array,
  box: number,
): number {
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const x = query[row * d + j]!;
    const gap = Math.max(Math.abs(x - lo[box * d + j]!), Math.abs(hi[box * d + j]! - x));
    sum += gap * gap;
  }
  return sum;
}

/** The bounding boxes (lo, hi: boxes × d) of the rows sorted[begin[b]..end[b]) for each box b. */
function boundingBoxes(
  sorted: Float64Array,
  d: number,
  begin: Int32Array,
  end: Int32Array,
): { lo: Float64Array; hi: Float64Array } {
  const boxes = begin.length;
  const lo = new Float64Array(boxes * d).fill(Infinity);
  const hi = new Float64Array(boxes * d).fill(-Infinity);
  for (let b = 0; b < boxes; b++) {
    for (let at = begin[b]!; at < end[b]!; at++) {
      for (let j = 0; j < d; j++) {
        const x = sorted[at * d + j]!;
        if (x < lo[b * d + j]!) lo[b * d + j] = x;
        if (x > hi[b * d + j]!) hi[b * d + j] = x;
      }
    }
  }
  return { lo, hi };
}

/**
 * Widening of the grid's cells. A pair within eps must fall in cells at most `reach` apart in every column;
 * the cell coordinate floor((x − min) / side) is rounded twice (relative error ≤ 2⁻⁵² of a coordinate at
 * most the dense table's size, so under 1e-9 absolute), and the pair test itself may pass a hair beyond
 * eps. Cells 1e-6 wider leave the true coordinate difference ≤ reach·(1 − 1e-6), far more than both errors.
 */
const CELL_MARGIN = 1e-6;

/** The grid's dense cell table holds one entry per cell: a few per row at most, or a k-d tree is used. */
const maxGridCells = (n: number): number => 8 * n + 4096;

/**
 * A uniform grid of cells eps / reach wide (a hair wider, see CELL_MARGIN): a query reads the (2·reach + 1)^d
 * cells around its own. Each non-empty cell keeps its rows' bounding box, so that, as in the k-d tree, a
 * cell wholly beyond eps is skipped and one wholly within eps is taken without a distance per row; with
 * reach 2 in 2-D the inner cells are often wholly within. For few columns and a bounded number of cells;
 * the rows are copied in cell order so that one cell's rows are contiguous in memory.
 */
export class GridIndex implements RadiusIndex {
  readonly kind = 'grid';
  private readonly eps2: number;
  private readonly side: number;
  private readonly stride: Int32Array;
  /** Per cell of the dense table, its non-empty cell's slot, or −1. */
  private readonly slotOf: Int32Array;
  /** Per non-empty cell: its rows are order[begin..end), its box lo..hi. */
  private readonly begin: Int32Array;
  private readonly end: Int32Array;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  /** The rows, cell by cell (each cell's rows in row order). */
  private readonly order: Int32Array;
  /** The rows' values in `order`'s order. */
  private readonly sorted: Float64Array;
  /** The neighbouring cells' offsets per column, in −reach..reach: offsets[o × d + j]. */
  private readonly offsets: Int8Array;
  private readonly cell: Int32Array;

  private constructor(
    private readonly data: Float64Array,
    n: number,
    private readonly d: number,
    eps: number,
    reach: number,
    private readonly min: Float64Array,
    private readonly extent: Int32Array,
  ) {
    this.eps2 = eps * eps;
    this.side = (eps * (1 + CELL_MARGIN)) / reach;
    this.stride = new Int32Array(d);
    let cells = 1;
    for (let j = d - 1; j >= 0; j--) {
      this.stride[j] = cells;
      cells *= extent[j]!;
    }
    this.cell = new Int32Array(d);
    const cellOf = new Int32Array(n);
    const start = new Int32Array(cells + 1);
    for (let i = 0; i < n; i++) {
      cellOf[i] = this.cellOfRow(data, i);
      start[cellOf[i]! + 1]!++;
    }
    this.slotOf = new Int32Array(cells).fill(-1);
    let slots = 0;
    for (let c = 0; c < cells; c++) {
      if (start[c + 1]! > 0) this.slotOf[c] = slots++;
      start[c + 1]! += start[c]!;
    }
    this.begin = new Int32Array(slots);
    this.end = new Int32Array(slots);
    for (let c = 0; c < cells; c++) {
      const slot = this.slotOf[c]!;
      if (slot < 0) continue;
      this.begin[slot] = start[c]!;
      this.end[slot] = start[c + 1]!;
    }
    // Counting sort: stable, so each cell's rows stay in row order.
    this.order = new Int32Array(n);
    this.sorted = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const at = start[cellOf[i]!]!++;
      this.order[at] = i;
      this.sorted.set(data.subarray(i * d, i * d + d), at * d);
    }
    ({ lo: this.lo, hi: this.hi } = boundingBoxes(this.sorted, d, this.begin, this.end));
    const width = 2 * reach + 1;
    const combinations = width ** d;
    this.offsets = new Int8Array(combinations * d);
    for (let o = 0; o < combinations; o++) {
      for (let j = 0, rest = o; j < d; j++, rest = Math.floor(rest / width)) {
        this.offsets[o * d + j] = (rest % width) - reach;
      }
    }
  }

  /**
   * A grid over the rows, or undefined when its dense cell table would need more than `maxCells` cells.
   * `reach`: cells per eps (2 for up to 2 columns, else 1: the cells read per query grow as (2·reach + 1)^d).
   */
  static build(
    data: Float64Array,
    n: number,
    d: number,
    eps: number,
    maxCells = maxGridCells(n),
    reach = d <= 2 ? 2 : 1,
  ): GridIndex | undefined {
    const min = new Float64Array(d).fill(Infinity);
    const max = new Float64Array(d).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const x = data[i * d + j]!;
        if (x < min[j]!) min[j] = x;
        if (x > max[j]!) max[j] = x;
      }
    }
    const side = (eps * (1 + CELL_MARGIN)) / reach;
    const extent = new Int32Array(d);
    let cells = 1;
    for (let j = 0; j < d; j++) {
      const span = Math.floor((max[j]! - min[j]!) / side) + 1;
      cells *= span;
      if (!(cells <= maxCells)) return undefined;
      extent[j] = span;
    }
    return new GridIndex(data, n, d, eps, reach, min, extent);
  }

  /** The row's cell in the dense table; also leaves its coordinates in `this.cell`. */
  private cellOfRow(data: Float64Array, row: number): number {
    const { d, min, side, extent, stride, cell } = this;
    let id = 0;
    for (let j = 0; j < d; j++) {
      // Clamped: rounding cannot push the maximum past its last cell.
      const c = Math.min(Math.floor((data[row * d + j]! - min[j]!) / side), extent[j]! - 1);
      cell[j] = c;
      id += c * stride[j]!;
    }
    return id;
  }

  private scan(row: number, out: Int32Array | undefined, limit: number): number {
    const { d, offsets, cell, extent, stride, slotOf, begin, end, lo, hi, sorted, order, eps2, data } = this;
    const own = this.cellOfRow(data, row);
    let size = 0;
    const combinations = offsets.length / d;
    for (let o = 0; o < combinations; o++) {
      let id = own;
      let inside = true;
      for (let j = 0; j < d; j++) {
        const step = offsets[o * d + j]!;
        const c = cell[j]! + step;
        if (c < 0 || c >= extent[j]!) {
          inside = false;
          break;
        }
        id += step * stride[j]!;
      }
      if (!inside) continue;
      const slot = slotOf[id]!;
      if (slot < 0 || nearestInBox(data, row, d, lo, hi, slot) > eps2) continue;
      const from = begin[slot]!;
      const to = end[slot]!;
      if (farthestInBox(data, row, d, lo, hi, slot) <= eps2) {
        const take = Math.min(to - from, limit - size);
        if (out !== undefined) out.set(order.subarray(from, from + take), size);
        size += take;
        if (size >= limit) return size;
        continue;
      }
      for (let at = from; at < to; at++) {
        if (squaredDistanceInOrder(data, row, sorted, at, d) <= eps2) {
          if (out !== undefined) out[size] = order[at]!;
          if (++size >= limit) return size;
        }
      }
    }
    return size;
  }

  neighbours(row: number, out: Int32Array): number {
    return this.scan(row, out, Infinity);
  }

  count(row: number, limit: number): number {
    return this.scan(row, undefined, limit);
  }
}

/** Rows per k-d tree leaf: scanning a few more rows is cheaper than descending further. */
const LEAF_SIZE = 16;

/**
 * A k-d tree: each node splits its rows at the median of its widest column, down to leaves of at most
 * LEAF_SIZE rows; each node keeps its rows' bounding box. A query skips a node whose box is farther than
 * eps (the box's nearest corner, rounded as the pair test is, so it never skips a row the test passes) and
 * takes a node whose box lies wholly within eps without a distance per row. Any number of columns, though
 * like every k-d tree it prunes less as they grow.
 */
export class KdTree implements RadiusIndex {
  readonly kind = 'kdtree';
  private readonly eps2: number;
  /** The rows, node by node: node t holds order[begin[t]..end[t]). */
  readonly order: Int32Array;
  /** The rows' values in `order`'s order. */
  private readonly sorted: Float64Array;
  private readonly begin: Int32Array;
  private readonly end: Int32Array;
  /** Children of an inner node; −1 for a leaf. */
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  /** nodes × d bounding boxes. */
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly stack: Int32Array;
  private nodes = 0;

  constructor(
    private readonly data: Float64Array,
    private readonly n: number,
    private readonly d: number,
    eps = 0,
  ) {
    this.eps2 = eps * eps;
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    const capacity = 2 * Math.ceil(n / LEAF_SIZE) * 2 + 1;
    this.begin = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.lo = new Float64Array(capacity * d);
    this.hi = new Float64Array(capacity * d);
    this.stack = new Int32Array(4 * (Math.ceil(Math.log2(n + 1)) + 2));
    this.build(0, n);
    this.sorted = new Float64Array(n * d);
    for (let at = 0; at < n; at++) {
      const i = this.order[at]!;
      this.sorted.set(data.subarray(i * d, i * d + d), at * d);
    }
  }

  /** Builds the node over order[from..to) and returns its number. */
  private build(from: number, to: number): number {
    const { d, data, order } = this;
    const node = this.nodes++;
    this.begin[node] = from;
    this.end[node] = to;
    let widest = 0;
    let widestSpan = -1;
    for (let j = 0; j < d; j++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let at = from; at < to; at++) {
        const x = data[order[at]! * d + j]!;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      this.lo[node * d + j] = lo;
      this.hi[node * d + j] = hi;
      if (hi - lo > widestSpan) {
        widestSpan = hi - lo;
        widest = j;
      }
    }
    if (to - from <= LEAF_SIZE || widestSpan <= 0) {
      this.left[node] = -1;
      this.right[node] = -1;
      return node;
    }
    const middle = (from + to) >>> 1;
    this.select(from, to, middle, widest);
    this.left[node] = this.build(from, middle);
    this.right[node] = this.build(middle, to);
    return node;
  }

  /** Quickselect: order[from..to) rearranged so that position k holds its k-th smallest value in column j. */
  private select(from: number, to: number, k: number, j: number): void {
    const { data, d, order } = this;
    let lo = from;
    let hi = to - 1;
    while (lo < hi) {
      const pivot = data[order[(lo + hi) >>> 1]! * d + j]!;
      let a = lo;
      let b = hi;
      while (a <= b) {
        while (data[order[a]! * d + j]! < pivot) a++;
        while (data[order[b]! * d + j]! > pivot) b--;
        if (a <= b) {
          const t = order[a]!;
          order[a] = order[b]!;
          order[b] = t;
          a++;
          b--;
        }
      }
      if (k <= b) hi = b;
      else if (k >= a) lo = a;
      else return;
    }
  }

  private scan(row: number, out: Int32Array | undefined, limit: number): number {
    const { stack, eps2, data, sorted, order, d } = this;
    let size = 0;
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const node = stack[--top]!;
      if (nearestInBox(data, row, d, this.lo, this.hi, node) > eps2) continue;
      const from = this.begin[node]!;
      const to = this.end[node]!;
      if (farthestInBox(data, row, d, this.lo, this.hi, node) <= eps2) {
        const take = Math.min(to - from, limit - size);
        if (out !== undefined) out.set(order.subarray(from, from + take), size);
        size += take;
        if (size >= limit) return size;
        continue;
      }
      if (this.left[node]! >= 0) {
        stack[top++] = this.right[node]!;
        stack[top++] = this.left[node]!;
        continue;
      }
      for (let at = from; at < to; at++) {
        if (squaredDistanceInOrder(data, row, sorted, at, d) <= eps2) {
          if (out !== undefined) out[size] = order[at]!;
          if (++size >= limit) return size;
        }
      }
    }
    return size;
  }

  neighbours(row: number, out: Int32Array): number {
    return this.scan(row, out, Infinity);
  }

  count(row: number, limit: number): number {
    return this.scan(row, undefined, limit);
  }

  /**
   * The squared distance from `row` to its k-th nearest row, itself counted first (so k = 1 gives 0).
   * `heap` (length ≥ k) is scratch: a max-heap of the k nearest squared distances so far.
   */
  kthNearestSquared(row: number, k: number, heap: Float64Array): number {
    const { stack, data, sorted, d } = this;
    let size = 0;
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const node = stack[--top]!;
      if (size === k && nearestInBox(data, row, d, this.lo, this.hi, node) >= heap[0]!) continue;
      const left = this.left[node]!;
      if (left >= 0) {
        const right = this.right[node]!;
        // Nearer child on top: it tightens the heap before the farther one is tested.
        const toLeft = nearestInBox(data, row, d, this.lo, this.hi, left);
        const toRight = nearestInBox(data, row, d, this.lo, this.hi, right);
        stack[top++] = toLeft <= toRight ? right : left;
        stack[top++] = toLeft <= toRight ? left : right;
        continue;
      }
      for (let at = this.begin[node]!, end = this.end[node]!; at < end; at++) {
        const distance = squaredDistanceInOrder(data, row, sorted, at, d);
        if (size < k) {
          heapPush(heap, size++, distance);
        } else if (distance < heap[0]!) {
          heapReplaceTop(heap, size, distance);
        }
      }
    }
    return heap[0]!;
  }
}

/** Adds `value` to the max-heap heap[0..size). */
function heapPush(heap: Float64Array, size: number, value: number): void {
  let at = size;
  while (at > 0) {
    const parent = (at - 1) >>> 1;
    if (heap[parent]! >= value) break;
    heap[at] = heap[parent]!;
    at = parent;
  }
  heap[at] = value;
}

/** Replaces the largest value of the max-heap heap[0..size) by `value`. */
function heapReplaceTop(heap: Float64Array, size: number, value: number): void {
  let at = 0;
  for (;;) {
    const l = 2 * at + 1;
    if (l >= size) break;
    const r = l + 1;
    const child = r < size && heap[r]! > heap[l]! ? r : l;
    if (heap[child]! <= value) break;
    heap[at] = heap[child]!;
    at = child;
  }
  heap[at] = value;
}

/**
 * A grid for up to 3 columns when its table is at most a few cells per row, else a k-d tree. On 100,000
 * points in 2-D (bench/dbscan.ts's data) the grid took 0.47–0.52 s and the k-d tree 0.53–0.55 s.
 */
export function radiusIndex(
  data: Float64Array,
  n: number,
  d: number,
  eps: number,
  kind: 'auto' | RadiusIndex['kind'] = 'auto',
): RadiusIndex {
  if (kind === 'brute') return new BruteIndex(data, n, d, eps);
  if (kind === 'kdtree') return new KdTree(data, n, d, eps);
  // Asked for by name, a grid may take a larger table than 'auto' gives it (16M cells, 64 MB).
  const grid =
    kind === 'grid'
      ? GridIndex.build(data, n, d, eps, 1 << 24)
      : d <= 3
        ? GridIndex.build(data, n, d, eps)
        : undefined;
  if (grid !== undefined) return grid;
  if (kind === 'grid') throw new RangeError('a grid of cells eps wide over these rows needs too many cells');
  return new KdTree(data, n, d, eps);
}
