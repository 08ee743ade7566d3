/**
 * A feature table for ranking: one row per (user, candidate), columns held by name. Columns are added one
 * at a time (candidate scores, then interaction features, later the feature store's), so a new source of
 * features is one more `set` call and never a change of layout; learners get a row-major copy of the
 * columns they ask for by name.
 */
export class FeatureTable {
  private readonly columns = new Map<string, Float64Array>();

  constructor(readonly nRows: number) {
    if (!Number.isInteger(nRows) || nRows < 0) throw new RangeError(`FeatureTable: bad row count ${nRows}`);
  }

  /** Column names in the order they were added: the order learners see them in. */
  get names(): readonly string[] {
    return [...this.columns.keys()];
  }

  has(name: string): boolean {
    return this.columns.has(name);
  }

  /** Adds (or replaces) a column; `values` is taken as it is, one value per row (NaN = missing). */
  set(name: string, values: Float64Array): void {
    if (values.length !== this.nRows) {
      throw new RangeError(
        `FeatureTable: column '${name}' has ${values.length} values for ${this.nRows} rows`,
      );
    }
    this.columns.set(name, values);
  }

  /** A new zero-filled column, added and returned for the caller to fill. */
  add(name: string): Float64Array {
    const values = new Float64Array(this.nRows);
    this.set(name, values);
    return values;
  }

  column(name: string): Float64Array {
    const values = this.columns.get(name);
    if (values === undefined) throw new RangeError(`FeatureTable: no column '${name}'`);
    return values;
  }

  /**
   * The named columns of the given rows (all rows when `rows` is omitted), row-major: what the tree
   * learners take. A missing name throws, so a model is never fed a table that lacks one of its features.
   */
  rowMajor(names: readonly string[], rows?: Int32Array): Float64Array {
    const columns = names.map((name) => this.column(name));
    const n = rows === undefined ? this.nRows : rows.length;
    const d = names.length;
    const out = new Float64Array(n * d);
    for (let c = 0; c < d; c++) {
      const column = columns[c]!;
      if (rows === undefined) for (let r = 0; r < n; r++) out[r * d + c] = column[r]!;
      else for (let r = 0; r < n; r++) out[r * d + c] = column[rows[r]!]!;
    }
    return out;
  }
}
