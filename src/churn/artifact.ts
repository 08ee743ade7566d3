import { decodeGbdtModel, encodeGbdtModel, sigmoid, type CalibrationBin } from '../models/tabular/index.js';
import { modelRowMapper } from './derived.js';
import { driverText, type ColumnMeaning } from './drivers.js';
import {
  churnContributions,
  churnMargins,
  type ChurnModelFit,
  type LogisticChurnModel,
} from './event-models.js';
import type { TableSummary } from './validation.js';

/**
 * The stored churn model: one versioned artifact (`Store.saveArtifact`, name `churn`) holding everything
 * serving needs — the feature columns and what they mean, the chosen model (GBDT bytes or logistic
 * coefficients with their scaling), the risk bands — and what training measured (both models' time-based
 * validation, the calibration table). The payload is JSON; the trees travel as their versioned bytes.
 */
export const CHURN_ARTIFACT = 'churn';
/**
 * 2: columns may be derived (`derived.ts`). A build reading format 1 only would read a derived column as
 * missing and score silently wrong, so the format moved; format 1 (feature columns only) still reads.
 * 3: trees may carry the logistic model they were boosted from (`GbdtChurnModel.base`); a build reading
 * format 2 would drop it and score the trees alone, silently wrong, so the format moved again.
 */
export const CHURN_FORMAT_VERSION = 3;
const READABLE_FORMATS: readonly number[] = [1, 2, CHURN_FORMAT_VERSION];

export type RiskBand = 'low' | 'medium' | 'high';

/** Probabilities at or above `high` are high risk, at or above `medium` medium, the rest low. */
export interface RiskBands {
  readonly medium: number;
  readonly high: number;
}

/**
 * Where the bands fall among the predictions for the users at the final model's newest training cutoff
 * (one row per user, not the stacked rows): the riskiest 20% high, next 30% medium.
 */
export const BAND_QUANTILES = { medium: 0.5, high: 0.8 } as const;

export interface ChurnArtifactData {
  readonly format: number;
  readonly trainedAt: number;
  /** The final model's training cut: features before it, labels in [cutoff, cutoff + window). */
  readonly cutoff: number;
  readonly windowMs: number;
  readonly events: readonly string[] | null;
  readonly columns: readonly ColumnMeaning[];
  readonly model: ChurnModelFit;
  readonly bands: RiskBands;
  /** The chosen model's calibration deciles on the evaluation cut. */
  readonly calibration: readonly CalibrationBin[];
  /** Each model's time-based validation (JSON as `attune churn evaluate` prints it) and the cuts. */
  readonly evaluation: {
    readonly reports: readonly Record<string, unknown>[];
    readonly train: TableSummary;
    readonly evaluation: TableSummary;
  };
  readonly trainRows: number;
  readonly churnRate: number;
}

interface StoredLogistic {
  readonly kind: 'logreg';
  readonly fill: number[];
  readonly mean: number[];
  readonly scale: number[];
  readonly weights: number[];
  readonly intercept: number;
  readonly c: number;
}

/** `base`: the logistic model the trees were boosted from (format 3), absent for plain trees. */
type StoredModel =
  { readonly kind: 'gbdt'; readonly bytes: string; readonly base?: StoredLogistic } | StoredLogistic;

function storedModel(model: ChurnModelFit): StoredModel {
  if (model.kind === 'gbdt') {
    const bytes = Buffer.from(encodeGbdtModel(model.model)).toString('base64');
    return model.base === undefined
      ? { kind: 'gbdt', bytes }
      : { kind: 'gbdt', bytes, base: storedLogistic(model.base) };
  }
  return storedLogistic(model);
}

function storedLogistic(model: LogisticChurnModel): StoredLogistic {
  return {
    kind: 'logreg',
    fill: Array.from(model.fill),
    mean: Array.from(model.mean),
    scale: Array.from(model.scale),
    weights: Array.from(model.weights),
    intercept: model.intercept,
    c: model.c,
  };
}

function modelFrom(stored: StoredModel): ChurnModelFit {
  if (stored.kind === 'gbdt') {
    const model = decodeGbdtModel(new Uint8Array(Buffer.from(stored.bytes, 'base64')));
    if (stored.base === undefined) return { kind: 'gbdt', model };
    const base = logisticFrom(stored.base);
    if (base.weights.length !== model.nFeatures)
      throw new Error('the trees and their logistic base differ in width');
    return { kind: 'gbdt', model, base };
  }
  return logisticFrom(stored);
}

function logisticFrom(stored: StoredLogistic): LogisticChurnModel {
  return {
    kind: 'logreg',
    fill: Float64Array.from(stored.fill),
    mean: Float64Array.from(stored.mean),
    scale: Float64Array.from(stored.scale),
    weights: Float64Array.from(stored.weights),
    intercept: stored.intercept,
    c: stored.c,
  };
}

export function encodeChurnArtifact(data: ChurnArtifactData): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ ...data, model: storedModel(data.model) }));
}

export class ChurnArtifactError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ChurnArtifactError';
  }
}

export function decodeChurnArtifact(payload: Uint8Array): ChurnArtifactData {
  let parsed: Omit<ChurnArtifactData, 'model'> & { readonly model: StoredModel };
  try {
    parsed = JSON.parse(new TextDecoder().decode(payload)) as typeof parsed;
  } catch (error) {
    throw new ChurnArtifactError('the churn artifact is not JSON', { cause: error });
  }
  if (!READABLE_FORMATS.includes(parsed.format)) {
    throw new ChurnArtifactError(
      `churn artifact format ${String(parsed.format)}, this build reads ${READABLE_FORMATS.join(' and ')}`,
    );
  }
  try {
    return { ...parsed, model: modelFrom(parsed.model) };
  } catch (error) {
    throw new ChurnArtifactError('the churn artifact holds no readable model', { cause: error });
  }
}

/** One driver of a user's risk. */
export interface ChurnDriver {
  readonly feature: string;
  /** null when missing. */
  readonly value: number | null;
  /** Its share of the margin (log-odds); positive raises the risk. */
  readonly contribution: number;
  readonly text: string;
}

export interface ChurnScore {
  readonly probability: number;
  readonly margin: number;
  readonly riskBand: RiskBand;
  readonly drivers: readonly ChurnDriver[];
}

export function riskBand(probability: number, bands: RiskBands): RiskBand {
  if (probability >= bands.high) return 'high';
  if (probability >= bands.medium) return 'medium';
  return 'low';
}

/** How many drivers a score explains itself by. */
export const DRIVERS = 3;

/** A loaded churn artifact that scores feature rows, with its version for replies. */
export class ChurnScorer {
  constructor(
    readonly data: ChurnArtifactData,
    readonly version: number,
  ) {}

  get trainedAt(): number {
    return this.data.trainedAt;
  }

  /**
   * The model's input from a feature row by name: the artifact's columns in its order, derived ones
   * computed from their inputs by the very function training tables use (`modelRowMapper`), NaN where the
   * current definitions lack a column (a renamed feature reads as missing rather than failing every
   * request).
   */
  rowFrom(columns: readonly string[], values: Float64Array): Float64Array {
    return modelRowMapper(this.data.columns, columns)(values);
  }

  /** Probabilities of many rows (row-major, the artifact's columns). */
  probabilities(x: Float64Array): Float64Array {
    return churnMargins(this.data.model, x).map(sigmoid);
  }

  /** One row's probability, band and top drivers by absolute contribution. */
  score(row: Float64Array, drivers = DRIVERS): ChurnScore {
    const contributions = churnContributions(this.data.model, row);
    const d = this.data.columns.length;
    let margin = 0;
    for (let j = 0; j <= d; j++) margin += contributions[j]!;
    const probability = sigmoid(margin);
    const order = Array.from({ length: d }, (_, j) => j)
      .filter((j) => contributions[j] !== 0)
      .sort((a, b) => Math.abs(contributions[b]!) - Math.abs(contributions[a]!) || a - b)
      .slice(0, drivers);
    return {
      probability,
      margin,
      riskBand: riskBand(probability, this.data.bands),
      drivers: order.map((j) => {
        const meaning = this.data.columns[j]!;
        const value = row[j]!;
        const contribution = contributions[j]!;
        return {
          feature: meaning.column,
          value: Number.isNaN(value) ? null : value,
          contribution,
          text: driverText(meaning, value, contribution),
        };
      }),
    };
  }
}

/** The value at quantile q of the numbers (linear interpolation), for the band thresholds. */
export function quantile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}
