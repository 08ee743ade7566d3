import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Engine, engineConfig } from '../src/engine/index.js';
import { defaultSessionConfig } from '../src/recommendations/index.js';
import {
  event,
  get,
  ids,
  ingest,
  loadShop,
  openTestApp,
  plantedShop,
  recommendOk,
  train,
  type RecommendationsReply,
  type TestApp,
} from './helpers.js';

const shop = plantedShop();
let t: TestApp;
/** A second engine on the same store with the session stage off: the trained model alone. */
let modelOnly: Engine;

beforeAll(async () => {
  t = await openTestApp();
  await loadShop(t.app, shop);
  await train(t.app);
});
afterAll(async () => {
  await modelOnly?.close();
  await t?.close();
});

const minutesAgo = (minutes: number): number => Date.now() - minutes * 60_000;

function view(userId: string, itemId: string, at: number, sessionId?: string) {
  return event(userId, itemId, 'product_viewed', {
    timestamp: at,
    ...(sessionId === undefined ? {} : { context: { session_id: sessionId } }),
  });
}

interface ExplainedScore {
  readonly score: number | null;
  readonly session: { readonly added: number; readonly item_id: string; readonly action: string } | null;
  readonly reason: string;
}

/** The explain endpoint's score and session part for each item of a list. */
async function explained(userId: string, reply: RecommendationsReply): Promise<ExplainedScore[]> {
  const out: ExplainedScore[] = [];
  for (const item of reply.items) {
    const got = await get<ExplainedScore>(
      t.app,
      `/v1/recommendations/explain?user_id=${userId}&item_id=${item.item_id}`,
    );
    expect(got.status, got.text).toBe(200);
    out.push(got.body);
  }
  return out;
}

/** Position of each item of the list that starts with `prefix` (0 = top); absent items count as n. */
function ranksOf(reply: RecommendationsReply, prefix: string): number[] {
  return reply.items.flatMap((item, rank) => (item.item_id.startsWith(prefix) ? [rank] : []));
}

async function withoutSession(userId: string, n: number): Promise<RecommendationsReply['items']> {
  modelOnly ??= await Engine.open(
    engineConfig(`sqlite:${t.dir}`, {
      retrainIntervalMs: null,
      session: { ...defaultSessionConfig, weight: 0 },
    }),
  );
  const result = await modelOnly.recommend({ userId, n, excludeSeen: true, filter: null });
  return result.items.map((item) => ({
    item_id: item.itemId,
    score: item.score,
    reason: item.reason.text,
    reason_kind: item.reason.kind,
  }));
}

describe('session-aware real time', () => {
  it('three group-B views in the current session lift group-B items above a group-A profile', async () => {
    const userId = shop.groupA[3]!;
    const before = await recommendOk(t.app, `user_id=${userId}&n=5`);
    expect(ranksOf(before, 'b-'), ids(before.items).join(',')).toEqual([]);

    const justViewed = ['b-02', 'b-05', 'b-09'];
    await ingest(
      t.app,
      justViewed.map((itemId, k) => view(userId, itemId, minutesAgo(3 - k), 'visit-now')),
    );
    const withStage = await recommendOk(t.app, `user_id=${userId}&n=5`);
    const alone = await withoutSession(userId, 5);

    const bWith = withStage.items.filter((item) => item.item_id.startsWith('b-')).length;
    const bAlone = alone.filter((item) => item.item_id.startsWith('b-')).length;
    expect(bWith, `with: ${ids(withStage.items).join(',')}; alone: ${ids(alone).join(',')}`).toBeGreaterThan(
      bAlone,
    );
    const bestB = (items: readonly { readonly item_id: string }[]): number => {
      const rank = items.findIndex((item) => item.item_id.startsWith('b-'));
      return rank < 0 ? items.length : rank;
    };
    expect(bestB(withStage.items)).toBeLessThan(bestB(alone));
    for (const id of justViewed) expect(ids(withStage.items)).not.toContain(id);

    // The session put the group-B items there, and their reasons name what was just viewed.
    const boosted = withStage.items.filter((item) => item.item_id.startsWith('b-'));
    for (const item of boosted) {
      expect(justViewed).toContain(item.reason_item_id);
      expect(item.reason).toBe(`Because you just viewed ${item.reason_item_id}`);
    }
  });

  it('session_weight and session_items override the configured session for one request', async () => {
    const userId = shop.groupA[5]!;
    const justViewed = ['b-01', 'b-07', 'b-11'];
    await ingest(
      t.app,
      justViewed.map((itemId, k) => view(userId, itemId, minutesAgo(3 - k), 'visit-override')),
    );
    const configured = await recommendOk(t.app, `user_id=${userId}&n=5`);
    const off = await recommendOk(t.app, `user_id=${userId}&n=5&session_weight=0`);
    const alone = await withoutSession(userId, 5);
    // Weight 0: exactly the model's list, as with the session stage configured off.
    expect(ids(off.items)).toEqual(ids(alone));
    expect(off.items.filter((item) => item.reason.startsWith('Because you just'))).toEqual([]);
    expect(ids(configured.items)).not.toEqual(ids(off.items));
    // A heavier session puts at least as many group-B items in the list.
    const heavy = await recommendOk(t.app, `user_id=${userId}&n=5&session_weight=5`);
    const bCount = (reply: RecommendationsReply) =>
      reply.items.filter((item) => item.item_id.startsWith('b-')).length;
    expect(bCount(heavy)).toBeGreaterThanOrEqual(bCount(configured));
    expect(bCount(heavy)).toBeGreaterThan(bCount(off));
    // One session item: only the newest view (b-11) can be the reason.
    const one = await recommendOk(t.app, `user_id=${userId}&n=5&session_items=1`);
    const reasons = one.items.filter((item) => item.reason.startsWith('Because you just'));
    expect(reasons.length).toBeGreaterThan(0);
    for (const item of reasons) expect(item.reason_item_id).toBe('b-11');
  });

  it('events from an older session do not count as session events', async () => {
    const userId = shop.groupA[8]!;
    // Earlier today, in another visit: three group-B views.
    await ingest(t.app, [
      view(userId, 'b-01', minutesAgo(20), 'visit-earlier'),
      view(userId, 'b-04', minutesAgo(19), 'visit-earlier'),
      view(userId, 'b-07', minutesAgo(18), 'visit-earlier'),
    ]);
    // Now a new visit starts with one group-A view.
    await ingest(t.app, [view(userId, 'a-13', minutesAgo(1), 'visit-now')]);

    const reply = await recommendOk(t.app, `user_id=${userId}&n=5`);
    const parts = (await explained(userId, reply)).flatMap((e) => (e.session === null ? [] : [e.session]));
    // The current visit shifts the list, and only its view does.
    expect(parts.length).toBeGreaterThan(0);
    for (const part of parts) expect(part.item_id).toBe('a-13');
    expect(reply.items.some((item) => item.reason.includes('b-01') || item.reason.includes('b-04'))).toBe(
      false,
    );
  });

  it('a session whose newest event is over 30 minutes old no longer shifts the list', async () => {
    const userId = shop.groupA[15]!;
    await ingest(
      t.app,
      ['b-00', 'b-06', 'b-10'].map((itemId, k) => view(userId, itemId, minutesAgo(120 - k), 'visit-over')),
    );
    const reply = await recommendOk(t.app, `user_id=${userId}&n=5`);
    expect(reply.items.filter((item) => item.reason.startsWith('Because you just'))).toEqual([]);
    // Exactly the model's own list, as with the session stage off.
    expect(reply.items.map((i) => [i.item_id, i.score])).toEqual(
      (await withoutSession(userId, 5)).map((i) => [i.item_id, i.score]),
    );
    for (const e of await explained(userId, reply)) expect(e.session).toBeNull();
  });

  it('without session ids, events more than 30 minutes before the newest one are another session', async () => {
    const userId = shop.groupA[12]!;
    await ingest(t.app, [
      view(userId, 'b-03', minutesAgo(75)),
      view(userId, 'b-08', minutesAgo(74)),
      view(userId, 'a-01', minutesAgo(2)),
    ]);
    const reply = await recommendOk(t.app, `user_id=${userId}&n=5`);
    const parts = (await explained(userId, reply)).flatMap((e) => (e.session === null ? [] : [e.session]));
    expect(parts.length).toBeGreaterThan(0);
    for (const part of parts) expect(part.item_id).toBe('a-01');
    for (const item of reply.items.filter((i) => i.reason.startsWith('Because you just'))) {
      expect(item.reason_item_id).toBe('a-01');
    }
  });

  it('explains each listed item with the score the list reports and the reason it shows, session included', async () => {
    const userId = shop.groupA[19]!;
    await ingest(
      t.app,
      ['b-02', 'b-05'].map((itemId, k) => view(userId, itemId, minutesAgo(2 - k), 'visit-explain')),
    );
    const reply = await recommendOk(t.app, `user_id=${userId}&n=8`);
    const explanations = await explained(userId, reply);
    expect(explanations.filter((e) => e.session !== null).length).toBeGreaterThan(0);
    reply.items.forEach((item, k) => {
      const e = explanations[k]!;
      expect(e.score, item.item_id).toBeCloseTo(item.score, 5);
      expect(e.reason, item.item_id).toBe(item.reason);
      if (e.session !== null) expect(['b-02', 'b-05']).toContain(e.session.item_id);
    });
  });
});
