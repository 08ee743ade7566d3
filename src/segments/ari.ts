/**
 * The adjusted Rand index (Hubert & Arabie 1985) of two labellings of the same rows: 1 for the same
 * partition up to renaming, about 0 for independent ones. Computed from the contingency table as
 * scikit-learn's `adjusted_rand_score` does; any integer labels (−1 is an ordinary label here: pass only
 * the rows to compare, e.g. DBSCAN's core rows).
 */
export function adjustedRandIndex(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length) throw new RangeError(`labellings differ in length: ${a.length} and ${b.length}`);
  const n = a.length;
  if (n < 2) return 1;
  const rows = dense(a);
  const columns = dense(b);
  const pairs = (x: number): number => (x * (x - 1)) / 2;
  const cells = new Map<number, number>();
  const rowSizes = new Float64Array(rows.count);
  const columnSizes = new Float64Array(columns.count);
  for (let i = 0; i < n; i++) {
    const r = rows.codes[i]!;
    const c = columns.codes[i]!;
    rowSizes[r]!++;
    columnSizes[c]!++;
    const key = r * columns.count + c;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  let index = 0;
  for (const size of cells.values()) index += pairs(size);
  let rowPairs = 0;
  for (const size of rowSizes) rowPairs += pairs(size);
  let columnPairs = 0;
  for (const size of columnSizes) columnPairs += pairs(size);
  const expected = (rowPairs * columnPairs) / pairs(n);
  const maximum = (rowPairs + columnPairs) / 2;
  // One cluster each, or every row alone in both: the labellings agree and nothing is left to chance.
  if (maximum === expected) return 1;
  return (index - expected) / (maximum - expected);
}

/** The labels renumbered 0, 1, … in order of first appearance. */
function dense(labels: Int32Array): { codes: Int32Array; count: number } {
  const codes = new Int32Array(labels.length);
  const seen = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    let code = seen.get(labels[i]!);
    if (code === undefined) {
      code = seen.size;
      seen.set(labels[i]!, code);
    }
    codes[i] = code;
  }
  return { codes, count: seen.size };
}
