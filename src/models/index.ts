/**
 * The recommendation models: fit one on a users × items matrix, score users with it, store it as flat
 * arrays and load it back. Every model offers the same `Recommender` surface.
 */
import { fitAls } from './als.js';
import { loadRecommender } from './artifact.js';
import { fitBlend } from './blend.js';
import { fitEase } from './ease.js';
import { fitHybrid } from './hybrid.js';
import { fitItemKnn } from './itemknn.js';
import { validateParams } from './params.js';
import { fitPopularity } from './popularity.js';
import { fitRp3beta } from './rp3beta.js';
import { withRecency } from './recency.js';
import type {
  FitOptions,
  ModelName,
  ModelParamsByName,
  ProfileWeighting,
  Recommender,
  TrainingInput,
} from './types.js';

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
export { HybridRecommender } from './hybrid.js';
export { EaseRecommender } from './ease.js';
/** Ends idle EASE helper threads now (they end by themselves after 30 s idle). */
export { closeEaseWorkers } from './ease-fit.js';
export { Rp3betaRecommender } from './rp3beta.js';
export { ItemKnnRecommender } from './itemknn.js';
export {
  BlendRecommender,
  addZScored,
  blendOf,
  type BlendComponent,
  type BlendPart,
  type BlendParams,
  type BlendableName,
} from './blend.js';
export { PopularityRecommender } from './popularity.js';
export { RecencyWeighted, newestFirst, weighByRecency, withRecency } from './recency.js';

export const MODEL_NAMES: readonly ModelName[] = [
  'popularity',
  'itemknn',
  'als',
  'hybrid',
  'ease',
  'rp3beta',
];

/** Fits model `name` with `params`; rejects on invalid params or input. */
export async function fitRecommender<N extends ModelName>(
  name: N,
  input: TrainingInput,
  params: ModelParamsByName[N],
  options: FitOptions = {},
): Promise<Recommender> {
  validateParams(name, params);
  // Recency changes how a profile is read, not what is fitted (`recency.ts`).
  const model = await fitUnweighted(name, input, params, options);
  return name === 'blend' ? model : withRecency(model, (params as ProfileWeighting).recency);
}

async function fitUnweighted<N extends ModelName>(
  name: N,
  input: TrainingInput,
  params: ModelParamsByName[N],
  options: FitOptions,
): Promise<Recommender> {
  switch (name) {
    case 'popularity':
      return fitPopularity(input, params as ModelParamsByName['popularity'], options);
    case 'itemknn':
      return fitItemKnn(input, params as ModelParamsByName['itemknn'], options);
    case 'als':
      return fitAls(input, params as ModelParamsByName['als'], options);
    case 'hybrid':
      return fitHybrid(input, params as ModelParamsByName['hybrid'], options);
    case 'ease':
      return fitEase(input, params as ModelParamsByName['ease'], options);
    case 'rp3beta':
      return fitRp3beta(input, params as ModelParamsByName['rp3beta'], options);
    case 'blend':
      // Not in MODEL_NAMES: a blend is built from the others (selection in `evaluation/auto.ts`).
      return fitBlend(
        input,
        params as ModelParamsByName['blend'],
        { fit: fitRecommender, load: loadRecommender },
        options,
      );
    default:
      throw new RangeError(`unknown model '${String(name)}'`);
  }
}
