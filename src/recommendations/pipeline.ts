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

/** Runs one request through the stages and shapes what the reply says about itself. */
export function runPipeline(
  stages: readonly Stage[],
  request: RecommendationRequest,
  profile: ServingProfile,
  bundle: ModelBundle | null,
  catalog: CatalogView,
): RecommendationResult {
  const context = newContext(request, profile, bundle, catalog);
  for (const stage of stages) stage.run(context);
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
