/**
 * Customer segments: k-means and DBSCAN on the numeric columns of a customer table, described in words;
 * and the segments of the engine's users on their behavioural features, stored, served and placed.
 */
export { adjustedRandIndex } from './ari.js';
export {
  dbscan,
  DBSCAN_DEFAULTS,
  kDistances,
  kneeIndex,
  suggestEps,
  type DbscanOptions,
  type DbscanResult,
  type EpsSuggestion,
} from './dbscan.js';
export {
  describeSegments,
  DESCRIBE_DEFAULTS,
  type DescribeOptions,
  type FeatureEffect,
  type FeatureLabel,
  type FeaturePhrase,
  type LabelMap,
  type SegmentDescription,
} from './describe.js';
export {
  chooseK,
  kmeans,
  KMEANS_DEFAULTS,
  silhouetteScore,
  type ChooseKOptions,
  type KChoice,
  type KMeansOptions,
  type KMeansResult,
  type KScore,
} from './kmeans.js';
export { startKmeansHelpers } from './kmeans-threads.js';
export { radiusIndex, type RadiusIndex } from './spatial.js';
export { numericMatrix, standardizeColumns, type NumericMatrix, type NumericMatrixOptions } from './table.js';
export { defaultColumns, namedColumns, type ColumnSource, type SegmentColumn } from './behavior.js';
export {
  SEGMENTS_ARTIFACT,
  SEGMENTS_FORMAT_VERSION,
  SegmentModel,
  SegmentsArtifactError,
  UNSEGMENTED,
  decodeSegmentsArtifact,
  encodeSegmentsArtifact,
  type DistinguishingFeature,
  type SegmentAssignment,
  type SegmentsArtifactData,
  type StoredSegment,
} from './model.js';
export {
  SEGMENT_TRAINING_DEFAULTS,
  SegmentTrainingError,
  behaviouralMatrix,
  trainSegmentsOnTable,
  type SegmentTrainingOptions,
} from './train.js';
export { loadSegmentModel, trainSegments } from './from-store.js';
export { servedSegments } from './serving.js';
