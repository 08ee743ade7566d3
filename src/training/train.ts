import { availableParallelism } from 'node:os';
import type { FeedbackConfig } from '../events/index.js';
import { fitRecommender, type ModelName, type ModelParamsByName, type Recommender } from '../models/index.js';
import type { JsonValue } from '../shared/types.js';
import type { Store } from '../store/index.js';
import { BUNDLE_ARTIFACT, ModelBundle, type BundleInfo } from './bundle.js';
import { buildTrainingSet } from './dataset.js';

/** The part of the engine configuration a training run needs; plain data, so it crosses to a worker. */
export interface TrainingConfig {
  readonly feedback: FeedbackConfig;
  readonly primaryModel: Exclude<ModelName, 'popularity'>;
  readonly models: ModelParamsByName;
}

export type TrainingProgress = (stage: string, done: number, total: number) => void;

/**
 * One training run: read the event log, fit popularity (the fallback) and the personalised models,
 * and save them as one new bundle version. The bundle is written whole in one store call, so a reader
 * either finds the new version complete or does not find it.
 */
export async function trainBundle(
  store: Store,
  config: TrainingConfig,
  onProgress: TrainingProgress = () => {},
): Promise<BundleInfo> {
  onProgress('reading events', 0, 1);
  const set = await buildTrainingSet(store, config.feedback);
  onProgress('reading events', 1, 1);
  const { matrix } = set.input;
  const models = new Map<ModelName, Recommender>();
  const fitSeconds: Partial<Record<ModelName, number>> = {};
  const names: ModelName[] = ['popularity'];
  // Personalised models need someone to personalise for; an empty log still gets a (empty) popularity.
  if (matrix.data.length > 0) names.push(...(['itemknn', 'als'] as const));
  for (const name of names) {
    const started = performance.now();
    const model = await fitRecommender(name, set.input, config.models[name] as never, {
      threads: Math.min(2, availableParallelism()),
      onProgress: (done, total) => onProgress(`fitting ${name}`, done, total),
    });
    fitSeconds[name] = (performance.now() - started) / 1000;
    models.set(name, model);
  }
  const version = await store.nextArtifactVersion(BUNDLE_ARTIFACT);
  const info: BundleInfo = {
    version,
    trainedAt: Date.now(),
    cutoff: set.cutoff,
    primary: models.has(config.primaryModel) ? config.primaryModel : 'popularity',
    eventsRead: set.eventsRead,
    users: matrix.rows,
    items: matrix.cols,
    interactions: matrix.data.length,
    fitSeconds,
  };
  const bundle = new ModelBundle(info, set.userIds, set.itemIds, models);
  const payload = bundle.encode();
  await store.saveArtifact({
    name: BUNDLE_ARTIFACT,
    version,
    createdAt: info.trainedAt,
    meta: info as unknown as JsonValue,
    payload,
  });
  return info;
}
