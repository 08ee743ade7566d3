/** Customer segments: k-means on the numeric columns of a customer table. */
export {
  chooseK,
  kmeans,
  KMEANS_DEFAULTS,
  silhouetteScore,
  type ChooseKOptions,
  type KChoice,
  type KMeansOptions,
  type KMeansResult,
  type KScore,
} from './kmeans.js';
export { numericMatrix, standardizeColumns, type NumericMatrix, type NumericMatrixOptions } from './table.js';
