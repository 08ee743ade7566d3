import { describe, expect, it } from 'vitest';
import { CatalogIndex, type Item } from '../catalog/index.js';
import { N_RERANK_FEATURES, RERANK_FEATURES } from '../ranking/rerank-features.js';
import { Reranker } from '../ranking/reranker.js';
import { ModelBundle } from '../training/bundle.js';
import { fixedBundle, profileOf, stumpReranker } from '../../test/fixed-scores.js';
import { runPipeline } from './pipeline.js';
import { compileRules } from './rules.js';
import { defaultStages } from './stages.js';

const NOW = 1_700_000_000_000;
const N_ITEMS = 40;
const itemIds = Array.from({ length: N_ITEMS }, (_, i) => `i${i}`);
const items: Item[] = itemIds.map((id, i) => ({
  id,
  categories: [i % 2 === 0 ? 'even' : 'odd'],
  tags: [],
  price: null,
  available: true,
  createdAt: NOW - 100 * 86_400_000,
  expiresAt: null,
  attributes: {},
  updatedAt: NOW,
}));
// The model ranks i0 first, i39 last.
const scores = itemIds.map((_, i) => 1 - i / N_ITEMS);

/**
 * The model's bundle with a one-stump re-ranker (`stumpReranker`): by default on `item_log_count` (+1 for
 * items nobody took), with counts for items 0..29 only, so it puts i30..i39 (the model's last) first.
 */
function stumpBundle(
  feature: (typeof RERANK_FEATURES)[number] = 'item_log_count',
  nFeatures: number = N_RERANK_FEATURES,
  depth?: number,
): ModelBundle {
  const base = fixedBundle(itemIds, scores, NOW);
  const reranker = stumpReranker(feature, N_ITEMS, {
    nFeatures,
    ...(depth === undefined ? {} : { depth }),
    snapshot: (snapshot) => {
      for (let i = 0; i < 30; i++) snapshot.itemCount[i] = 5;
      snapshot.now = NOW;
    },
  });
  return new ModelBundle(base.info, base.userIds, base.itemIds, base.models, reranker);
}

const request = (rules?: ReturnType<typeof compileRules>, shown?: ReadonlyMap<string, number>) => ({
  requestId: 'r',
  userId: 'u',
  n: 5,
  excludeSeen: true,
  filter: null,
  now: NOW,
  ...(rules ? { rules } : {}),
  ...(shown ? { shown } : {}),
});

describe('re-rank stage', () => {
  const catalog = new CatalogIndex(items);

  it('orders the model’s candidates by the re-ranker, keeps the model’s scores and says so', () => {
    const bundle = stumpBundle();
    const result = runPipeline(defaultStages, request(), profileOf(bundle), bundle, catalog);
    expect(result.items.map((i) => i.itemId)).toEqual(['i30', 'i31', 'i32', 'i33', 'i34']);
    expect(result.items[0]!.score).toBeCloseTo(scores[30]!, 6);
    expect(result.items[0]!.reason.text).toMatch(/ordered by the re-ranker/);
    // The same bundle without a re-ranker serves the model's order.
    const plain = fixedBundle(itemIds, scores, NOW);
    const served = runPipeline(defaultStages, request(), profileOf(plain), plain, catalog);
    expect(served.items.map((i) => i.itemId)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
  });

  it('re-orders only as deep as the lists the trees learnt from, the rest in the model’s order', () => {
    // Learnt from lists of 32: i30 and i31 are within reach, i32..i39 are not.
    const deep = stumpBundle('item_log_count', N_RERANK_FEATURES, 32);
    const result = runPipeline(defaultStages, request(), profileOf(deep), deep, catalog);
    expect(result.items.map((i) => i.itemId)).toEqual(['i30', 'i31', 'i0', 'i1', 'i2']);
    // Learnt from lists of three, asked for five: the top three re-ordered (all tie: the model's order
    // stands), then the model's fourth and fifth, which the re-ranker did not order.
    const shallow = stumpBundle('item_log_count', N_RERANK_FEATURES, 3);
    const served = runPipeline(defaultStages, request(), profileOf(shallow), shallow, catalog);
    expect(served.items.map((i) => i.itemId)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
    expect(served.items.map((i) => /ordered by the re-ranker/.test(i.reason.text))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('leaves rules and pins in force after it', () => {
    const bundle = stumpBundle();
    const rules = compileRules({ pin: ['i5:1'], exclude: ['i31'], max_per_category: 2 });
    const result = runPipeline(defaultStages, request(rules), profileOf(bundle), bundle, catalog);
    const ids = result.items.map((i) => i.itemId);
    expect(ids[1]).toBe('i5');
    expect(ids).not.toContain('i31');
    const evens = ids.filter((id) => Number(id.slice(1)) % 2 === 0 && id !== 'i5');
    expect(evens.length).toBeLessThanOrEqual(2);
    expect(ids[0]).toBe('i30');
  });

  it('reads what the user was shown lately from the request, by item id', () => {
    const bundle = stumpBundle('user_item_shown');
    const shown = new Map([
      ['i0', 2],
      ['i1', 1],
      ['i3', 1],
    ]);
    const result = runPipeline(defaultStages, request(undefined, shown), profileOf(bundle), bundle, catalog);
    // Shown items drop below every unshown one; ties keep the model's order.
    expect(result.items.map((i) => i.itemId)).toEqual(['i2', 'i4', 'i5', 'i6', 'i7']);
    // Without it, nothing counts as shown: the model's order.
    const plain = runPipeline(defaultStages, request(), profileOf(bundle), bundle, catalog);
    expect(plain.items.map((i) => i.itemId)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
  });

  it('serves trees an earlier build trained on fewer features, and stores and reads them back', () => {
    const bundle = stumpBundle('item_log_count', N_RERANK_FEATURES - 1);
    const reranker = bundle.reranker!;
    expect(reranker.features).toEqual(RERANK_FEATURES.slice(0, N_RERANK_FEATURES - 1));
    const result = runPipeline(defaultStages, request(), profileOf(bundle), bundle, catalog);
    expect(result.items.map((i) => i.itemId)).toEqual(['i30', 'i31', 'i32', 'i33', 'i34']);
    const read = Reranker.fromJson(reranker.toJson(), N_ITEMS);
    expect(read.features).toEqual(reranker.features);
    const user = { items: new Int32Array(0) };
    const candidates = Int32Array.from({ length: N_ITEMS }, (_, i) => i);
    expect(read.score(user, candidates, scores, NOW)).toEqual(reranker.score(user, candidates, scores, NOW));
    // Features that are not a leading part of this build's are refused.
    const json = reranker.toJson() as Record<string, unknown>;
    expect(() => Reranker.fromJson({ ...json, features: ['gen_rank'] } as never, N_ITEMS)).toThrow(
      /features are not the ones/,
    );
  });
});
