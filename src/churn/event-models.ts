import {
  fitLogistic,
  logLoss,
  predictLogistic,
  shapContributions,
  sigmoid,
  trainGbdt,
  type GbdtDataset,
  type GbdtModel,
  type GbdtParams,
  type GbdtWorkerParams,
} from '../models/tabular/index.js';

/**
 * The models churn-from-events compares, fitted on a feature table whose values may be missing (NaN: a
 * recency with no such event yet). Each is tuned on a validation split of its own training rows, so a
 * later cut's labels never choose a setting.
 */

/** Row-major rows × cols features and 0/1 labels. */
export interface LabelledRows {
  readonly x: Float64Array;
  readonly y: Uint8Array;
  readonly cols: number;
}

/**
 * L2 logistic regression on features with missing values filled by the training median (a column never
 * seen gets 0), then standardised with the training mean and population sd.
 */
export interface LogisticChurnModel {
  readonly kind: 'logreg';
  readonly fill: Float64Array;
  readonly mean: Float64Array;
  readonly scale: Float64Array;
  readonly weights: Float64Array;
  readonly intercept: number;
  /** The chosen inverse penalty (scikit-learn's C). */
  readonly c: number;
}

/**
 * Gradient-boosted trees on the raw features (missing values go the way training chose). With `base`,
 * the trees were boosted from that logistic model's margin (XGBoost's `base_margin`, residual boosting):
 * the score is the logistic margin plus the trees', so it keeps ranking by the linear trend where the
 * features run past every value the trees saw (a tree is flat there), and the trees add the curvature and
 * interactions the line misses. Without trees it is the logistic model exactly.
 */
export interface GbdtChurnModel {
  readonly kind: 'gbdt';
  readonly model: GbdtModel;
  readonly base?: LogisticChurnModel;
}

/**
 * Where the trees start: the base score (`none`, plain trees) or the margin of logistic regression fitted
 * on the same rows (`logistic`). `chooseGbdtParams` tries each given and keeps the lower tuning loss.
 */
export type GbdtBase = 'none' | 'logistic';

/**
 * The starts tuning tries by default: logistic regression's margin only. Chosen on CDNOW's in-period
 * validation cuts (`bench/churn-events.ts --validate`, never an evaluation cut), mean trees' AUC over
 * both: plain trees 0.7757, from the logistic margin 0.7760, tuning choosing between the two 0.7759
 * (logistic regression itself 0.7748). Every store's churn features drift with the calendar the same way
 * (days since, tenure), and with no trees the start is the logistic model, so early stopping decides how
 * far the trees move from it. `['none']` gives plain trees; `['none', 'logistic']` lets tuning choose.
 */
export const GBDT_BASES: readonly GbdtBase[] = ['logistic'];

export type ChurnModelFit = LogisticChurnModel | GbdtChurnModel;

export const LOGISTIC_C_GRID = [0.01, 0.1, 1, 10] as const;

/**
 * Settings tried for the trees; each grows until 50 trees bring no better validation loss. Shallow trees
 * with large leaves and a small learning rate: churn tables have a few strong, smooth signals (recency,
 * frequency), and these did best on validation cuts of CDNOW's first months (never its evaluation cut).
 * `minChildWeight` is a hessian sum (about p(1 − p) per row), so the first setting is there for stores of a
 * few hundred users, where the others cannot split at all.
 */
export const GBDT_GRID: readonly Partial<GbdtParams>[] = [
  { maxDepth: 3, minChildWeight: 1 },
  { maxDepth: 2, minChildWeight: 50 },
  { maxDepth: 3, minChildWeight: 100, lambda: 10 },
  { maxDepth: 4, minChildWeight: 200, lambda: 10 },
  { maxDepth: 6, minChildWeight: 400, lambda: 10 },
];
const GBDT_BASE: GbdtWorkerParams = { objective: 'binary', learningRate: 0.02, nTrees: 2000 };
const EARLY_STOPPING_ROUNDS = 50;
/** Share of the training rows held out to tune on. */
const TUNING_SHARE = 0.2;

function median(values: number[]): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/** Median fill, mean and population sd of each column, from the given rows only. */
function scalingOf(
  rows: LabelledRows,
): Pick<LogisticChurnModel, 'fill' | 'mean' | 'scale'> & { readonly n: number } {
  const { x, cols } = rows;
  const n = rows.y.length;
  const fill = new Float64Array(cols);
  const mean = new Float64Array(cols);
  const scale = new Float64Array(cols).fill(1);
  for (let j = 0; j < cols; j++) {
    const present: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = x[i * cols + j]!;
      if (!Number.isNaN(v)) present.push(v);
    }
    fill[j] = median(present);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += filled(x[i * cols + j]!, fill[j]!);
    mean[j] = n === 0 ? 0 : sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (filled(x[i * cols + j]!, fill[j]!) - mean[j]!) ** 2;
    const sd = n === 0 ? 0 : Math.sqrt(squares / n);
    scale[j] = sd > 0 ? sd : 1;
  }
  return { fill, mean, scale, n };
}

const filled = (value: number, fill: number) => (Number.isNaN(value) ? fill : value);

/** The logistic model's input for rows of raw features: filled, then standardised. */
export function logisticInputs(
  model: Pick<LogisticChurnModel, 'fill' | 'mean' | 'scale'>,
  x: Float64Array,
): Float64Array {
  const cols = model.mean.length;
  const out = new Float64Array(x.length);
  for (let at = 0; at < x.length; at += cols) {
    for (let j = 0; j < cols; j++) {
      out[at + j] = (filled(x[at + j]!, model.fill[j]!) - model.mean[j]!) / model.scale[j]!;
    }
  }
  return out;
}

export function fitLogisticChurn(rows: LabelledRows, c: number): LogisticChurnModel {
  const scaling = scalingOf(rows);
  const fit = fitLogistic(logisticInputs(scaling, rows.x), rows.y, rows.cols, { c });
  if (!fit.converged) throw new Error(`logistic regression did not converge in ${fit.iterations} steps`);
  return {
    kind: 'logreg',
    fill: scaling.fill,
    mean: scaling.mean,
    scale: scaling.scale,
    weights: fit.weights,
    intercept: fit.intercept,
    c,
  };
}

/** The trees (from `base`'s margin when given), stopped early on `validation` when given. */
export function fitGbdtChurn(
  rows: LabelledRows,
  params: Partial<GbdtParams>,
  validation?: LabelledRows,
  base?: LogisticChurnModel,
): { readonly fit: GbdtChurnModel; readonly trees: number } {
  const training = trainGbdt(
    gbdtDataset(rows, base),
    { ...GBDT_BASE, ...params, ...(validation ? { earlyStoppingRounds: EARLY_STOPPING_ROUNDS } : {}) },
    validation ? gbdtDataset(validation, base) : undefined,
  );
  return { fit: gbdtChurnModel(training.model, base), trees: training.bestTreeCount };
}

/** Trained trees as a churn model, with the logistic model they were boosted from when there is one. */
export function gbdtChurnModel(trees: GbdtModel, base: LogisticChurnModel | undefined): GbdtChurnModel {
  return base === undefined ? { kind: 'gbdt', model: trees } : { kind: 'gbdt', model: trees, base };
}

/** Where tuning chose the trees' start (`chooseGbdtParams`): plain, or logistic regression with its C. */
export type GbdtStart = { readonly kind: 'none' } | { readonly kind: 'logistic'; readonly c: number };

/** The start's logistic model refitted on every row of the final fit; undefined for plain trees. */
export function startModel(start: GbdtStart, rows: LabelledRows): LogisticChurnModel | undefined {
  return start.kind === 'logistic' ? fitLogisticChurn(rows, start.c) : undefined;
}

/** Raw margins (log-odds) of rows of raw features. */
export function churnMargins(fit: ChurnModelFit, x: Float64Array): Float64Array {
  if (fit.kind === 'gbdt') {
    const trees = fit.model.predictMargin(x);
    if (fit.base === undefined) return trees;
    const base = churnMargins(fit.base, x);
    for (let i = 0; i < trees.length; i++) trees[i]! += base[i]!;
    return trees;
  }
  const inputs = logisticInputs(fit, x);
  const cols = fit.weights.length;
  const out = new Float64Array(inputs.length / cols);
  for (let i = 0; i < out.length; i++) {
    let z = fit.intercept;
    for (let j = 0; j < cols; j++) z += inputs[i * cols + j]! * fit.weights[j]!;
    out[i] = z;
  }
  return out;
}

export function churnProbabilities(fit: ChurnModelFit, x: Float64Array): Float64Array {
  if (fit.kind === 'logreg') return predictLogistic(fit, logisticInputs(fit, x));
  if (fit.base !== undefined) return churnMargins(fit, x).map(sigmoid);
  return fit.model.predict(x);
}

/**
 * Each feature's share of one row's margin, and the base last (cols + 1 values summing to the margin):
 * TreeSHAP for trees, coefficient × standardised value for the logistic model (base: the intercept).
 * Trees boosted from a logistic base add the two per feature: Shapley values are additive over a sum of
 * models, and the logistic model's own (its coefficient times the value's distance from the training
 * mean) are exact for a linear margin, so the row still sums to the margin served.
 */
export function churnContributions(fit: ChurnModelFit, row: Float64Array): Float64Array {
  if (fit.kind === 'gbdt') {
    const trees = shapContributions(fit.model, row);
    if (fit.base === undefined) return trees;
    const base = churnContributions(fit.base, row);
    for (let j = 0; j < trees.length; j++) trees[j]! += base[j]!;
    return trees;
  }
  const inputs = logisticInputs(fit, row);
  const cols = fit.weights.length;
  const out = new Float64Array(cols + 1);
  for (let j = 0; j < cols; j++) out[j] = fit.weights[j]! * inputs[j]!;
  out[cols] = fit.intercept;
  return out;
}

/** FNV-1a of a user id: a split that does not move when rows are reordered or added. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Rows split by user into a fitting part and a tuning part (about `TUNING_SHARE`). */
export function tuningSplit(
  ids: readonly string[],
  rows: LabelledRows,
): { readonly fit: LabelledRows; readonly tune: LabelledRows } {
  const fitRows: number[] = [];
  const tuneRows: number[] = [];
  ids.forEach((id, r) => ((hash(id) % 1000) / 1000 < TUNING_SHARE ? tuneRows : fitRows).push(r));
  const take = (which: number[]): LabelledRows => {
    const x = new Float64Array(which.length * rows.cols);
    const y = new Uint8Array(which.length);
    which.forEach((r, k) => {
      x.set(rows.x.subarray(r * rows.cols, (r + 1) * rows.cols), k * rows.cols);
      y[k] = rows.y[r]!;
    });
    return { x, y, cols: rows.cols };
  };
  return { fit: take(fitRows), tune: take(tuneRows) };
}

function bothClasses(y: Uint8Array): boolean {
  let ones = 0;
  for (const v of y) ones += v;
  return ones > 0 && ones < y.length;
}

/**
 * The logistic model with C chosen by log loss on the tuning split, refitted on every row. With too few
 * rows to split (a class missing from a part), C = 1.
 */
export function tunedLogistic(ids: readonly string[], rows: LabelledRows): LogisticChurnModel {
  const { fit, tune } = tuningSplit(ids, rows);
  return fitLogisticChurn(rows, logisticC(fit, tune));
}

/** C of `LOGISTIC_C_GRID` with the lowest log loss on `tune` when fitted on `fit`; 1 when one lacks a class. */
function logisticC(fit: LabelledRows, tune: LabelledRows): number {
  let best: { c: number; loss: number } = { c: 1, loss: Infinity };
  if (bothClasses(fit.y) && bothClasses(tune.y)) {
    for (const c of LOGISTIC_C_GRID) {
      const loss = logLoss(tune.y, churnProbabilities(fitLogisticChurn(fit, c), tune.x));
      if (loss < best.loss) best = { c, loss };
    }
  }
  return best.c;
}

/**
 * The trees' setting chosen on the tuning split: each start in `bases` (`GbdtBase`) × each of `GBDT_GRID`
 * (with the monotone constraints, when given) stopped early there, the one with the lowest tuning log
 * loss kept with its number of trees. A logistic start is logistic regression with the C `tunedLogistic`
 * chooses, fitted on the fitting part only while tuning (the tuning rows stay unseen) and on every row for
 * the final fit (`base`: the C; the caller fits it, as the final rows are its own). `chosen` is what
 * tuning picked (for reports); `final` is everything the final fit on all rows takes, plain data a worker
 * thread can receive (`trainGbdtInWorker`).
 */
export function chooseGbdtParams(
  ids: readonly string[],
  rows: LabelledRows,
  monotone?: Int8Array,
  bases: readonly GbdtBase[] = GBDT_BASES,
): {
  readonly chosen: Partial<GbdtParams>;
  readonly final: GbdtWorkerParams;
  readonly base: GbdtStart;
} {
  if (bases.length === 0) throw new RangeError('chooseGbdtParams: no base to try');
  const { fit, tune } = tuningSplit(ids, rows);
  const constrained = monotone === undefined ? {} : { monotone };
  let best: { params: Partial<GbdtParams>; loss: number; base: GbdtBase } = {
    params: { ...GBDT_GRID[1]!, nTrees: 200 },
    loss: Infinity,
    base: bases[0]!,
  };
  const c = bases.includes('logistic') ? logisticC(fit, tune) : 1;
  if (bothClasses(fit.y) && bothClasses(tune.y)) {
    for (const start of bases) {
      const base = start === 'logistic' ? fitLogisticChurn(fit, c) : undefined;
      for (const setting of GBDT_GRID) {
        const { fit: model, trees } = fitGbdtChurn(fit, { ...setting, ...constrained }, tune, base);
        const loss = logLoss(tune.y, churnProbabilities(model, tune.x));
        if (loss < best.loss)
          best = { params: { ...setting, nTrees: Math.max(1, trees) }, loss, base: start };
      }
    }
  }
  const { objective: _objective, ...chosen } = best.params;
  return {
    chosen: best.params,
    final: { ...GBDT_BASE, ...chosen, ...constrained },
    base: best.base === 'logistic' ? { kind: 'logistic', c } : { kind: 'none' },
  };
}

/**
 * The trees with start, depth and leaf size chosen on the tuning split (`chooseGbdtParams`), refitted on
 * every row with the chosen setting and its number of trees (from logistic regression refitted on every
 * row with the chosen C, when that start won).
 */
export function tunedGbdt(
  ids: readonly string[],
  rows: LabelledRows,
  monotone?: Int8Array,
  bases: readonly GbdtBase[] = GBDT_BASES,
): { readonly fit: GbdtChurnModel; readonly params: Partial<GbdtParams>; readonly base: GbdtBase } {
  const { chosen, final, base } = chooseGbdtParams(ids, rows, monotone, bases);
  return {
    fit: fitGbdtChurn(rows, final, undefined, startModel(base, rows)).fit,
    params: chosen,
    base: base.kind,
  };
}

/** `LabelledRows` as the trees' data set, starting from `base`'s margins when given. */
export function gbdtDataset(rows: LabelledRows, base?: LogisticChurnModel): GbdtDataset {
  const data = {
    features: rows.x,
    labels: Float64Array.from(rows.y),
    nRows: rows.y.length,
    nFeatures: rows.cols,
  };
  return base === undefined ? data : { ...data, baseMargin: churnMargins(base, rows.x) };
}

/**
 * The recency-only baseline: one logistic on log(1 + days since the last event), so it has probabilities
 * to score; its ranking, and so its AUC, is the raw recency's.
 */
export function fitRecencyBaseline(recencyDays: Float64Array, y: Uint8Array): LogisticChurnModel {
  return fitLogisticChurn({ x: recencyInput(recencyDays), y, cols: 1 }, 1);
}

export function recencyInput(recencyDays: Float64Array): Float64Array {
  return recencyDays.map((d) => Math.log1p(Math.max(0, d)));
}

export { sigmoid };
