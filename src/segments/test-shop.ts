import type { Item } from '../catalog/index.js';
import type { TrackedEvent } from '../events/index.js';

/**
 * A shop with three planted behaviour groups, for the segment tests: who does what, on which device, at
 * which hour, in which category. Deterministic (a seeded generator), timestamps before `now`.
 * - `buyers`: buy electronics on mobile in the evening (views, carts and purchases, 18–22h UTC);
 * - `browsers`: view books on desktop in the morning and never buy (8–11h);
 * - `weekenders`: view and sometimes buy garden items on a tablet at weekend afternoons.
 */
export const GROUPS = ['buyers', 'browsers', 'weekenders'] as const;
export type Group = (typeof GROUPS)[number];

const DAY = 86_400_000;
const HOUR = 3_600_000;

export const SHOP_ITEMS: readonly Item[] = (['electronics', 'books', 'garden'] as const).flatMap((category) =>
  Array.from({ length: 10 }, (_, k) => ({
    id: `${category}-${k}`,
    categories: [category],
    tags: [],
    price: category === 'electronics' ? 200 : 20,
    available: true,
    createdAt: 0,
    expiresAt: null,
    attributes: {},
    updatedAt: 0,
  })),
);

/** Park–Miller: enough randomness for counts and hours, the same on every machine. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48_271) % 2_147_483_647;
    return state / 2_147_483_647;
  };
}

export interface PlantedShop {
  readonly events: TrackedEvent[];
  /** Each user's planted group. */
  readonly groups: ReadonlyMap<string, Group>;
}

/** `perGroup` users per group (ids `buyers-0`, …), their events over the 20 days before `now`. */
export function plantedShop(now: number, perGroup = 40, seed = 7): PlantedShop {
  const random = generator(seed);
  const events: TrackedEvent[] = [];
  const groups = new Map<string, Group>();
  let counter = 0;
  const event = (userId: string, name: string, itemId: string, timestamp: number, device: string) => {
    const value: Record<string, number> =
      name === 'purchased' ? { value: itemId.startsWith('electronics') ? 200 : 20 } : {};
    events.push({
      eventId: `e${counter++}`,
      name,
      userId,
      itemId,
      timestamp,
      receivedAt: timestamp,
      context: { device },
      properties: value,
      requestId: null,
    });
  };
  // A time on one of the last 20 days (weekend days only when asked) within [from, to) hours UTC.
  const at = (from: number, to: number, weekend: boolean): number => {
    for (;;) {
      const day = Math.floor((now - DAY) / DAY) * DAY - Math.floor(random() * 20) * DAY;
      const weekday = new Date(day).getUTCDay();
      if (weekend !== (weekday === 0 || weekday === 6)) continue;
      const t = day + from * HOUR + random() * (to - from) * HOUR;
      if (t < now) return t;
    }
  };
  const item = (category: string) => `${category}-${Math.floor(random() * 10)}`;
  for (const group of GROUPS) {
    for (let u = 0; u < perGroup; u++) {
      const userId = `${group}-${u}`;
      groups.set(userId, group);
      const views = 6 + Math.floor(random() * 8);
      for (let v = 0; v < views; v++) {
        if (group === 'buyers')
          event(userId, 'product_viewed', item('electronics'), at(18, 23, false), 'mobile');
        else if (group === 'browsers')
          event(userId, 'product_viewed', item('books'), at(8, 11, false), 'desktop');
        else event(userId, 'product_viewed', item('garden'), at(13, 17, true), 'tablet');
      }
      const purchases =
        group === 'buyers'
          ? 3 + Math.floor(random() * 4)
          : group === 'weekenders'
            ? Math.floor(random() * 2)
            : 0;
      for (let p = 0; p < purchases; p++) {
        if (group === 'buyers') event(userId, 'purchased', item('electronics'), at(18, 23, false), 'mobile');
        else event(userId, 'purchased', item('garden'), at(13, 17, true), 'tablet');
      }
    }
  }
  return { events, groups };
}

/** The events as a store scan gives them: batches. */
export async function* scanOf(events: readonly TrackedEvent[]): AsyncGenerator<readonly TrackedEvent[]> {
  await Promise.resolve();
  for (let i = 0; i < events.length; i += 500) yield events.slice(i, i + 500);
}
