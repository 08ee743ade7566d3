import { temporalSelectionSet } from '../evaluation/auto.js';
import type { Recommender, TrainingInput } from '../models/index.js';
import { itemCategoriesFromStore, loggedListsFromStore } from '../ranking/logged-from-store.js';
import type { Reranker } from '../ranking/reranker.js';
import {
  trainFromCandidateLists,
  trainFromLoggedLists,
  type RerankTraining,
} from '../ranking/train-reranker.js';
import type { Store } from '../store/index.js';
import type { RerankingRecord } from './bundle.js';
import type { TrainingSet } from './dataset.js';
import type { TrainingProgress } from './train.js';

/**
 * The re-ranker step of a training run, after the models are fitted: from the impression log when it holds
 * enough served lists with outcomes, else from the chosen model's candidate lists on the temporal cut
 * selection made (`fittedOnCut`: the choice as fitted on the cut's earlier part). Runs in the training
 * worker, like the rest of the run; never fails the run (a re-ranker is an improvement, not a requirement).
 */
export async function trainRerankerForRun(
  store: Store,
  set: TrainingSet,
  warm: TrainingInput,
  primary: Recommender | null,
  fittedOnCut: Recommender | null,
  onProgress: TrainingProgress,
  options: { readonly keepUnchosen?: boolean; readonly log?: (line: string) => void } = {},
): Promise<{ readonly record: RerankingRecord; readonly reranker: Reranker | null }> {
  const { keepUnchosen = false, log = () => {} } = options;
  onProgress('training the re-ranker', 0, 1);
  const done = (result: RerankTraining) => {
    onProgress('training the re-ranker', 1, 1);
    return { record: rerankingRecord(result), reranker: result.reranker };
  };
  if (primary === null || primary.name === 'popularity') {
    return done({ reranker: null, info: null, skipped: 'no personal model to re-rank' });
  }
  const categories = await itemCategoriesFromStore(store, set.itemIds);
  const lists = await loggedListsFromStore(store, {
    throughSeq: set.position,
    userIndex: new Map(set.userIds.map((id, index) => [id, index])),
    itemIndex: new Map(set.itemIds.map((id, index) => [id, index])),
  });
  const fromLog = trainFromLoggedLists(lists, set.input, categories, { log, keepUnchosen });
  // Enough logged lists decide, whichever way: the log is what serving will be judged on.
  if (fromLog.info !== null) return done(fromLog);
  if (fittedOnCut === null) return done(fromLog);
  const cut = temporalSelectionSet(warm);
  const fromCandidates = trainFromCandidateLists(
    fittedOnCut,
    cut.input,
    { indptr: cut.validation.rows.indptr, items: cut.validation.rows.items },
    set.input,
    categories,
    { log, keepUnchosen },
  );
  return done(
    fromCandidates.info === null && fromCandidates.skipped !== null
      ? { ...fromCandidates, skipped: `${fromLog.skipped}; ${fromCandidates.skipped}` }
      : fromCandidates,
  );
}

/**
 * What the bundle records of a run's re-ranker. One kept though validation did not choose it
 * (`ATTUNE_RERANK=always`) serves, so it is `chosen`, and `forced` says what validation found instead.
 */
export function rerankingRecord(result: RerankTraining): RerankingRecord {
  const forced = result.reranker !== null && result.skipped !== null;
  return {
    chosen: result.reranker !== null,
    skipped: forced ? null : result.skipped,
    ...(forced ? { forced: `kept by ATTUNE_RERANK=always: ${result.skipped}` } : {}),
    info: result.info,
  };
}
