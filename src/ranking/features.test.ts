import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../models/random.js';
import { addInteractionFeatures, INTERACTION_FEATURES } from './features.js';
import { DAY, inputOf, listsOf, type Row } from './fixtures.js';
import { interactionStats } from './interaction-stats.js';

/**
 * A hand-built log: each user's history up to the cut is what the generator was fitted on; the rest
 * (later than the cut) is held out and must not move any feature.
 */
const fit: Row[] = [
  [0, 0, 1],
  [0, 1, 2],
  [0, 2, 4],
  [1, 0, 0],
  [1, 2, 3],
  [1, 3, 10],
  [2, 1, 5],
  [2, 4, 8],
  [3, 4, 1],
  [3, 0, 6],
  [3, 3, 9],
];
const heldOut: Row[] = [
  [0, 3, 20],
  [1, 1, 12],
  [2, 2, 15],
];

/** User 0's features for candidates 3 and 4, from `rows`. */
function user0Features(rows: readonly Row[]) {
  const lists = listsOf([0], [[3, 4]]);
  addInteractionFeatures(lists, interactionStats(inputOf(rows, 4, 5)));
  return (name: string) => Array.from(lists.table.column(name));
}

describe('ranking features', () => {
  it('are computed from the fitted interactions only: held-out (later) interactions move nothing', () => {
    const feature = user0Features(fit);
    // now = the latest fitted time, day 10; user 0's last fitted interaction is day 4.
    expect(feature('item_count')).toEqual([2, 2]);
    expect(feature('item_days_since_last')).toEqual([0, 2]);
    expect(feature('item_days_since_first')).toEqual([1, 9]);
    expect(feature('item_count_7d')).toEqual([2, 1]); // (day 3, day 10]
    expect(feature('user_count')).toEqual([3, 3]);
    expect(feature('user_days_since_last')).toEqual([6, 6]);
    expect(feature('item_age_at_user_days')).toEqual([-5, 3]);
    expect(feature('item_count_before_user_7d')).toEqual([0, 1]); // (day -3, day 4]
    expect(feature('item_count_before_user_30d')).toEqual([0, 1]); // (day -26, day 4]
    // After item 2 (user 0's newest), user 1 took item 3: 1 of item 2's 2 takers.
    expect(feature('seq_next_last')).toEqual([0.5, 0]);

    // The same features with the held-out rows leaked into the input differ: the checks above would
    // catch a feature that read past the cut.
    const leaked = user0Features([...fit, ...heldOut]);
    expect(leaked('item_count')[0]).toBe(3);
    expect(leaked('user_count')[0]).toBe(4);
    expect(leaked('item_age_at_user_days')[0]).toBe(11);
  });

  it('match a brute-force count over the fitted rows of a random log, with a cut per user', () => {
    const random = mulberry32(5);
    const nUsers = 30;
    const nItems = 25;
    const all: Row[] = [];
    for (let u = 0; u < nUsers; u++) {
      const items = new Set<number>();
      while (items.size < 8) items.add(Math.floor(random() * nItems));
      [...items].forEach((item) => all.push([u, item, Math.floor(random() * 120)]));
    }
    // Per user, interactions after the user's cut day are held out.
    const cut = Array.from({ length: nUsers }, () => 40 + Math.floor(random() * 60));
    const fitted = all.filter(([u, , day]) => day <= cut[u]!);
    const users = Array.from({ length: nUsers }, (_, u) => u).filter((u) => fitted.some((r) => r[0] === u));
    const candidates = Array.from({ length: nItems }, (_, i) => i);
    const lists = listsOf(
      users,
      users.map((u) => candidates.filter((i) => !fitted.some((r) => r[0] === u && r[1] === i))),
    );
    addInteractionFeatures(lists, interactionStats(inputOf(fitted, nUsers, nItems)));
    const now = Math.max(...fitted.map((r) => r[2]));
    const count = (item: number, lo: number, hi: number) =>
      fitted.filter((r) => r[1] === item && r[2] > lo && r[2] <= hi).length;
    lists.users.forEach((user, q) => {
      const last = Math.max(...fitted.filter((r) => r[0] === user).map((r) => r[2]));
      for (let row = lists.offsets[q]!; row < lists.offsets[q + 1]!; row++) {
        const item = lists.items[row]!;
        const value = (name: string) => lists.table.column(name)[row];
        expect(value('item_count')).toBe(count(item, -Infinity, Infinity));
        expect(value('item_count_30d')).toBe(count(item, now - 30, now));
        expect(value('item_count_before_user_30d')).toBe(count(item, last - 30, last));
        const itemDays = fitted.filter((r) => r[1] === item).map((r) => r[2]);
        if (itemDays.length === 0) expect(value('item_days_since_last')).toBeNaN();
        else expect(value('item_days_since_last')).toBe(now - Math.max(...itemDays));
        expect(value('user_days_since_last')).toBe(now - last);
      }
    });
    expect(lists.table.names).toEqual(INTERACTION_FEATURES);
  });

  it('are missing (NaN), not zero, when the input has no times', () => {
    const lists = listsOf([0], [[3]]);
    const { times: _times, ...input } = inputOf(fit, 4, 5);
    addInteractionFeatures(lists, interactionStats(input));
    expect(lists.table.column('item_count')[0]).toBe(2);
    expect(lists.table.column('item_days_since_last')[0]).toBeNaN();
    expect(lists.table.column('item_count_before_user_30d')[0]).toBeNaN();
    expect(DAY).toBe(86_400_000);
  });
});
