/**
 * The recommendation models: fit one on a users × items matrix, score users with it, store it as flat
 * arrays and load it back. Every model offers the same `Recommender` surface.
 */
import { fitAls } from './als.js';
import { fitItemKnn } from './itemknn.js';
import { validateParams } from './params.js';
import { fitPopularity } from './popularity.js';
import type { FitOptions, ModelName, ModelParamsByName, Recommender, TrainingInput } from './types.js';

export type * from './types.js';
export { defaultParams, paramsFromJson, paramsToJson, validateParams, ParamsError } from './params.js';
export { encodeArtifacts, decodeArtifacts, loadRecommender, ArtifactFormatError } from './artifact.js';
export type { DecodedArtifacts } from './artifact.js';
export {
  csrFromCoo,
  transpose,
  transposeAligned,
  rowNnz,
  rowIndices,
  rowData,
  csrGet,
  assertCsr,
} from './csr.js';
export type { CooInput, CooResult } from './csr.js';
export { topK, TopKHeap, type Exclusion } from './topk.js';
export { AlsRecommender } from './als.js';
/** Ends idle ALS helper threads now (they end by themselves after 30 s idle and never hold the process). */
export { closeAlsWorkers } from './als-pool.js';
export { ItemKnnRecommender } from './itemknn.js';
export { PopularityRecommender } from './popularity.js';

export const MODEL_NAMES: readonly ModelName[] = ['popularity', 'itemknn', 'als'];

/** Fits model `name` with `params`; rejects on invalid params or input. */
export async function fitRecommender<N extends ModelName>(
  name: N,
  input: TrainingInput,
  params: ModelParamsByName[N],
  options: FitOptions = {},
): Promise<Recommender> {
  validateParams(name, params);
  switch (name) {
    case 'popularity':
      return fitPopularity(input, params as ModelParamsByName['popularity'], options);
    case 'itemknn':
      return fitItemKnn(input, params as ModelParamsByName['itemknn'], options);
    case 'als':
      return fitAls(input, params as ModelParamsByName['als'], options);
    default:
      throw new RangeError(`unknown model '${String(name)}'`);
  }
}
