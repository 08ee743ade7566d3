import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Item } from '../catalog/index.js';
import { generateDemoShop } from '../demo/index.js';
import { Engine, engineConfig } from '../engine/index.js';
import type { TrackedEvent } from '../events/index.js';
import type { FeatureRow } from './accumulator.js';
import { featuresAt, pairFeaturesAt } from './batch.js';

const HOUR = 3_600_000;
const shop = generateDemoShop({ seed: 3, users: 120, items: 100, days: 45 });
const catalog = new Map<string, Item>(shop.items.map((item) => [item.id, item]));
const items = (itemId: string) => catalog.get(itemId);

const sameValues = (online: FeatureRow, batch: FeatureRow) => {
  expect(Array.from(online.numbers)).toEqual(Array.from(batch.numbers));
  expect(online.labels).toEqual(batch.labels);
};

describe('online values equal batch values at the same time, over the demo shop', () => {
  let dir: string;
  let engine: Engine;
  let clock = shop.truth.start;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attune-features-'));
    engine = await Engine.open(
      engineConfig(`sqlite:${dir}`, { retrainIntervalMs: null, bundlePollMs: null, selection: 'fixed' }),
      undefined,
      { clock: () => clock },
    );
    await engine.putItems(shop.items.map((item) => ({ item, createdAtGiven: true })));
  });
  afterAll(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('agrees exactly for users, items and pairs read along the way, with late and future-stamped events', async () => {
    // Events go in through the engine in chunks, in time order except that every 17th is held back and
    // sent three chunks late. The clock trails each chunk's newest event by two hours, so the newest events
    // are in the future when read. Users and items are read at checkpoints: those read before are updated
    // incrementally by each append, the others are loaded from the store.
    const users = shop.users.map((u) => u.id);
    const itemIds = shop.items.map((i) => i.id);
    const delivered: TrackedEvent[] = [];
    const late: { event: TrackedEvent; due: number }[] = [];
    const CHUNK = 250;
    let checks = 0;
    for (let start = 0, chunk = 0; start < shop.events.length; start += CHUNK, chunk++) {
      const batch: TrackedEvent[] = [];
      shop.events.slice(start, start + CHUNK).forEach((event, k) => {
        if ((start + k) % 17 === 0) late.push({ event, due: chunk + 3 });
        else batch.push(event);
      });
      while (late.length > 0 && late[0]!.due <= chunk) batch.push(late.shift()!.event);
      await engine.appendEvents(batch);
      delivered.push(...batch);
      clock = Math.max(
        clock,
        (shop.events[Math.min(start + CHUNK, shop.events.length) - 1]?.timestamp ?? 0) - 2 * HOUR,
      );

      if (chunk % 4 !== 3) continue;
      // A rotating sample: a third of the users and items, overlapping the previous checkpoint's.
      const sampleUsers = users.filter((_, u) => (u + chunk) % 3 === 0);
      const sampleItems = itemIds.filter((_, i) => (i + chunk) % 3 === 0);
      for (const userId of sampleUsers) {
        const events = delivered.filter((e) => e.userId === userId);
        const itemId = sampleItems[userId.length % sampleItems.length]!;
        const online = await engine.userFeatures(userId, itemId);
        if (events.length === 0) {
          // No events and no stored traits: the API answers 404.
          expect(online).toEqual({ unknown: 'user' });
          continue;
        }
        if (!('user' in online)) throw new Error(`${userId} unknown`);
        sameValues(online.user, featuresAt(engine.config.features, 'user', events, online.at, items));
        sameValues(online.pair!, pairFeaturesAt(engine.config.features, events, itemId, online.at, items));
        checks++;
      }
      for (const itemId of sampleItems) {
        const online = await engine.itemFeatures(itemId);
        if (online === null) throw new Error(`${itemId} unknown`);
        const events = delivered.filter((e) => e.itemId === itemId);
        sameValues(online.item, featuresAt(engine.config.features, 'item', events, online.at, items));
        checks++;
      }
    }
    expect(checks).toBeGreaterThan(300);
    // The comparison saw real activity, not rows of zeros.
    const heavy = await engine.userFeatures(users[0]!);
    if (!('user' in heavy)) throw new Error('unknown');
    expect(Math.max(...Array.from(heavy.user.numbers).filter(Number.isFinite))).toBeGreaterThan(1);
  });
});
