import { fitRecommender, type ModelName, type Recommender, type TrainingInput } from '../models/index.js';
import type { Reranker } from '../ranking/reranker.js';
import { ModelBundle } from './bundle.js';

/**
 * For tests of what serves a bundle (`POST /v1/rank`, the re-rank stage, the codec): popularity fitted on
 * `input` as the primary model, users `u0…` and items `i0…` in the input's index order, and the re-ranker
 * when one is given.
 */
export async function popularityBundle(
  input: TrainingInput,
  reranker: Reranker | null = null,
  version = 4,
): Promise<ModelBundle> {
  const { rows, cols } = input.matrix;
  const popularity = await fitRecommender('popularity', input, { halfLifeDays: null });
  const models = new Map<ModelName, Recommender>([['popularity', popularity]]);
  const info = {
    version,
    trainedAt: 1,
    position: 1,
    cutoff: 1,
    primary: 'popularity' as const,
    eventsRead: 0,
    users: rows,
    items: cols,
    interactions: 0,
    fitSeconds: {},
  };
  const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, j) => `${prefix}${j}`);
  return new ModelBundle(info, ids(rows, 'u'), ids(cols, 'i'), models, reranker);
}
