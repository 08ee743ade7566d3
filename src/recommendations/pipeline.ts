import type { ModelBundle } from '../training/index.js';
import type { ServingProfile } from './profile.js';
import type {
  CatalogView,
  PipelineContext,
  RecommendationRequest,
  RecommendationResult,
  Stage,
} from './types.js';

/** A request's context before any stage has run: no model chosen, nothing scored or selected. */
export function newContext(
  request: RecommendationRequest,
  profile: ServingProfile,
  bundle: ModelBundle | null,
  catalog: CatalogView,
): PipelineContext {
  return {
    request,
    profile,
    bundle,
    catalog,
    model: null,
    fallback: null,
    scores: null,
    excluded: null,
    candidates: [],
    items: [],
  };
}

/** Told how long each stage took, in seconds (the engine's `attune_pipeline_stage_seconds`). */
export type StageTimer = (stage: string, seconds: number) => void;

/**
 * Runs one request through the stages and shapes what the reply says about itself. With `time`, each
 * stage's duration is reported: the stages run synchronously, so a stage's time is exactly what it adds
 * to the request.
 */
export function runPipeline(
  stages: readonly Stage[],
  request: RecommendationRequest,
  profile: ServingProfile,
  bundle: ModelBundle | null,
  catalog: CatalogView,
  time?: StageTimer,
): RecommendationResult {
  const context = newContext(request, profile, bundle, catalog);
  for (const stage of stages) {
    const started = time === undefined ? 0 : performance.now();
    stage.run(context);
    time?.(stage.name, (performance.now() - started) / 1000);
  }
  const servedBy = context.candidates[0]?.source ?? context.model;
  return {
    requestId: request.requestId,
    userId: request.userId,
    model: context.model ? context.model.name : servedBy ? servedBy.name : 'catalog',
    modelVersion: bundle?.version ?? null,
    fallback: context.fallback,
    items: context.items,
  };
}
