import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Interaction } from './datasets.js';
import {
  heldOutUsers,
  prepareDataset,
  splitFingerprint,
  summarize,
  testHoldout,
  trainingInput,
  validationHoldout,
  validationSplit,
  type UserRows,
} from './protocol.js';

const row = (user: string, item: string, timestamp: number): Interaction => ({
  user,
  item,
  rating: null,
  timestamp,
});

/**
 * User "2": five distinct items once duplicates keep their earliest time (item 1 at 50, item 10 at 400).
 * Items 9 and 10 tie at t=400; numeric id order puts 9 first, so 10 is last and goes to test
 * (string order would have picked 9). User "10": ten items at descending times, so time, not id, orders
 * them; the last two (9 at t=9, 1 at t=10) go to test and one of the eight left is cut for validation.
 * User "3": four items, all train, not evaluated.
 */
const rows: Interaction[] = [
  row('2', '1', 100),
  row('2', '20', 200),
  row('2', '30', 300),
  row('2', '10', 500),
  row('2', '9', 400),
  row('2', '10', 400),
  row('2', '1', 50),
  ...['100', '70', '60', '50', '40', '30', '20', '10', '9', '1'].map((item, k) => row('10', item, k + 1)),
  ...['1', '9', '10', '20'].map((item, k) => row('3', item, 1000 + k)),
];

const itemsOf = (ids: readonly string[], rows: UserRows, user: number): string[] =>
  Array.from(rows.items.subarray(rows.indptr[user]!, rows.indptr[user + 1]!), (item) => ids[item]!);

describe('holdout sizes', () => {
  it('follows the protocol', () => {
    expect([1, 4, 5, 9, 10, 14, 15].map(testHoldout)).toEqual([0, 0, 1, 1, 2, 2, 3]);
    expect([4, 5, 9, 10].map(validationHoldout)).toEqual([0, 1, 1, 2]);
  });
});

describe('prepareDataset', () => {
  it('indexes ids in numeric order and splits each user by (time, item id)', async () => {
    const data = await prepareDataset(rows);
    expect(data.userIds).toEqual(['2', '3', '10']);
    expect(data.itemIds).toEqual(['1', '9', '10', '20', '30', '40', '50', '60', '70', '100']);
    expect(itemsOf(data.itemIds, data.train.rows, 0)).toEqual(['1', '20', '30', '9']);
    expect(itemsOf(data.itemIds, data.test.rows, 0)).toEqual(['10']);
    expect(itemsOf(data.itemIds, data.train.rows, 1)).toEqual(['1', '9', '10', '20']);
    expect(itemsOf(data.itemIds, data.test.rows, 1)).toEqual([]);
    expect(itemsOf(data.itemIds, data.train.rows, 2)).toEqual([
      '100',
      '70',
      '60',
      '50',
      '40',
      '30',
      '20',
      '10',
    ]);
    expect(itemsOf(data.itemIds, data.test.rows, 2)).toEqual(['9', '1']);
    // Duplicates keep the earliest time: item 1 of user "2" at 50, item 10 at 400.
    expect(Array.from(data.train.rows.times.subarray(0, 4))).toEqual([50, 200, 300, 400]);
    expect(Array.from(heldOutUsers(data.test))).toEqual([0, 2]);
  });

  it('reads async sources the same way', async () => {
    async function* stream(): AsyncGenerator<Interaction> {
      yield* rows;
    }
    const fromStream = await prepareDataset(stream());
    const fromArray = await prepareDataset(rows);
    expect(fromStream).toEqual(fromArray);
  });

  it('cuts validation from train only', async () => {
    const data = await prepareDataset(rows);
    const { fit, validation } = validationSplit(data.train);
    expect(fit.part).toBe('train');
    expect(validation.part).toBe('validation');
    // User "2" has 4 train items (< 5): nothing cut. User "10" has 8: floor(8 / 5) = 1, its latest.
    expect(itemsOf(data.itemIds, validation.rows, 0)).toEqual([]);
    expect(itemsOf(data.itemIds, validation.rows, 2)).toEqual(['10']);
    expect(itemsOf(data.itemIds, fit.rows, 2)).toEqual(['100', '70', '60', '50', '40', '30', '20']);
  });

  it('fingerprints the test split as sha1 of sorted USER<TAB>ITEM lines', async () => {
    const data = await prepareDataset(rows);
    // Users and items sorted numerically: user 2 before 10, item 1 before 9.
    const expected = createHash('sha1').update('2\t10\n10\t1\n10\t9').digest('hex');
    expect(splitFingerprint(data)).toBe(expected);
    expect(summarize(data)).toEqual({
      users: 3,
      items: 10,
      rowsRead: 21,
      pairs: 19,
      evaluatedUsers: 2,
      trainPairs: 16,
      testPairs: 3,
      validationPairs: 1,
      testFingerprint: expected,
    });
  });
});

describe('trainingInput', () => {
  it('builds a users × items CSR of ones with sorted columns and aligned times', async () => {
    const data = await prepareDataset(rows);
    const { matrix, times, now } = trainingInput(data.train);
    expect(matrix.rows).toBe(3);
    expect(matrix.cols).toBe(10);
    expect(Array.from(matrix.indptr)).toEqual([0, 4, 8, 16]);
    // User "2" trains on items 1, 9, 20, 30 → indices 0, 1, 3, 4.
    expect(Array.from(matrix.indices.subarray(0, 4))).toEqual([0, 1, 3, 4]);
    expect(Array.from(times!.subarray(0, 4))).toEqual([50, 400, 200, 300]);
    expect(Array.from(matrix.data)).toEqual(new Array<number>(16).fill(1));
    expect(now).toBe(1003);
  });
});
