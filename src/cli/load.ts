import type { DemoShop } from '../demo/index.js';
import type { Engine } from '../engine/index.js';
import type { TrackedEvent } from '../events/index.js';
import type { Progress } from './progress.js';

const BATCH = 1000;

/**
 * Appends events in store-sized batches; returns how many were stored and how many were duplicates.
 * `total` null: a stream of unknown length (a file being read), shown as a count and a rate.
 */
export async function appendInBatches(
  engine: Engine,
  events: AsyncIterable<TrackedEvent> | Iterable<TrackedEvent>,
  progress: Progress,
  label: string,
  total: number | null = null,
): Promise<{ stored: number; duplicates: number }> {
  let stored = 0;
  let duplicates = 0;
  let seen = 0;
  let batch: TrackedEvent[] = [];
  const flush = async (): Promise<void> => {
    const result = await engine.appendEvents(batch);
    stored += result.stored;
    duplicates += result.duplicates.length;
    seen += batch.length;
    batch = [];
    progress.update(label, seen, total === null ? null : Math.max(total, seen), 'events');
  };
  progress.update(label, 0, total, 'events');
  for await (const event of events) {
    batch.push(event);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  progress.stop();
  return { stored, duplicates };
}

/** Writes the demo shop's catalog, users and events into the engine's store. */
export async function loadDemoShop(engine: Engine, shop: DemoShop, progress: Progress): Promise<number> {
  for (let start = 0; start < shop.items.length; start += BATCH) {
    const items = shop.items.slice(start, start + BATCH);
    await engine.putItems(items.map((item) => ({ item, createdAtGiven: true })));
  }
  for (const user of shop.users) await engine.putUser(user);
  const { stored } = await appendInBatches(engine, shop.events, progress, 'demo events', shop.events.length);
  return stored;
}
