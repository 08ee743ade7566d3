import type { TrackedEvent } from '../events/index.js';
import type { ItemFacts } from './feature-event.js';

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
