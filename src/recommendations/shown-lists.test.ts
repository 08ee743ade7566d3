import { describe, expect, it } from 'vitest';
import { SHOWN_LISTS, SHOWN_WINDOW_MS } from '../ranking/index.js';
import { ShownLists, type LoadShownLists, type LoggedShownList } from './shown-lists.js';

const NOW = 1_700_000_000_000;
const list = (requestId: string, at: number, items: string[]): LoggedShownList => ({ requestId, at, items });

/** A store holding `lists` per user (oldest first), read newest first as `recentImpressions` gives them. */
function storeOf(lists: Record<string, LoggedShownList[]>): LoadShownLists & { reads: string[] } {
  const reads: string[] = [];
  const load = async (userId: string, options: { since: number; limit: number }) => {
    reads.push(userId);
    return (lists[userId] ?? [])
      .filter((l) => l.at >= options.since)
      .reverse()
      .slice(0, options.limit);
  };
  return Object.assign(load, { reads });
}

describe('ShownLists', () => {
  it('counts the lists that showed each item, from the store once and then from what is served', async () => {
    const store = storeOf({ u: [list('r1', NOW - 3000, ['a', 'b']), list('r2', NOW - 2000, ['a', 'c'])] });
    const shown = new ShownLists(store);
    expect(shown.counts('u', NOW)).toEqual(new Map());
    await shown.ensure('u', NOW);
    expect(shown.counts('u', NOW)).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
        ['c', 1],
      ]),
    );
    shown.record({ userId: 'u', ...list('r3', NOW, ['c', 'd']) });
    // A list counts from the next request on, not for itself.
    expect(shown.counts('u', NOW)).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
        ['c', 1],
      ]),
    );
    expect(shown.counts('u', NOW + 1)).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
        ['c', 2],
        ['d', 1],
      ]),
    );
    await shown.ensure('u', NOW + 1);
    expect(store.reads).toEqual(['u']);
  });

  it('counts a list recorded before the store was read once, though the store has it too', async () => {
    const stored = [list('r1', NOW - 1000, ['a'])];
    const shown = new ShownLists(storeOf({ u: stored }));
    shown.record({ userId: 'u', ...stored[0]! });
    await shown.ensure('u', NOW);
    expect(shown.counts('u', NOW)).toEqual(new Map([['a', 1]]));
  });

  it('shares one read between concurrent requests, and reads again after a failure', async () => {
    let calls = 0;
    let fail = true;
    const shown = new ShownLists(async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) throw new Error('store down');
      return [list('r1', NOW - 10, ['a'])];
    });
    shown.record({ userId: 'u', ...list('r0', NOW - 20, ['b']) });
    const both = await Promise.allSettled([shown.ensure('u', NOW), shown.ensure('u', NOW)]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    // What was served meanwhile is kept.
    expect(shown.counts('u', NOW)).toEqual(new Map([['b', 1]]));
    fail = false;
    await shown.ensure('u', NOW);
    expect(calls).toBe(2);
    expect(shown.counts('u', NOW)).toEqual(
      new Map([
        ['a', 1],
        ['b', 1],
      ]),
    );
  });

  it(`keeps to the window (${SHOWN_WINDOW_MS / 86_400_000} days) and the newest ${SHOWN_LISTS} lists`, async () => {
    const shown = new ShownLists(storeOf({}));
    await shown.ensure('u', NOW);
    shown.record({ userId: 'u', ...list('old', NOW - SHOWN_WINDOW_MS - 1, ['old']) });
    shown.record({ userId: 'u', ...list('edge', NOW - SHOWN_WINDOW_MS, ['edge']) });
    expect(shown.counts('u', NOW)).toEqual(new Map([['edge', 1]]));
    for (let k = 0; k < SHOWN_LISTS; k++)
      shown.record({ userId: 'u', ...list(`r${k}`, NOW - 100 + k, ['x']) });
    expect(shown.counts('u', NOW)).toEqual(new Map([['x', SHOWN_LISTS]]));
    // Out of order: the list goes in by time (and pushes out the oldest).
    shown.record({ userId: 'u', ...list('late', NOW - 50, ['y']) });
    expect(shown.counts('u', NOW)).toEqual(
      new Map([
        ['x', SHOWN_LISTS - 1],
        ['y', 1],
      ]),
    );
  });

  it('forgets a user (erasure, consent), and reads the store again when asked next', async () => {
    const store = storeOf({ u: [list('r1', NOW - 1000, ['a'])] });
    const shown = new ShownLists(store);
    await shown.ensure('u', NOW);
    shown.record({ userId: 'u', ...list('r2', NOW - 500, ['b']) });
    shown.forget('u');
    expect(shown.counts('u', NOW)).toEqual(new Map());
    await shown.ensure('u', NOW);
    expect(shown.counts('u', NOW)).toEqual(new Map([['a', 1]]));
    expect(store.reads).toEqual(['u', 'u']);
    shown.clear();
    expect(shown.counts('u', NOW)).toEqual(new Map());
  });

  it('holds at most its capacity in lists, dropping the users served least recently', async () => {
    const shown = new ShownLists(storeOf({}), 3);
    shown.record({ userId: 'a', ...list('a1', NOW - 30, ['x']) });
    shown.record({ userId: 'a', ...list('a2', NOW - 20, ['x']) });
    shown.record({ userId: 'b', ...list('b1', NOW - 10, ['y']) });
    expect(shown.size).toBe(2);
    shown.record({ userId: 'b', ...list('b2', NOW - 5, ['y']) });
    expect(shown.size).toBe(1);
    expect(shown.counts('a', NOW)).toEqual(new Map());
    expect(shown.counts('b', NOW)).toEqual(new Map([['y', 2]]));
  });
});
