import { availableParallelism } from 'node:os';
import type { FeedbackConfig } from '../events/index.js';
import { ConsentFilter, type Consent } from '../privacy/index.js';
import { selectableModels } from '../evaluation/auto-evaluate.js';
import {
  selectModel,
  temporalSelectionSet,
  trimGrid,
  type Choice,
  type Selection,
} from '../evaluation/auto.js';
import { RECENCY_GRID, tuningGrids, type ParamGrids } from '../evaluation/grids.js';
import {
  blendOf,
  fitRecommender,
  paramsToJson,
  type FitOptions,
  type ModelName,
  type ModelParamsByName,
  type Recommender,
  type TrainingInput,
} from '../models/index.js';
import type { JsonValue } from '../shared/types.js';
import type { Store } from '../store/index.js';
import {
  BUNDLE_ARTIFACT,
  ModelBundle,
  type BundleInfo,
  type SelectionRecord,
  type TrainedInfo,
} from './bundle.js';
import { buildTrainingSet } from './dataset.js';
import { trainRerankerForRun } from './rerank.js';
import { withSideFeatures } from './side.js';

/** The part of the engine configuration a training run needs; plain data, so it crosses to a worker. */
/**
 * Training a re-ranker for the primary model's top candidates (`ranking/`): `auto` keeps it only when its
 * validation beats the generator's order on later lists, `always` keeps it whatever validation says (the
 * record says so), `off` trains none.
 */
export type RerankMode = 'auto' | 'always' | 'off';

export interface TrainingConfig {
  readonly feedback: FeedbackConfig;
  readonly primaryModel: Exclude<ModelName, 'popularity'>;
  readonly models: ModelParamsByName;
  /**
   * 'auto': tune a small grid per model on a temporal validation split, blend the best, serve the winner
   * by validation ndcg@20 (`primaryModel` when validation is too small to choose by). 'fixed': serve
   * `primaryModel` with the configured parameters. Absent means 'fixed', for configs from before.
   */
  readonly selection?: 'auto' | 'fixed';
  /**
   * With 'auto': the most milliseconds per user the chosen model or blend may take to score and rank the
   * catalog, measured on validation in the training worker (default `DEFAULT_SCORING_BUDGET_MS`).
   */
  readonly scoringBudgetMs?: number;
  /**
   * Fit the hybrid model on item features and user traits whenever the catalog or the users carry any, and
   * index every recommendable catalog item (new ones included) so that it scores them: serving's cold-start
   * stage uses it for users and items without interactions. Absent means true; false skips it (faster
   * runs, no cold start).
   */
  readonly hybrid?: boolean;
  /** The consent of users with none recorded: whose events training may learn from. Absent: `full`. */
  readonly defaultConsent?: Consent;
  /** Whether to train a re-ranker for the primary model's top candidates and when to keep it. Absent: `auto`. */
  readonly rerank?: RerankMode;
  /**
   * Models to fit besides the ones serving needs, at their tuned (else configured) parameters: the models
   * running experiments' variants serve (`experiments/`). `blend` is served only when selection chose it.
   */
  readonly alsoFit?: readonly ModelName[];
}

/**
 * Serving a request at 1,000 requests/s on one event-loop thread leaves well under a millisecond for
 * everything; scoring gets half of it. ALS scores MovieLens 100K's 1,682 items in ~0.2 ms per user.
 */
export const DEFAULT_SCORING_BUDGET_MS = 0.5;

export type TrainingProgress = (stage: string, done: number, total: number) => void;

/**
 * One training run: read the event log up to its current position, fit popularity (the fallback) and the
 * personalised models, and save them as one new bundle version. The bundle is written whole in one store
 * call, which also allocates its version, so a reader either finds the new version complete or does not
 * find it, and concurrent runs never collide on a number. Callers serialise runs with the training lease
 * (`training/lease.ts`); this function does not take it.
 */
export async function trainBundle(
  store: Store,
  config: TrainingConfig,
  onProgress: TrainingProgress = () => {},
): Promise<BundleInfo> {
  onProgress('reading events', 0, 1);
  // Users whose consent withholds personalization are not learned from; their events stay for measurement.
  const defaultConsent = config.defaultConsent ?? 'full';
  const consent = new ConsentFilter(defaultConsent, await store.listConsents(defaultConsent));
  const events = await buildTrainingSet(store, config.feedback, (userId) => consent.personalizes(userId));
  onProgress('reading events', 1, 1);
  // Personalised models need someone to personalise for; an empty log still gets a (empty) popularity.
  const personal = events.input.matrix.data.length > 0;
  const fitSeconds: Partial<Record<ModelName, number>> = {};
  const threads = Math.min(2, availableParallelism());
  // Selection measures on the events alone: new items have nothing to validate on.
  const selection =
    config.selection === 'auto' && personal
      ? await selectForTraining(events.input, config, threads, onProgress)
      : null;
  const plan: Choice[] = [{ model: 'popularity', params: config.models.popularity }];
  if (personal) {
    // The models serving has always had (similar items, explanations), at their tuned parameters when tuned.
    for (const name of ['itemknn', 'als'] as const) {
      plan.push(
        selection?.best.find((b) => b.model === name) ??
          ({ model: name, params: config.models[name] } as Choice),
      );
    }
  }
  // Without selection the configured primary serves, whichever model it is.
  const chosen =
    selection?.chosen ??
    (personal
      ? ({ model: config.primaryModel, params: config.models[config.primaryModel] } as Choice)
      : undefined);
  if (chosen !== undefined && chosen.model !== 'blend' && !plan.some((p) => p.model === chosen.model))
    plan.push(chosen);
  if (chosen?.model === 'blend') {
    for (const component of chosen.params.components) {
      const planned = plan.find((p) => p.model === component.model);
      if (planned === undefined) plan.push({ model: component.model, params: component.params } as Choice);
    }
  }
  if (personal) {
    for (const name of config.alsoFit ?? []) {
      if (name === 'blend' || plan.some((p) => p.model === name)) continue;
      plan.push(
        selection?.best.find((b) => b.model === name) ??
          ({ model: name, params: config.models[name] } as Choice),
      );
    }
  }
  // With side features every model shares the widened index: new items are empty columns, which cost
  // item-kNN, ALS and popularity linear time and score 0 there; serving takes them from the hybrid only
  // (recommendations/cold-start.ts). EASE is dense in items (items² weights, cubic fit), so a run that fits
  // it indexes no new items: cold users still get the hybrid, new items wait for their first events.
  const side =
    personal && config.hybrid !== false
      ? await withSideFeatures(store, events, { newItems: !plan.some((p) => p.model === 'ease') })
      : null;
  if (side !== null && !plan.some((p) => p.model === 'hybrid')) {
    plan.push(
      selection?.best.find((b) => b.model === 'hybrid') ?? { model: 'hybrid', params: config.models.hybrid },
    );
  }
  const set = side ?? events;
  const { matrix } = set.input;
  const models = new Map<ModelName, Recommender>();
  const fitOne = async (choice: Choice): Promise<Recommender> => {
    const started = performance.now();
    const model = await fitRecommender(choice.model, set.input, choice.params as never, {
      threads,
      onProgress: (done, total) => onProgress(`fitting ${choice.model}`, done, total),
    });
    fitSeconds[choice.model] = (performance.now() - started) / 1000;
    return model;
  };
  for (const choice of plan) models.set(choice.model, await fitOne(choice));
  if (chosen?.model === 'blend') {
    // The blend reuses the fitted components unless a component's chosen params differ from the kept one's.
    const parts = [];
    for (const component of chosen.params.components) {
      const kept = models.get(component.model);
      const wanted = paramsToJson(component.model, component.params);
      const same = kept !== undefined && JSON.stringify(kept.params) === JSON.stringify(wanted);
      const model =
        same && kept ? kept : await fitOne({ model: component.model, params: component.params } as Choice);
      parts.push({ model, weight: component.weight });
    }
    models.set('blend', blendOf(parts));
  }
  const primary = primaryOf(models, selection, config);
  const rerank = config.rerank ?? 'auto';
  const reranking =
    personal && rerank !== 'off'
      ? await trainRerankerForRun(
          store,
          set,
          events.input,
          models.get(primary) ?? null,
          selection?.fitted ?? null,
          onProgress,
          { keepUnchosen: rerank === 'always' },
        )
      : null;
  const trained: TrainedInfo = {
    trainedAt: Date.now(),
    position: set.position,
    cutoff: set.cutoff,
    primary,
    eventsRead: set.eventsRead,
    users: matrix.rows,
    items: matrix.cols,
    interactions: matrix.data.length,
    ...(side === null
      ? {}
      : {
          warmItems: side.warmItems,
          features: { item: side.itemFeatures.names.length, user: side.userFeatures.names.length },
        }),
    fitSeconds,
    ...(selection === null ? {} : { selection: selectionRecord(selection) }),
    ...(reranking === null ? {} : { reranking: reranking.record }),
  };
  // The version is not known before the store saves the bytes (it allocates it atomically), so neither
  // the bytes nor the stored metadata carry one.
  const payload = new ModelBundle(
    { ...trained, version: 0 },
    set.userIds,
    set.itemIds,
    models,
    reranking?.reranker ?? null,
  ).encode();
  // A person erased after this run began reading may be in what it learnt, and the erasure could not
  // reach models that did not exist yet: they are not saved, and the next run trains without that person.
  const erasedAt = await store.lastErasureAt();
  if (erasedAt !== null && erasedAt >= set.cutoff) {
    throw new Error(
      `a user was erased at ${new Date(erasedAt).toISOString()}, after this run began reading events; ` +
        'its models are not saved: train again',
    );
  }
  const version = await store.saveArtifact({
    name: BUNDLE_ARTIFACT,
    createdAt: trained.trainedAt,
    meta: trained as unknown as JsonValue,
    payload,
  });
  return { ...trained, version };
}

/** The parameters as a model reports them (`Recommender.params`), to compare a kept model with a choice. */
const paramsJson = (params: unknown): JsonValue => JSON.parse(JSON.stringify(params)) as JsonValue;

function primaryOf(
  models: ReadonlyMap<ModelName, Recommender>,
  selection: Selection | null,
  config: TrainingConfig,
): ModelName {
  const wanted = selection?.chosen.model ?? config.primaryModel;
  if (models.has(wanted)) return wanted;
  return models.has(config.primaryModel) ? config.primaryModel : 'popularity';
}

/**
 * The retrain's search: at most three candidates per model (the configured parameters first) and a time
 * budget per model, so a scheduled run stays short on a shop's data; the split is per user, temporal.
 */
async function selectForTraining(
  input: TrainingInput,
  config: TrainingConfig,
  threads: number,
  onProgress: TrainingProgress,
): Promise<Selection> {
  const full = tuningGrids(config.models);
  const grids = Object.fromEntries(
    Object.entries(full).map(([name, grid]) => [
      name,
      trimGrid(grid as readonly unknown[], 3, config.models[name as ModelName]),
    ]),
  ) as unknown as ParamGrids;
  const models = selectableModels();
  let done = 0;
  const fitOptions: FitOptions = { threads };
  onProgress('selecting a model', 0, models.length);
  return selectModel(temporalSelectionSet(input), {
    fit: fitRecommender,
    models,
    grids: { ...grids, popularity: [config.models.popularity] },
    fallback: { model: config.primaryModel, params: config.models[config.primaryModel] } as Choice,
    fitOptions,
    secondsPerModel: 20,
    // The re-ranker's fallback (no logged lists yet) builds on the choice as fitted on the earlier part.
    keepChosenModel: true,
    recency: RECENCY_GRID,
    // Serving pays the chosen scorer on every request, on one thread.
    scoringBudgetMs: config.scoringBudgetMs ?? DEFAULT_SCORING_BUDGET_MS,
    log: (line) => {
      if (line.includes('val ndcg') || line.includes('skipped'))
        onProgress('selecting a model', ++done, done + 1);
    },
  });
}

function selectionRecord(selection: Selection): SelectionRecord {
  return {
    mode: 'auto',
    chosen: { model: selection.chosen.model, params: paramsJson(selection.chosen.params) },
    valNdcg: selection.valNdcg,
    fallback: selection.fallback,
    validationUsers: selection.validationUsers,
    validationPairs: selection.validationPairs,
    seconds: selection.seconds,
    tried: selection.tried.map((t) => ({ ...t })),
  };
}
