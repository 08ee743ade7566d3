/**
 * The feature store: declarative features over events for users, items and user-item pairs, computed by
 * one accumulator online (updated on every committed event) and in batch (point-in-time correct), so the
 * two agree exactly. The rule everywhere: a value at time t is computed from exactly the events with
 * timestamp < t; a window w covers t − w ≤ timestamp < t; online reads at the engine's clock.
 */
export {
  DEFAULT_FEATURE_DEFINITIONS,
  DEFAULT_FEATURE_DOCUMENT,
  ENTITIES,
  FEATURE_KINDS,
  FeatureConfigError,
  definitionToJson,
  loadFeatureDefinitions,
  parseFeatureDefinitions,
  parseWindow,
  type Entity,
  type FeatureConfigIssue,
  type FeatureDefinition,
  type FeatureDefinitions,
  type FeatureKind,
} from './definitions.js';
export {
  EventReader,
  UNITS,
  toUnits,
  type FeatureEvent,
  type ItemFacts,
  type ItemLookup,
} from './feature-event.js';
export { SESSION_GAP_MS, hourOfWeek, type PairItem } from './aggregators.js';
export { FeatureSet, type AccumulatorPlan, type EntityColumns } from './feature-set.js';
export { FeatureAccumulator, type AccumulatorSnapshot, type FeatureRow } from './accumulator.js';
export {
  featuresAt,
  pairFeaturesAt,
  pairItem,
  replayFeatures,
  rowToJson,
  toVector,
  userFeatureTable,
  type FeatureEntity,
  type FeatureTable,
  type FeatureVector,
} from './batch.js';
export { OnlineFeatures } from './online.js';
export {
  FeatureSnapshotsUnavailableError,
  SNAPSHOT_AFTER_EVENTS,
  SnapshotLoader,
  type FeatureSnapshots,
  type UserSnapshot,
} from './snapshots.js';
export {
  ExportInputError,
  exportAt,
  exportRows,
  parseExportRows,
  parseTime,
  type ExportRow,
} from './export.js';
