/**
 * Diversity and freshness on MovieLens 100K under `../shared/reference/PROTOCOL.md`: ndcg@20 and
 * intra-list diversity (mean pairwise genre dissimilarity, 1 − Jaccard over `u.item` genres) of ALS top-20
 * lists re-ranked by the serving stages (`rules-score`, `diversity`, `truncate`) at diversity strength
 * 0, 0.3, 0.6, with the freshness boost off and on (0.5; item age from the release date in `u.item`,
 * "now" = the train split's last interaction), and per-category caps (`max_per_category` 2, 4, 6, 8, without
 * MMR; a movie counts toward each of its genres).
 *
 *   node --import tsx bench/diversity.ts [path/to/ml-100k]
 *
 * stdout: one JSON line per setting. Nothing else.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CatalogIndex, type Item } from '../src/catalog/index.js';
import {
  MetricsAccumulator,
  prepareDataset,
  readInteractions,
  trainingInput,
} from '../src/evaluation/index.js';
import { defaultParams, fitRecommender, topK, type UserProfile } from '../src/models/index.js';
import { compileRules, intraListDiversity } from '../src/recommendations/index.js';
import { diversityStage } from '../src/recommendations/diversity.js';
import { ruleScore, truncate, candidatePoolSize } from '../src/recommendations/rules-stage.js';
import type { Candidate, PipelineContext, RecommendationRequest } from '../src/recommendations/types.js';

const dir = process.argv[2] ?? fileURLToPath(new URL('../../shared/data/ml-100k/', import.meta.url));
const K = 20;

const dataset = await prepareDataset(readInteractions(`${dir}/u.data`, 'ml100k'));
const input = trainingInput(dataset.train);
const now = input.now ?? Date.now();

// u.item: id|title|release date|video release date|url|19 genre flags (u.genre order).
const genreNames = readFileSync(`${dir}/u.genre`, 'latin1')
  .split('\n')
  .filter((line) => line.includes('|'))
  .map((line) => line.split('|')[0]!);
const items = new Map<string, Item>();
for (const line of readFileSync(`${dir}/u.item`, 'latin1').split('\n')) {
  const fields = line.split('|');
  if (fields.length < 5 + genreNames.length) continue;
  const flags = fields.slice(5, 5 + genreNames.length);
  const released = Date.parse(fields[2]!);
  items.set(fields[0]!, {
    id: fields[0]!,
    categories: genreNames.filter((_, g) => flags[g] === '1'),
    tags: [],
    price: null,
    available: true,
    createdAt: Number.isFinite(released) ? released : 0,
    expiresAt: null,
    attributes: {},
    updatedAt: 0,
  });
}
const catalog = new CatalogIndex(items.values());

// ALS at the protocol's fixed size with the α and λ validation tuning picks in bench/quality.ts.
const model = await fitRecommender('als', input, {
  ...defaultParams.als,
  factors: 64,
  iterations: 15,
  regularization: 10,
  alpha: 1,
});

const { matrix } = input;
const { indptr: heldPtr, items: heldItems } = dataset.test.rows;
const scores = new Float32Array(matrix.cols);
const exclude = new Uint8Array(matrix.cols);

/** Each held-out user's candidate pool, scored once and shared by every setting. */
const pools: { readonly pool: Candidate[]; readonly held: Int32Array }[] = [];
const request0: RecommendationRequest = {
  requestId: 'bench',
  userId: 'u',
  n: K,
  excludeSeen: true,
  filter: null,
  now,
};
const poolSize = candidatePoolSize(request0);
for (let user = 0; user < matrix.rows; user++) {
  const held = heldItems.subarray(heldPtr[user]!, heldPtr[user + 1]!);
  if (held.length === 0) continue;
  const start = matrix.indptr[user]!;
  const end = matrix.indptr[user + 1]!;
  const profile: UserProfile = {
    userIndex: user,
    fresh: false,
    items: matrix.indices.subarray(start, end),
    weights: matrix.data.subarray(start, end),
  };
  model.score(profile, scores);
  for (let j = start; j < end; j++) exclude[matrix.indices[j]!] = 1;
  const pool = topK(scores, poolSize, exclude).map(({ index, score }) => ({
    itemId: dataset.itemIds[index]!,
    index,
    score,
    source: model,
  }));
  for (let j = start; j < end; j++) exclude[matrix.indices[j]!] = 0;
  pools.push({ pool, held });
}

const indexOf = new Map(dataset.itemIds.map((id, index) => [id, index]));
// One unmeasured pass, so the re-rank timings below are of compiled code rather than of the JIT warming up.
{
  const request: RecommendationRequest = {
    ...request0,
    rules: compileRules({ diversity: 0.3, freshness: 0.5, max_per_category: 4 }),
  };
  for (const { pool } of pools) {
    const context = { request, catalog, candidates: pool.slice() } as unknown as PipelineContext;
    ruleScore.run(context);
    diversityStage.run(context);
  }
}
/** One setting over every held-out user's pool: one JSON line. */
function measure(spec: {
  readonly diversity: number;
  readonly freshness: number;
  readonly maxPerCategory: number;
}) {
  const rules = compileRules({
    diversity: spec.diversity,
    freshness: spec.freshness,
    max_per_category: spec.maxPerCategory,
  });
  const request: RecommendationRequest = { ...request0, rules };
  const metrics = new MetricsAccumulator(matrix.cols, K);
  let ild = 0;
  let sameGenreRepeats = 0;
  let largestGenreCount = 0;
  let rerankMs = 0;
  for (const { pool, held } of pools) {
    const context = { request, catalog, candidates: pool.slice() } as unknown as PipelineContext;
    const started = performance.now();
    ruleScore.run(context);
    diversityStage.run(context);
    truncate.run(context);
    rerankMs += performance.now() - started;
    const list = context.candidates.map((c) => catalog.get(c.itemId)!);
    metrics.add(
      Int32Array.from(context.candidates, (c) => indexOf.get(c.itemId)!),
      held,
    );
    ild += intraListDiversity(list);
    const first = new Map<string, number>();
    const every = new Map<string, number>();
    for (const item of list) {
      const genre = item.categories[0] ?? 'none';
      first.set(genre, (first.get(genre) ?? 0) + 1);
      for (const g of new Set(item.categories)) every.set(g, (every.get(g) ?? 0) + 1);
    }
    sameGenreRepeats += Math.max(...first.values());
    largestGenreCount += Math.max(0, ...every.values());
  }
  const result = metrics.result();
  process.stdout.write(
    `${JSON.stringify({
      bench: 'diversity-ml100k',
      model: 'als',
      diversity: spec.diversity,
      freshness: spec.freshness,
      max_per_category: spec.maxPerCategory,
      [`ndcg@${K}`]: Number(result.ndcg.toFixed(4)),
      [`recall@${K}`]: Number(result.recall.toFixed(4)),
      [`coverage@${K}`]: Number(result.coverage.toFixed(4)),
      [`ild@${K}`]: Number((ild / pools.length).toFixed(4)),
      max_same_first_genre: Number((sameGenreRepeats / pools.length).toFixed(2)),
      // Mean over lists of the largest number of items sharing any one genre (every genre of an item).
      max_genre_count: Number((largestGenreCount / pools.length).toFixed(2)),
      rerank_ms_per_list: Number((rerankMs / pools.length).toFixed(4)),
      users: result.users,
      pool: poolSize,
    })}\n`,
  );
}

for (const freshness of [0, 0.5]) {
  for (const diversity of [0, 0.3, 0.6]) measure({ diversity, freshness, maxPerCategory: 0 });
}
// Caps instead of MMR. With 19 genres and many multi-genre movies, a tight cap can exhaust the 70-candidate
// pool; the list is then filled from the best remaining candidates (see `diversify`).
for (const maxPerCategory of [2, 4, 6, 8]) measure({ diversity: 0, freshness: 0, maxPerCategory });
