import type { TrackedEvent } from '../events/index.js';
import type { Store } from '../store/index.js';
import type { ItemCategories, LoggedList } from './train-reranker.js';

/**
 * What the re-ranker's training reads from the store: the served recommendation lists (impression log) with
 * the outcome that followed each shown item, and the items' categories. Outcomes link by the event's
 * `properties.request_id`; an event without one links to the newest list that showed the same user the
 * same item at most `linkWindowMs` before it.
 */

/** click 1, add to cart 2, purchase 3; 0 for events that are no outcome of a shown item. Names matched loosely. */
export function outcomeGrade(eventName: string): number {
  const name = eventName.toLowerCase();
  if (/purchas|order|bought|checkout/.test(name)) return 3;
  if (/cart/.test(name)) return 2;
  if (/click|view|open|select/.test(name)) return 1;
  return 0;
}

export interface LoggedListOptions {
  /** The run's log position: events after it are not read (they are the next run's). */
  readonly throughSeq: number;
  readonly userIndex: ReadonlyMap<string, number>;
  readonly itemIndex: ReadonlyMap<string, number>;
  readonly linkWindowMs?: number;
}

interface Pending {
  readonly requestId: string;
  readonly userId: string;
  readonly at: number;
  readonly itemIds: readonly string[];
  readonly positions: readonly number[];
  readonly scores: readonly number[];
  readonly grades: Float64Array;
}

export async function loggedListsFromStore(store: Store, options: LoggedListOptions): Promise<LoggedList[]> {
  const window = options.linkWindowMs ?? 3_600_000;
  const byRequest = new Map<string, Pending>();
  // Per user, their lists oldest first: the fallback link searches them newest first.
  const byUser = new Map<string, Pending[]>();
  for await (const batch of store.scanImpressions()) {
    for (const impression of batch) {
      // Personal lists only: a fallback (popularity for an unknown user) or similar-items list is another
      // generator whose order the re-ranker will never re-rank.
      if (impression.surface !== 'recommendations' || impression.fallback) continue;
      const pending: Pending = {
        requestId: impression.requestId,
        userId: impression.userId,
        at: impression.createdAt,
        itemIds: impression.items.map((i) => i.itemId),
        positions: impression.items.map((i) => i.position),
        scores: impression.items.map((i) => i.score),
        grades: new Float64Array(impression.items.length),
      };
      byRequest.set(pending.requestId, pending);
      let lists = byUser.get(pending.userId);
      if (lists === undefined) byUser.set(pending.userId, (lists = []));
      lists.push(pending);
    }
  }
  for (const lists of byUser.values()) lists.sort((a, b) => a.at - b.at);
  const link = (event: TrackedEvent, grade: number): void => {
    const itemId = event.itemId!;
    const mark = (list: Pending): boolean => {
      const j = list.itemIds.indexOf(itemId);
      if (j < 0) return false;
      list.grades[j] = Math.max(list.grades[j]!, grade);
      return true;
    };
    const linked = event.requestId === null ? undefined : byRequest.get(event.requestId);
    if (linked !== undefined && linked.userId === event.userId) {
      mark(linked);
      return;
    }
    const lists = byUser.get(event.userId);
    if (lists === undefined) return;
    for (let k = lists.length - 1; k >= 0; k--) {
      const list = lists[k]!;
      if (list.at > event.timestamp) continue;
      if (list.at < event.timestamp - window) break;
      if (mark(list)) return;
    }
  };
  if (byRequest.size > 0) {
    for await (const batch of store.scanEvents({ withItemOnly: true, throughSeq: options.throughSeq })) {
      for (const event of batch) {
        if (event.itemId === null) continue;
        const grade = outcomeGrade(event.name);
        if (grade > 0) link(event, grade);
      }
    }
  }
  const out: LoggedList[] = [];
  for (const list of byRequest.values()) {
    const items: number[] = [];
    const positions: number[] = [];
    const scores: number[] = [];
    const grades: number[] = [];
    list.itemIds.forEach((itemId, j) => {
      const index = options.itemIndex.get(itemId);
      if (index === undefined) return;
      items.push(index);
      positions.push(list.positions[j]!);
      scores.push(list.scores[j]!);
      grades.push(list.grades[j]!);
    });
    out.push({
      user: options.userIndex.get(list.userId) ?? -1,
      at: list.at,
      items: Int32Array.from(items),
      positions: Int32Array.from(positions),
      scores: Float64Array.from(scores),
      grades: Float64Array.from(grades),
    });
  }
  return out;
}

/** Each bundle item's first category (−1 without one or without a catalog entry). */
export async function itemCategoriesFromStore(
  store: Store,
  itemIds: readonly string[],
): Promise<ItemCategories> {
  const itemIndex = new Map(itemIds.map((id, index) => [id, index]));
  const itemCategory = new Int32Array(itemIds.length).fill(-1);
  const categories: string[] = [];
  const codes = new Map<string, number>();
  for await (const batch of store.scanItems()) {
    for (const item of batch) {
      const index = itemIndex.get(item.id);
      const category = item.categories[0];
      if (index === undefined || category === undefined) continue;
      let code = codes.get(category);
      if (code === undefined) {
        code = categories.length;
        codes.set(category, code);
        categories.push(category);
      }
      itemCategory[index] = code;
    }
  }
  return { itemCategory, categories };
}
