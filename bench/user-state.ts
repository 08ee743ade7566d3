/**
 * Memory of serving's user state (`recommendations/user-history.ts`): what one million users with 100
 * items each cost, held the way the engine holds them (a `UserHistory` per user in the byte-bounded LRU of
 * `UserHistories`), and how fast a history is read from the store's per-item totals and updated.
 *
 *   node --expose-gc --import tsx bench/user-state.ts [--users 1000000] [--items 100]
 *
 * Heap and array-buffer bytes are read after full collections, before and after building the histories;
 * the difference divided by the users is the per-user cost. stdout: one JSON object.
 */
import { defaultFeedbackConfig } from '../src/events/index.js';
import {
  BYTES_PER_ITEM,
  HistoryTables,
  UserHistory,
  type HistorySettings,
} from '../src/recommendations/index.js';
import { LruMap } from '../src/shared/lru.js';
import type { UserItemTotal } from '../src/store/index.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const USERS = option('--users', 1_000_000);
const ITEMS = option('--items', 100);
const CATALOG = 100_000;
const settings: HistorySettings = {
  feedback: defaultFeedbackConfig,
  windowMs: 30 * 60_000,
  windowEvents: 1000,
};
const NAMES = ['product_viewed', 'added_to_cart', 'purchased', 'dismissed'];

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const used = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

// A deterministic spread of items per user (a multiplicative walk over the catalog): no two users alike.
const tables = new HistoryTables();
for (let i = 0; i < CATALOG; i++) tables.items.intern(`item-${i}`);
const totals: UserItemTotal[] = Array.from({ length: ITEMS }, () => ({
  itemId: '',
  name: '',
  count: 0,
  lastAt: 0,
  lastSeq: 0,
}));

const before = used();
const cache = new LruMap<string, UserHistory>(Number.MAX_SAFE_INTEGER, (h) => h.size * BYTES_PER_ITEM + 600);
const started = performance.now();
for (let u = 0; u < USERS; u++) {
  for (let k = 0; k < ITEMS; k++) {
    const total = totals[k] as { -readonly [K in keyof UserItemTotal]: UserItemTotal[K] };
    total.itemId = `item-${(u * 7919 + k * 104_729) % CATALOG}`;
    total.name = NAMES[(u + k) % NAMES.length]!;
    total.count = 1 + ((u + k) % 3);
    total.lastAt = 1_700_000_000_000 + k * 60_000;
    total.lastSeq = u * ITEMS + k + 1;
  }
  cache.set(`user-${u}`, UserHistory.fromTotals(tables, totals, settings));
}
const buildSeconds = (performance.now() - started) / 1000;
const after = used();
const perUser = (after - before) / USERS;

// An update: one event on a cached user (copy-on-write of the user's arrays).
const updates = 200_000;
const t0 = performance.now();
for (let i = 0; i < updates; i++) {
  const userId = `user-${(i * 7) % USERS}`;
  const history = cache.peek(userId)!;
  const event = {
    eventId: `e${i}`,
    name: 'product_viewed',
    userId,
    itemId: `item-${i % CATALOG}`,
    timestamp: 1_700_000_000_000 + i,
    receivedAt: 1_700_000_000_000 + i,
    context: {},
    properties: {},
    requestId: null,
  };
  cache.replace(userId, history.withEvents([{ event, position: USERS * ITEMS + i + 1 }], settings));
}
const updateMicros = ((performance.now() - t0) * 1000) / updates;

console.log(
  JSON.stringify({
    bench: 'user-state',
    users: USERS,
    items_per_user: ITEMS,
    catalog: CATALOG,
    bytes_per_user: Math.round(perUser),
    bytes_per_item: BYTES_PER_ITEM,
    gib_per_million_users: Number(((perUser * 1_000_000) / 2 ** 30).toFixed(3)),
    cache_estimate_bytes_per_user: ITEMS * BYTES_PER_ITEM + 600,
    read_from_totals_us_per_user: Number(((buildSeconds * 1e6) / USERS).toFixed(2)),
    update_one_event_us: Number(updateMicros.toFixed(2)),
    held: cache.size,
  }),
);
