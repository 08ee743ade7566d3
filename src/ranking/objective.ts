import { trainGbdt, type GbdtModel, type GbdtParams } from '../models/tabular/index.js';

/**
 * How the re-ranker's trees are trained, behind one small interface so the loss is swappable: pointwise
 * (binary log loss: is this candidate among the user's next items?) or listwise (LambdaRank over each
 * user's candidate list, when `models/tabular` offers it). Both see the same rows grouped by list.
 */
export type RankObjectiveName = 'pointwise' | 'lambdarank';

/** Rows grouped into lists (queries): list q is the next `groups[q]` rows. */
export interface RankingRows {
  /** Row-major rows × `nFeatures`, NaN = missing. */
  readonly features: Float64Array;
  /** Relevance per row (1: the candidate is among the user's held-out items). */
  readonly labels: Float64Array;
  readonly groups: Int32Array;
  readonly nRows: number;
  readonly nFeatures: number;
}

/** Tree parameters the re-ranker tunes; the rest are `trainGbdt`'s defaults. */
export type RankerTreeParams = Pick<
  GbdtParams,
  'nTrees' | 'learningRate' | 'maxDepth' | 'minChildWeight' | 'lambda' | 'earlyStoppingRounds'
> & {
  /** The k of the ndcg@k the listwise objective optimises and stops early on (the evaluation's K). */
  readonly evalAt: number;
  /** LambdaRank: pairs count only when the better-placed row is in the top this many. */
  readonly truncation: number;
};

export interface RankObjective {
  readonly name: RankObjectiveName;
  /** Settings this objective needs other than the shared defaults (a variant tried still overrides them). */
  readonly defaults?: Partial<RankerTreeParams>;
  /** Trains on `train`, stopping early on `valid`'s loss; returns the model cut to its best iteration. */
  fit(train: RankingRows, valid: RankingRows, params: RankerTreeParams): GbdtModel;
}

const pointRows = (rows: RankingRows) => ({
  features: rows.features,
  labels: rows.labels,
  nRows: rows.nRows,
  nFeatures: rows.nFeatures,
});

/** Binary log loss per row: groups are ignored, each candidate is a yes/no question. */
export const pointwise: RankObjective = {
  name: 'pointwise',
  fit(train, valid, params) {
    return trainGbdt(pointRows(train), { ...treeParams(params), objective: 'binary' }, pointRows(valid))
      .model;
  },
};

/**
 * LambdaRank over each user's list (`models/tabular`'s 'rank' objective): pairs of a relevant and an
 * irrelevant candidate, weighted by how much swapping them changes the list's ndcg@evalAt; early stopping
 * on the held-out lists' ndcg@evalAt. Only the order within a list matters, so user-level features serve
 * only through their interactions with item-level ones.
 */
export const lambdarank: RankObjective = {
  name: 'lambdarank',
  // Its hessians, ρ(1 − ρ)·|ΔNDCG| per pair, are far below binary log loss's p(1 − p): a child-weight
  // floor of 1 blocks most splits (MovieLens 100K validation: ndcg@20 0.2812 at 1, 0.2822 at 0.01).
  defaults: { minChildWeight: 0.01 },
  fit(train, valid, params) {
    return trainGbdt(
      { ...pointRows(train), group: train.groups },
      {
        ...treeParams(params),
        objective: 'rank',
        rankEvalAt: params.evalAt,
        rankTruncation: params.truncation,
      },
      { ...pointRows(valid), group: valid.groups },
    ).model;
  },
};

function treeParams(params: RankerTreeParams): Partial<GbdtParams> {
  const { nTrees, learningRate, maxDepth, minChildWeight, lambda, earlyStoppingRounds } = params;
  return { nTrees, learningRate, maxDepth, minChildWeight, lambda, earlyStoppingRounds };
}

/** The objectives this build can train, in the order they are tried. */
export function rankObjectives(): readonly RankObjective[] {
  return [pointwise, lambdarank];
}
