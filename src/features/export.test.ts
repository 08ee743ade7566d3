import { describe, expect, it } from 'vitest';
import { parseCsv } from '../shared/csv.js';
import type { TrackedEvent } from '../events/index.js';
import { parseFeatureDefinitions } from './definitions.js';
import { ExportInputError, exportAt, exportRows, parseExportRows } from './export.js';
import { FeatureSet } from './feature-set.js';
import { DAY, HOUR, MONDAY, testItems, trackedEvent as ev } from './test-events.js';

const set = new FeatureSet(
  parseFeatureDefinitions({
    user: [
      { name: 'purchases', kind: 'count', event: 'purchased', windows: ['1d', 'lifetime'] },
      { name: 'category', kind: 'category_affinity' },
    ],
    item: [{ name: 'views', kind: 'count', event: 'product_viewed', window: '7d' }],
    user_item: [{ name: 'views', kind: 'count', event: 'product_viewed', window: '7d' }],
  }),
);

// Scanned in insertion order, which is not time order: u2's early event is inserted last.
const log: TrackedEvent[] = [
  ev({ userId: 'u1', itemId: 'i1', timestamp: MONDAY + DAY }),
  ev({ userId: 'u1', itemId: 'i1', timestamp: MONDAY + 2 * DAY, name: 'purchased' }),
  ev({ userId: 'u2', itemId: 'i3', timestamp: MONDAY + 3 * DAY }),
  ev({ userId: 'u1', itemId: 'i1', timestamp: MONDAY + 5 * DAY }),
  ev({ userId: 'u3', itemId: 'i1', timestamp: MONDAY + 9 * DAY }),
  ev({ userId: 'u2', itemId: 'i1', timestamp: MONDAY, name: 'purchased' }),
];

async function* scanOf(events: readonly TrackedEvent[], batchSize = 2): AsyncGenerator<TrackedEvent[]> {
  for (let k = 0; k < events.length; k += batchSize) yield events.slice(k, k + batchSize);
}

async function csvOf(run: (write: (line: string) => void) => Promise<number>) {
  const lines: string[] = [];
  const count = await run((line) => lines.push(line));
  return { count, table: parseCsv(`${lines.join('\n')}\n`) };
}

describe('features export', () => {
  it('--at: one row per user seen before the time, from the events before it only', async () => {
    const at = MONDAY + 2 * DAY + HOUR;
    const { count, table } = await csvOf((write) => exportAt(set, scanOf(log), at, testItems, write));
    expect(count).toBe(2);
    expect(table.header).toEqual([
      'user_id',
      'timestamp',
      'user.purchases_1d',
      'user.purchases_lifetime',
      'user.category_top_share',
      'user.category_distinct',
      'user.category_top',
    ]);
    const at_ = new Date(at).toISOString();
    expect(table.rows).toEqual([
      ['u1', at_, '1', '1', '1', '1', 'shoes'],
      ['u2', at_, '0', '1', '1', '1', 'shoes'],
    ]);
  });

  it('--rows: each row at its own timestamp, with item and pair columns when rows name items', async () => {
    const rows = parseExportRows(
      [
        'user_id,timestamp,item_id',
        `u1,${new Date(MONDAY + 2 * DAY).toISOString()},i1`, // the purchase at that instant is not in
        `u1,${MONDAY + 2 * DAY + 1},i1`, // one millisecond later it is
        `u2,${new Date(MONDAY + 4 * DAY).toISOString()},`,
        `u9,${new Date(MONDAY + 4 * DAY).toISOString()},i1`, // nobody: zeros and blanks
      ].join('\n'),
    );
    const { count, table } = await csvOf((write) => exportRows(set, scanOf(log, 1), rows, testItems, write));
    expect(count).toBe(4);
    expect(table.header.slice(0, 3)).toEqual(['user_id', 'timestamp', 'item_id']);
    expect(table.header.slice(-2)).toEqual(['item.views', 'user_item.views']);
    const pick = (r: number, column: string) => table.rows[r]?.[table.header.indexOf(column)];
    expect([pick(0, 'user.purchases_lifetime'), pick(1, 'user.purchases_lifetime')]).toEqual(['0', '1']);
    expect([pick(0, 'item.views'), pick(0, 'user_item.views')]).toEqual(['1', '1']);
    expect([pick(2, 'user.purchases_lifetime'), pick(2, 'user.category_top'), pick(2, 'item.views')]).toEqual(
      // A shoe and a book: a tie goes to the first in code-point order. No item: blank item columns.
      ['1', 'books', ''],
    );
    expect([pick(3, 'user.purchases_lifetime'), pick(3, 'user.category_top'), pick(3, 'item.views')]).toEqual(
      ['0', '', '1'], // i1's views before then: the one on day 1 (day 5's is later)
    );
  });

  it('refuses a rows file with another header or a bad timestamp, naming the line', () => {
    expect(() => parseExportRows('user,timestamp\nu1,0\n')).toThrow(ExportInputError);
    expect(() => parseExportRows('user_id,timestamp\nu1,yesterday\n')).toThrow(
      /line 2: timestamp: expected an ISO 8601 time or epoch milliseconds, got "yesterday"/,
    );
  });
});
