import { topK, type Recommender } from '../models/index.js';
import type { Reranker } from '../ranking/reranker.js';
import { shownByIndex } from '../ranking/rerank-features.js';
import type { ModelBundle } from '../training/index.js';
import type { Candidate, PipelineContext, Stage } from './types.js';

/**
 * The re-ranking stage: when the bundle carries a re-ranker (its validation beat the generator's order),
 * the primary model's top allowed items, as deep as the lists the trees learnt from (`Reranker.depth`: the
 * ten or so shown per list when they learnt from the impression log, the candidate depth otherwise), are
 * re-ordered by it, and the model's part of the pool becomes the re-ranker's top items, then, for a request
 * longer than that depth, the generator's next ones in its order. So serving re-orders what validation
 * judged re-ordering, and no item deeper in the candidates is ranked by trees that never saw one. Runs
 * after selection and before the rules, diversity and pins, so those still hold over its order. A
 * candidate keeps the model's score (what the impression log records, and what the next re-ranker learns
 * the generator's order from); `reranked` marks that the order is the re-ranker's. Other models (an
 * experiment's variant, popularity for the holdout) are not re-ranked: the trees learnt the primary
 * model's scores.
 */

/** Buffers reused by every request (the pipeline runs synchronously; nothing keeps them past a request). */
const scratch = { items: new Int32Array(0), scores: new Float64Array(0), order: new Int32Array(0) };

/** A request the re-ranker re-orders: what it reads is there. */
type Reranking = PipelineContext & {
  readonly bundle: ModelBundle & { readonly reranker: Reranker };
  readonly model: Recommender;
  readonly scores: Float32Array;
  readonly excluded: Uint8Array;
};

/**
 * Whether the re-ranker re-orders this request's candidates: the bundle has one, and the primary model
 * scored. Selection asks, to take the model's best items as deep as the re-ranker reads in one pass.
 */
export function reranks(context: PipelineContext): context is Reranking {
  const { bundle, model } = context;
  return (
    bundle !== null &&
    bundle.reranker !== null &&
    model !== null &&
    context.scores !== null &&
    context.excluded !== null &&
    context.fallback === null &&
    model === bundle.model(bundle.info.primary)
  );
}

export function rerankStage(): Stage {
  return {
    name: 'rerank',
    run(context: PipelineContext) {
      if (!reranks(context)) return;
      const { bundle, model, scores, excluded, profile, request } = context;
      const reranker = bundle.reranker;
      const fromModel = context.candidates.filter((c) => c.source === model && c.rule === undefined);
      if (fromModel.length === 0) return;
      const keep = fromModel.length;
      const wanted = Math.max(reranker.depth, keep);
      // Selection's list when it looked deep enough (a prefix of a longer top-k is the shorter one).
      const best =
        context.modelBest !== undefined && context.modelBest.length >= wanted
          ? context.modelBest
          : topK(scores, wanted, excluded);
      const n = Math.min(best.length, reranker.depth);
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
      const user = {
        items: profile.model.items,
        times: profile.model.times,
        shown: shownByIndex(request.shown, bundle.itemIds),
      };
      const ranked = reranker.score(user, items, genScores, request.now);
      const order = scratch.order.subarray(0, n);
      for (let j = 0; j < n; j++) order[j] = j;
      // Descending; ties keep the generator's order.
      order.sort((a, b) => {
        const x = ranked[a]!;
        const y = ranked[b]!;
        return y > x ? 1 : y < x ? -1 : a - b;
      });
      const out: Candidate[] = new Array<Candidate>();
      for (let r = 0; r < Math.min(keep, n); r++) {
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
      for (let r = n; r < Math.min(keep, best.length); r++) {
        const { index, score } = best[r]!;
        out.push({ itemId: bundle.itemIds[index]!, index, score, source: model });
      }
      // Backfill and rule candidates follow in their own order.
      for (const c of context.candidates) if (!(c.source === model && c.rule === undefined)) out.push(c);
      context.candidates = out;
    },
  };
}
