import { describe, expect, it } from 'vitest';

import { ConsentFilter } from './consent.js';

async function* batches<T>(...lists: T[][]): AsyncGenerator<T[]> {
  for (const list of lists) yield list;
}

describe('ConsentFilter', () => {
  it('reads recorded consents once and keeps the events of users who let them personalize', async () => {
    const store = {
      listConsents: async (except: string) => {
        expect(except).toBe('full');
        return new Map([
          ['a', 'analytics' as const],
          ['n', 'none' as const],
        ]);
      },
    };
    const filter = await ConsentFilter.read(store, 'full');
    expect(['a', 'n', 'f', 'anyone'].map((u) => filter.personalizes(u))).toEqual([false, false, true, true]);
    const kept: string[][] = [];
    const events = batches(
      [{ userId: 'a' }, { userId: 'f' }],
      [{ userId: 'a' }],
      [{ userId: 'x' }, { userId: 'n' }],
    );
    for await (const batch of filter.personalEvents(events)) kept.push(batch.map((e) => e.userId));
    // A batch left empty is skipped, not yielded.
    expect(kept).toEqual([['f'], ['x']]);
  });

  it('with an "analytics" default, only users who recorded "full" are learnt from', async () => {
    const filter = await ConsentFilter.read(
      { listConsents: async () => new Map([['yes', 'full' as const]]) },
      'analytics',
    );
    expect(filter.personalizes('yes')).toBe(true);
    expect(filter.personalizes('anyone')).toBe(false);
  });
});
