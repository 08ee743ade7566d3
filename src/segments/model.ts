/**
 * The stored segmentation: one versioned artifact (`Store.saveArtifact`, name `segments`) holding what
 * serving needs to place a user — the columns with their fill, log and standardization, the k-means
 * centres or DBSCAN's core points with their clusters — and what training found: each segment's id, size,
 * share, description and distinguishing features, the silhouette, the k's tried. The payload is JSON.
 */
import { rawValue, standardized, type SegmentColumn } from './behavior.js';

export const SEGMENTS_ARTIFACT = 'segments';
export const SEGMENTS_FORMAT_VERSION = 1;
/** The id of DBSCAN's noise: users near no dense region. */
export const UNSEGMENTED = 'unsegmented';

export type SegmentAlgorithmName = 'kmeans' | 'dbscan';

/** A feature that sets a segment apart, as the API shows it. */
export interface DistinguishingFeature {
  readonly column: string;
  /** A human name ("purchases", "mobile share"). */
  readonly name: string;
  readonly direction: 'higher' | 'lower';
  /** (segment mean − rest mean) / overall sd, on the transformed column. */
  readonly effect: number;
  /** Means of the raw values (missing filled), in the feature's own unit. */
  readonly segmentMean: number;
  readonly restMean: number;
  /** The words it contributes ("mobile", "evenings"). */
  readonly phrase: string;
}

export interface StoredSegment {
  /** `seg-1`, `seg-2`, … by size, largest first; `unsegmented` for DBSCAN's noise. */
  readonly id: string;
  /** The clustering's label: a row of `centers` for k-means, a cluster for DBSCAN (−1 noise). */
  readonly label: number;
  readonly size: number;
  readonly share: number;
  readonly description: string;
  /** Most distinctive first. */
  readonly features: readonly DistinguishingFeature[];
}

export type StoredClustering =
  | {
      readonly algorithm: 'kmeans';
      readonly k: number;
      /** k × d, standardized coordinates, row = label. */
      readonly centers: readonly number[];
      /** Each k tried with its silhouette and inertia (one entry when k was given). */
      readonly scores: readonly {
        readonly k: number;
        readonly silhouette: number;
        readonly inertia: number;
      }[];
      readonly inertia: number;
    }
  | {
      readonly algorithm: 'dbscan';
      readonly eps: number;
      readonly minSamples: number;
      /** Whether eps came from the k-distance curve. */
      readonly epsSuggested: boolean;
      /** cores × d, standardized coordinates. */
      readonly cores: readonly number[];
      /** The cluster of each core point. */
      readonly coreLabels: readonly number[];
    };

export interface SegmentsArtifactData {
  readonly format: number;
  readonly trainedAt: number;
  /** The time the features were read at. */
  readonly at: number;
  readonly users: number;
  readonly columns: readonly SegmentColumn[];
  /** Default columns left out for being constant over the training users. */
  readonly dropped: readonly string[];
  readonly clustering: StoredClustering;
  readonly segments: readonly StoredSegment[];
  /** Mean silhouette on a sample (DBSCAN: of the clustered users); null when under two clusters. */
  readonly silhouette: number | null;
}

export class SegmentsArtifactError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SegmentsArtifactError';
  }
}

export function encodeSegmentsArtifact(data: SegmentsArtifactData): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(data));
}

export function decodeSegmentsArtifact(payload: Uint8Array): SegmentsArtifactData {
  let parsed: SegmentsArtifactData;
  try {
    parsed = JSON.parse(new TextDecoder().decode(payload)) as SegmentsArtifactData;
  } catch (error) {
    throw new SegmentsArtifactError('the segments artifact is not JSON', { cause: error });
  }
  if (parsed.format !== SEGMENTS_FORMAT_VERSION) {
    throw new SegmentsArtifactError(
      `segments artifact format ${String(parsed.format)}, this build reads ${SEGMENTS_FORMAT_VERSION}`,
    );
  }
  const d = parsed.columns.length;
  const points =
    parsed.clustering.algorithm === 'kmeans' ? parsed.clustering.centers : parsed.clustering.cores;
  if (d === 0 || points.length % d !== 0) {
    throw new SegmentsArtifactError(`the segments artifact's points do not have its ${d} columns`);
  }
  return parsed;
}

/** Where a user falls. */
export interface SegmentAssignment {
  /** The segment; for DBSCAN's noise the `unsegmented` entry (or a bare one when training had no noise). */
  readonly segment: StoredSegment;
  /** Euclidean distance, in standardized units, to the nearest centre (k-means) or core point (DBSCAN). */
  readonly distance: number;
  /**
   * k-means: 1 − d₁/d₂ with d₁, d₂ the distances to the nearest and second-nearest centres (1 at the
   * centre, 0 on the boundary with another segment). DBSCAN: 1 − d/eps within eps, 0 for noise.
   */
  readonly confidence: number;
}

/** A user's feature row by name, as the feature store gives it. */
export interface FeatureRowLike {
  readonly columns: { readonly numeric: readonly string[]; readonly labels: readonly string[] };
  readonly numbers: Float64Array;
  readonly labels: readonly (string | null)[];
}

/** A loaded segmentation that places users, with its version for replies. */
export class SegmentModel {
  readonly #byLabel: ReadonlyMap<number, StoredSegment>;
  readonly #points: Float64Array;

  constructor(
    readonly data: SegmentsArtifactData,
    readonly version: number,
  ) {
    this.#byLabel = new Map(data.segments.map((s) => [s.label, s]));
    const c = data.clustering;
    this.#points = Float64Array.from(c.algorithm === 'kmeans' ? c.centers : c.cores);
  }

  get trainedAt(): number {
    return this.data.trainedAt;
  }

  segment(id: string): StoredSegment | undefined {
    return this.data.segments.find((s) => s.id === id);
  }

  /** The standardized vector of a feature row; a column the row lacks reads as missing (the median). */
  vector(row: FeatureRowLike): Float64Array {
    const numeric = new Map(row.columns.numeric.map((name, k) => [name, row.numbers[k] ?? Number.NaN]));
    const labels = new Map(row.columns.labels.map((name, k) => [name, row.labels[k] ?? null]));
    return Float64Array.from(this.data.columns, (column) =>
      standardized(column, rawValue(column.source, numeric, labels)),
    );
  }

  /** The segment of a standardized vector. */
  assign(x: Float64Array): SegmentAssignment {
    const d = this.data.columns.length;
    const points = this.#points;
    const count = points.length / d;
    let best = -1;
    let first = Infinity;
    let second = Infinity;
    for (let p = 0; p < count; p++) {
      let sum = 0;
      for (let j = 0; j < d; j++) sum += (x[j]! - points[p * d + j]!) ** 2;
      if (sum < first) {
        second = first;
        first = sum;
        best = p;
      } else if (sum < second) second = sum;
    }
    const distance = Math.sqrt(first);
    const c = this.data.clustering;
    if (c.algorithm === 'kmeans') {
      const runnerUp = Math.sqrt(second);
      const confidence = Number.isFinite(runnerUp) && runnerUp > 0 ? 1 - distance / runnerUp : 1;
      return { segment: this.#segmentOf(best), distance, confidence };
    }
    // A border user of training joined the cluster of a core point within eps: a new user does the same.
    if (best >= 0 && distance <= c.eps) {
      return { segment: this.#segmentOf(c.coreLabels[best]!), distance, confidence: 1 - distance / c.eps };
    }
    return { segment: this.#segmentOf(-1), distance, confidence: 0 };
  }

  #segmentOf(label: number): StoredSegment {
    return (
      this.#byLabel.get(label) ?? {
        id: UNSEGMENTED,
        label: -1,
        size: 0,
        share: 0,
        description: 'near no segment',
        features: [],
      }
    );
  }
}
