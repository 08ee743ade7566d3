import type { JsonValue } from '../shared/types.js';
import { assertTrainingInput } from './input.js';
import { paramsFromJson, paramsToJson, validateParams } from './params.js';
import { topK } from './topk.js';
import type {
  Evidence,
  Explanation,
  FitOptions,
  ModelArtifact,
  PopularityParams,
  Recommender,
  ScoredIndex,
  TrainingInput,
  UserProfile,
} from './types.js';

const DAY_MS = 86_400_000;

/**
 * Item popularity: the sum of each item's entry weights, each decayed by 0.5^(age / half-life) when a
 * half-life and entry times are given. Without decay, on binary data, this is the item's interaction
 * count: the protocol's `pop` baseline. Entries newer than `now` count fully rather than more than fully.
 */
export function fitPopularity(
  input: TrainingInput,
  params: PopularityParams,
  options: FitOptions = {},
): PopularityRecommender {
  validateParams('popularity', params);
  assertTrainingInput(input);
  const { matrix, times } = input;
  const nnz = matrix.indptr[matrix.rows]!;
  const pop = new Float64Array(matrix.cols);
  if (params.halfLifeDays !== null && times !== undefined && nnz > 0) {
    let now = input.now ?? -Infinity;
    if (input.now === undefined) for (let k = 0; k < nnz; k++) if (times[k]! > now) now = times[k]!;
    const perMs = 1 / (params.halfLifeDays * DAY_MS);
    for (let k = 0; k < nnz; k++) {
      const age = now - times[k]!;
      pop[matrix.indices[k]!]! += matrix.data[k]! * (age > 0 ? Math.pow(0.5, age * perMs) : 1);
    }
  } else {
    for (let k = 0; k < nnz; k++) pop[matrix.indices[k]!]! += matrix.data[k]!;
  }
  options.onProgress?.(1, 1);
  return new PopularityRecommender(params, matrix.rows, Float32Array.from(pop));
}

/** Everyone gets the same scores: the popularity of each item. */
export class PopularityRecommender implements Recommender {
  readonly name = 'popularity' as const;
  readonly params: JsonValue;
  readonly nItems: number;

  constructor(
    hyper: PopularityParams,
    readonly nUsers: number,
    private readonly popularity: Float32Array,
  ) {
    this.params = paramsToJson('popularity', hyper);
    this.nItems = popularity.length;
  }

  static fromArtifact(artifact: ModelArtifact): PopularityRecommender {
    const params = paramsFromJson('popularity', artifact.params);
    const { popularity } = artifact.arrays;
    if (!(popularity instanceof Float32Array) || popularity.length !== artifact.nItems) {
      throw new TypeError('popularity artifact: popularity must be a Float32Array of nItems entries');
    }
    return new PopularityRecommender(params, artifact.nUsers, popularity);
  }

  toArtifact(): ModelArtifact {
    return {
      name: 'popularity',
      params: this.params,
      nUsers: this.nUsers,
      nItems: this.nItems,
      arrays: { popularity: this.popularity },
    };
  }

  score(_profile: UserProfile, out: Float32Array): void {
    out.set(this.popularity);
  }

  /** Popularity knows nothing of item pairs, so the items "similar" to any item are the most popular. */
  similar(item: number, n: number): ScoredIndex[] {
    return topK(this.popularity, n, (j) => j === item);
  }

  evidence(_profile: UserProfile, item: number): Evidence {
    const known = Number.isInteger(item) && item >= 0 && item < this.nItems;
    return { kind: 'popular', popularity: known ? this.popularity[item]! : 0 };
  }

  /** The item's popularity and its rank (0 = most popular): the whole of the evidence this model has. */
  explain(_profile: UserProfile, item: number): Explanation {
    const known = Number.isInteger(item) && item >= 0 && item < this.nItems;
    const popularity = known ? this.popularity[item]! : 0;
    let rank = 0;
    for (let j = 0; j < this.nItems; j++) if (this.popularity[j]! > popularity) rank++;
    return { kind: 'popularity', score: popularity, popularity, rank };
  }
}
