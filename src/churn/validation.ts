import { performance } from 'node:perf_hooks';
import {
  averagePrecision,
  brierScore,
  calibrationTable,
  expectedCalibrationError,
  logLoss,
  rocAuc,
  type CalibrationBin,
  type GbdtParams,
} from '../models/tabular/index.js';
import {
  churnProbabilities,
  fitRecencyBaseline,
  recencyInput,
  tunedGbdt,
  tunedLogistic,
  type ChurnModelFit,
  type GbdtBase,
  type GbdtChurnModel,
  type LabelledRows,
  type LogisticChurnModel,
} from './event-models.js';
import { churnRate, type ChurnTable } from './events.js';

/**
 * Time-based validation of churn from events: every model is fitted (and tuned, on a split of its own
 * rows) on the table at an earlier cutoff and judged on the table at a later one, whose users' futures it
 * never saw. The recency-only baseline is judged beside the two learners.
 */

export type EventChurnModelName = 'logreg' | 'gbdt' | 'recency';

/** One model's line of `attune churn evaluate` (without `--table`) and of `bench/churn-events.ts`. */
export interface ChurnModelReport {
  readonly model: EventChurnModelName;
  readonly auc: number;
  /** Average precision. */
  readonly pr_auc: number;
  readonly brier: number;
  readonly logloss: number;
  /** Expected calibration error, 10 equal-width bins. */
  readonly ece: number;
  /** Seconds to tune and fit on the training table. */
  readonly train_s: number;
  /** Deciles of predicted probability on the evaluation table. */
  readonly calibration: readonly CalibrationBin[];
  /** What tuning chose. */
  readonly params: Record<string, number>;
}

export interface TimeValidation {
  readonly reports: readonly ChurnModelReport[];
  readonly logreg: LogisticChurnModel;
  readonly gbdt: GbdtChurnModel;
  readonly train: TableSummary;
  readonly evaluation: TableSummary;
}

export interface TableSummary {
  readonly cutoff: string;
  readonly window_days: number;
  /** Rows: one per user, or per (user, cutoff) pair in a stacked table. */
  readonly users: number;
  readonly churn_rate: number;
  /** A stacked table's number of cutoffs and its earliest (the newest is `cutoff`). */
  readonly stacked_cutoffs?: number;
  readonly earliest_cutoff?: string;
}

export function summarize(table: ChurnTable): TableSummary {
  return {
    cutoff: new Date(table.cut.cutoff).toISOString(),
    window_days: table.cut.windowMs / 86_400_000,
    users: table.ids.length,
    churn_rate: churnRate(table),
    ...(table.cutoffs === undefined
      ? {}
      : {
          stacked_cutoffs: table.cutoffs.length,
          earliest_cutoff: new Date(Math.min(...table.cutoffs)).toISOString(),
        }),
  };
}

export const rowsOf = (table: ChurnTable): LabelledRows => ({
  x: table.x,
  y: table.y,
  cols: table.columns.length,
});

/** Fails with what to change when a table cannot train or judge a classifier. */
export function requireBothClasses(table: ChurnTable, role: string): void {
  const rate = churnRate(table);
  if (table.ids.length === 0) {
    throw new Error(
      `no user was active before the ${role} cutoff ${new Date(table.cut.cutoff).toISOString()}: ` +
        'give a later --cutoff or a shorter --window',
    );
  }
  if (!(rate > 0 && rate < 1)) {
    throw new Error(
      `at the ${role} cutoff ${new Date(table.cut.cutoff).toISOString()} every one of the ` +
        `${table.ids.length} users ${rate === 1 ? 'churned' : 'came back'}: both outcomes are needed; ` +
        'try another --window or --cutoff',
    );
  }
}

function judge(
  model: EventChurnModelName,
  y: Uint8Array,
  probabilities: Float64Array,
  ranking: Float64Array,
  seconds: number,
  params: Record<string, number>,
): ChurnModelReport {
  return {
    model,
    auc: rocAuc(y, ranking),
    pr_auc: averagePrecision(y, ranking),
    brier: brierScore(y, probabilities),
    logloss: logLoss(y, probabilities),
    ece: expectedCalibrationError(y, probabilities),
    train_s: seconds,
    calibration: calibrationTable(probabilities, y),
    params,
  };
}

function timed<T>(work: () => T): { readonly value: T; readonly seconds: number } {
  const started = performance.now();
  const value = work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

function numericParams(params: Partial<GbdtParams>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(params)) if (typeof value === 'number') out[key] = value;
  return out;
}

export interface TimeValidationOptions {
  /** The trees' monotone constraints, one per column (`churnMonotone`); none when absent. */
  readonly monotone?: Int8Array;
  /** The trees' starts tuning chooses from (`GbdtBase`); default `GBDT_BASES`. */
  readonly gbdtBases?: readonly GbdtBase[];
}

/**
 * Fits the three models on `train` (one cutoff's table or a stack of several, `stackChurnTables`) and
 * judges them on `evaluation` (same columns).
 */
export function validateOverTime(
  train: ChurnTable,
  evaluation: ChurnTable,
  options: TimeValidationOptions = {},
): TimeValidation {
  requireBothClasses(train, 'training');
  requireBothClasses(evaluation, 'evaluation');
  if (train.columns.join('\n') !== evaluation.columns.join('\n')) {
    throw new Error('the training and evaluation tables have different feature columns');
  }
  const rows = rowsOf(train);
  const logreg = timed(() => tunedLogistic(train.ids, rows));
  const gbdt = timed(() => tunedGbdt(train.ids, rows, options.monotone, options.gbdtBases));
  const recency = timed(() => fitRecencyBaseline(train.recencyDays, train.y));

  const probabilities = (fit: ChurnModelFit) => churnProbabilities(fit, evaluation.x);
  const logregP = probabilities(logreg.value);
  const gbdtP = probabilities(gbdt.value.fit);
  const recencyP = churnProbabilities(recency.value, recencyInput(evaluation.recencyDays));
  const y = evaluation.y;
  return {
    reports: [
      judge('logreg', y, logregP, logregP, logreg.seconds, { c: logreg.value.c }),
      judge('gbdt', y, gbdtP, gbdtP, gbdt.seconds, {
        ...numericParams(gbdt.value.params),
        // 1: boosted from logistic regression's margin (`GbdtChurnModel.base`), 0: plain trees.
        base_logistic: gbdt.value.base === 'logistic' ? 1 : 0,
        monotone_columns: options.monotone?.reduce((k, c) => k + (c === 0 ? 0 : 1), 0) ?? 0,
      }),
      // Ranked by the raw days since the last event: the baseline as stated, whatever its fitted slope.
      judge('recency', y, recencyP, evaluation.recencyDays, recency.seconds, {}),
    ],
    logreg: logreg.value,
    gbdt: gbdt.value.fit,
    train: summarize(train),
    evaluation: summarize(evaluation),
  };
}

/** A report as a JSON line: the figures rounded for reading, the calibration table left out. */
export function reportLine(report: ChurnModelReport, extra: Record<string, unknown> = {}): string {
  const round = (v: number, digits: number) => Number(v.toFixed(digits));
  return JSON.stringify({
    model: report.model,
    auc: round(report.auc, 4),
    pr_auc: round(report.pr_auc, 4),
    brier: round(report.brier, 4),
    logloss: round(report.logloss, 4),
    ece: round(report.ece, 4),
    train_s: round(report.train_s, 3),
    ...extra,
  });
}
