import { describe, expect, it } from 'vitest';

import { CatalogIndex } from '../catalog/index.js';
import { defaultFeedbackConfig } from '../events/index.js';
import { csrFromCoo, type ModelName, type Recommender } from '../models/index.js';
import { fitItemKnn } from '../models/itemknn.js';
import { ModelBundle } from '../training/index.js';
import { buildProfile, type ServingProfile } from './profile.js';
import { HistoryTables, UserHistory, type HistoryEntry } from './user-history.js';
import {
  currentSession,
  defaultSessionConfig,
  sessionItems,
  sessionReasonText,
  type SessionConfig,
} from './session.js';
import type { PipelineContext } from './types.js';

const MINUTE = 60_000;
const NOW = Date.UTC(2026, 10, 1, 12);

function entry(
  itemId: string,
  minutesAgo: number,
  name = 'product_viewed',
  sessionId?: string,
): HistoryEntry {
  const at = NOW - minutesAgo * MINUTE;
  return { name, itemId, timestamp: at, ...(sessionId === undefined ? {} : { sessionId }) };
}

const config: SessionConfig = { ...defaultSessionConfig, maxItems: 5, windowMs: 30 * MINUTE };
const session = (history: HistoryEntry[], rejected: ReadonlySet<string> = new Set(), cfg = config) =>
  currentSession(history, null, defaultFeedbackConfig, cfg, (itemId) => rejected.has(itemId));

describe('currentSession', () => {
  it('takes the events sharing the newest event’s session id, newest first, each item once', () => {
    const history = [
      entry('c', 1, 'product_viewed', 's2'),
      entry('b', 2, 'added_to_cart', 's2'),
      entry('b', 3, 'product_viewed', 's2'),
      entry('a', 4, 'product_viewed', 's2'),
      entry('old-1', 5, 'product_viewed', 's1'),
      entry('old-2', 6, 'purchased', 's1'),
    ];
    const found = session(history);
    expect(found?.id).toBe('s2');
    expect(found?.items.map((item) => item.itemId)).toEqual(['c', 'b', 'a']);
    // The strongest event on an item names it in the reason.
    expect(found?.items[1]?.action).toBe('added_to_cart');
    expect(found?.lastAt).toBe(NOW - MINUTE);
  });

  it('an older session does not count even when it is recent', () => {
    const history = [
      entry('new', 0, 'product_viewed', 'visit-2'),
      entry('old', 1, 'product_viewed', 'visit-1'),
    ];
    expect(session(history)?.items.map((item) => item.itemId)).toEqual(['new']);
  });

  it('without session ids, events within the window before the newest one form the session', () => {
    const history = [entry('x', 10), entry('y', 25), entry('z', 39), entry('too-old', 41)];
    expect(session(history)?.items.map((item) => item.itemId)).toEqual(['x', 'y', 'z']);
    expect(session(history)?.id).toBeNull();
  });

  it('leaves out turned-down items and exposures; caps the item count', () => {
    const history: HistoryEntry[] = [
      entry('dismissed', 0, 'dismissed'),
      entry('impression', 0, 'impression'),
      entry('viewed-then-dismissed', 1),
      ...['a', 'b', 'c', 'd', 'e', 'f'].map((id, k) => entry(id, 2 + k)),
    ];
    const found = session(history, new Set(['dismissed', 'viewed-then-dismissed']));
    expect(found?.items.map((item) => item.itemId)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('is off with weight 0 and empty without positive events', () => {
    expect(session([entry('a', 0)], new Set(), { ...config, weight: 0 })).toBeNull();
    expect(session([entry('a', 0, 'dismissed')], new Set(['a']))).toBeNull();
    expect(session([])).toBeNull();
  });
});

describe('sessionReasonText', () => {
  it('says what the user just did', () => {
    expect(sessionReasonText('product_viewed', 'p1')).toBe('Because you just viewed p1');
    expect(sessionReasonText('Product Added', 'p1')).toBe('Because you just added p1 to your cart');
    expect(sessionReasonText('Product Added to Wishlist', 'p1')).toBe('Because you just saved p1');
    expect(sessionReasonText('added_to_cart', 'p1')).toBe('Because you just added p1 to your cart');
    expect(sessionReasonText('purchased', 'p1')).toBe('Because you just bought p1');
  });
});

describe('the session stage', () => {
  // Items 0–2 always go together, as do 3–5: each item's neighbours are its own trio.
  const users = 6;
  const rowIdx: number[] = [];
  const colIdx: number[] = [];
  for (let u = 0; u < users; u++) {
    for (const item of u < 3 ? [0, 1, 2] : [3, 4, 5]) {
      rowIdx.push(u);
      colIdx.push(item);
    }
  }
  const { matrix } = csrFromCoo({ rows: users, cols: 6, rowIdx, colIdx, values: rowIdx.map(() => 1) });
  const knn = fitItemKnn({ matrix }, { neighbors: 5, shrinkage: 0 });
  const itemIds = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5'];
  const info = {
    version: 1,
    trainedAt: NOW,
    position: 0,
    cutoff: NOW,
    primary: 'itemknn' as const,
    eventsRead: 0,
    users,
    items: 6,
    interactions: rowIdx.length,
    fitSeconds: {},
  };
  const models = new Map<ModelName, Recommender>([['itemknn', knn]]);
  const bundle = new ModelBundle(
    info,
    Array.from({ length: users }, (_, u) => `u${u}`),
    itemIds,
    models,
  );
  const catalog = new CatalogIndex();

  function run(history: HistoryEntry[], modelScores: number[], now = NOW, excluded?: number[]) {
    const profile: ServingProfile = {
      ...buildProfile('u0', UserHistory.empty(new HistoryTables()), bundle, {
        feedback: defaultFeedbackConfig,
        session: config,
      }),
      session: currentSession(history, bundle, defaultFeedbackConfig, config, () => false),
    };
    // Only what the stage reads; the pipeline's other fields belong to other stages.
    const context = {
      request: { requestId: 'r', userId: 'u0', n: 3, excludeSeen: true, filter: null, now },
      profile,
      bundle,
      catalog,
      model: knn,
      fallback: null,
      scores: Float32Array.from(modelScores),
      excluded: excluded ? Uint8Array.from(excluded) : null,
      candidates: [],
      items: [],
    } as unknown as PipelineContext;
    sessionItems.run(context);
    return context;
  }

  it('adds weight × the model’s top score to the strongest session neighbour, keeping the model’s units', () => {
    const context = run([entry('i3', 1, 'product_viewed', 's')], [10, 8, 6, 0, 0, 0]);
    const scores = Array.from(context.scores!);
    // i4 and i5 are i3's neighbours with equal similarity: each gains weight × 10.
    expect(scores[4]).toBeCloseTo(config.weight * 10, 5);
    expect(scores[5]).toBeCloseTo(config.weight * 10, 5);
    expect(scores.slice(0, 3)).toEqual([10, 8, 6]);
    expect(context.session?.contributions.get(4)?.item.itemId).toBe('i3');
    expect(context.session?.contributions.has(0)).toBe(false);
  });

  it('newer session items count more than older ones', () => {
    const context = run(
      [entry('i3', 1, 'product_viewed', 's'), entry('i0', 2, 'product_viewed', 's')],
      [0, 0, 0, 0, 0, 0],
    );
    const scores = Array.from(context.scores!);
    expect(scores[4]!).toBeGreaterThan(scores[1]!);
    expect(scores[1]!).toBeGreaterThan(0);
  });

  it('scales against the items this request may show, and does nothing once the session is over', () => {
    const scaled = run(
      [entry('i3', 1, 'product_viewed', 's')],
      [100, 8, 6, 0, 0, 0],
      NOW,
      [1, 0, 0, 0, 0, 0],
    );
    expect(scaled.scores![4]).toBeCloseTo(config.weight * 8, 5);
    const over = run([entry('i3', 31, 'product_viewed', 's')], [10, 8, 6, 0, 0, 0]);
    expect(Array.from(over.scores!)).toEqual([10, 8, 6, 0, 0, 0]);
    expect(over.session).toBeUndefined();
  });
});
