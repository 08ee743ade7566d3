export {
  DatasetParseError,
  datasetFormats,
  formatFromPath,
  loadInteractions,
  parseJsonlLine,
  parseMl100kLine,
  parseMovielensCsvHeader,
  parseMovielensCsvLine,
  readInteractions,
  readLines,
  type CsvColumns,
  type DatasetFormat,
  type Interaction,
  type LineSource,
} from './datasets.js';
export { idComparator, idOrder, sortIds, type IdComparator } from './ids.js';
export {
  heldOutUsers,
  holdoutLast,
  prepareDataset,
  splitFingerprint,
  summarize,
  testHoldout,
  trainingInput,
  validationHoldout,
  validationSplit,
  type HeldOutSplit,
  type PreparedDataset,
  type SplitSummary,
  type TrainSplit,
  type UserRows,
} from './protocol.js';
export { MetricsAccumulator, type RankingMetrics } from './metrics.js';
export { TopKSelector } from './topk.js';
export { HeldOutRanker, rankHeldOut, trainProfile } from './scoring.js';
export { compareLists, evaluatedLists, type IndexedMatrix, type ListComparison } from './parity.js';
export { protocolParams, tuningGrids, untunedGrids, type ParamGrids } from './grids.js';
export {
  modelNames,
  resolveModelName,
  runEvaluation,
  type EvaluateOptions,
  type Fitter,
  type HarnessDeps,
  type ResultLine,
} from './harness.js';
export { evaluateChoice, evaluateModels, type ModelChoice } from './evaluate.js';
export {
  centerOut,
  selectModel,
  selectionSetFromTrain,
  temporalSelectionSet,
  trimGrid,
  type Choice,
  type Selection,
  type SelectionSet,
  type SelectOptions,
  type Trial,
} from './auto.js';
export {
  runAuto,
  selectableModels,
  selectOnTrain,
  type AutoOptions,
  type AutoResultLine,
} from './auto-evaluate.js';
