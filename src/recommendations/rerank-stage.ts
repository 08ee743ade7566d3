import { topK } from '../models/index.js';
import { DEFAULT_RERANK_TOP } from '../ranking/reranker.js';
import type { Candidate, PipelineContext, Stage } from './types.js';

/**
 * The re-ranking stage: when the bundle carries a re-ranker (its validation beat the generator's order),
 * the primary model's top `DEFAULT_RERANK_TOP` allowed items are re-ordered by it, and the model's part of
 * the pool becomes the re-ranker's top items. Runs after selection and before the rules, diversity and
 * pins, so those still hold over its order. A candidate keeps the model's score (what the impression log
 * records, and what the next re-ranker learns the generator's order from); `reranked` marks that the order
 * is the re-ranker's. Other models (an experiment's variant, popularity for the holdout) are not re-ranked:
 * the trees learnt the primary model's scores.
 */

/** Buffers reused by every request (the pipeline runs synchronously; nothing keeps them past a request). */
const scratch = { items: new Int32Array(0), scores: new Float64Array(0), order: new Int32Array(0) };

export function rerankStage(top: number = DEFAULT_RERANK_TOP): Stage {
  return {
    name: 'rerank',
    run(context: PipelineContext) {
      const { bundle, model, scores, excluded, profile, request } = context;
      const reranker = bundle?.reranker ?? null;
      if (reranker === null || !bundle || !model || !scores || !excluded || context.fallback !== null) return;
      if (model !== bundle.model(bundle.info.primary)) return;
      const fromModel = context.candidates.filter((c) => c.source === model && c.rule === undefined);
      if (fromModel.length === 0) return;
      const best = topK(scores, Math.max(top, fromModel.length), excluded);
      const n = best.length;
      if (scratch.items.length < n) {
        scratch.items = new Int32Array(n);
        scratch.scores = new Float64Array(n);
        scratch.order = new Int32Array(n);
      }
      const items = scratch.items.subarray(0, n);
      const genScores = scratch.scores.subarray(0, n);
      for (let j = 0; j < n; j++) {
        items[j] = best[j]!.index;
        genScores[j] = best[j]!.score;
      }
      const ranked = reranker.score(profile.model, items, genScores, request.now);
      const order = scratch.order.subarray(0, n);
      for (let j = 0; j < n; j++) order[j] = j;
      // Descending; ties keep the generator's order.
      order.sort((a, b) => {
        const x = ranked[a]!;
        const y = ranked[b]!;
        return y > x ? 1 : y < x ? -1 : a - b;
      });
      const keep = fromModel.length;
      const out: Candidate[] = new Array<Candidate>();
      for (let r = 0; r < keep; r++) {
        const j = order[r]!;
        const index = items[j]!;
        out.push({
          itemId: bundle.itemIds[index]!,
          index,
          score: genScores[j]!,
          source: model,
          reranked: true,
        });
      }
      // Backfill and rule candidates follow in their own order.
      for (const c of context.candidates) if (!(c.source === model && c.rule === undefined)) out.push(c);
      context.candidates = out;
    },
  };
}
