import type { TrackedEvent } from '../events/index.js';
import type { ItemFacts } from './feature-event.js';
import { FeatureSnapshotsUnavailableError, type FeatureSnapshots, type UserSnapshot } from './snapshots.js';

/** A fixed Monday 2026-03-02T00:00:00Z, so hour-of-week expectations are easy to read. */
export const MONDAY = Date.UTC(2026, 2, 2);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

let counter = 0;

/** A tracked event for tests: a view of i1 by u1 at MONDAY unless overridden. */
export function trackedEvent(overrides: Partial<TrackedEvent> = {}): TrackedEvent {
  counter++;
  return {
    eventId: `t-${counter}`,
    name: 'product_viewed',
    userId: 'u1',
    itemId: 'i1',
    timestamp: MONDAY,
    receivedAt: MONDAY,
    context: {},
    properties: {},
    requestId: null,
    ...overrides,
  };
}

/** A small catalog: i1 shoes at 50, i2 shoes at 100, i3 books at 10, i4 uncategorised without price. */
export const TEST_CATALOG: ReadonlyMap<string, ItemFacts> = new Map([
  ['i1', { categories: ['shoes'], price: 50 }],
  ['i2', { categories: ['shoes'], price: 100 }],
  ['i3', { categories: ['books'], price: 10 }],
  ['i4', { categories: [], price: null }],
]);

export const testItems = (itemId: string): ItemFacts | undefined => TEST_CATALOG.get(itemId);

/**
 * Snapshots kept in memory, whose `forget` fails while `down` is set: the loader's own rules under test
 * (the Redis keeper is tested in `test/feature-snapshots.test.ts`).
 */
export class MemorySnapshots implements FeatureSnapshots {
  readonly kept = new Map<string, UserSnapshot>();
  down = false;

  async get(userId: string): Promise<UserSnapshot | null> {
    return this.kept.get(userId) ?? null;
  }

  async put(userId: string, snapshot: UserSnapshot): Promise<void> {
    this.kept.set(userId, snapshot);
  }

  async forget(userId: string): Promise<void> {
    if (this.down) throw new FeatureSnapshotsUnavailableError('test: down');
    this.kept.delete(userId);
  }
}
