import type { ModelBundle } from '../training/index.js';
import type { ServingProfile } from './profile.js';
import type {
  CatalogView,
  PipelineContext,
  RecommendationRequest,
  RecommendationResult,
  Stage,
} from './types.js';

/** Runs one request through the stages and shapes what the reply says about itself. */
export function runPipeline(
  stages: readonly Stage[],
  request: RecommendationRequest,
  profile: ServingProfile,
  bundle: ModelBundle | null,
  catalog: CatalogView,
): RecommendationResult {
  const context: PipelineContext = {
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
