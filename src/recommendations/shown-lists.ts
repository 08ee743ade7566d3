import { countShown, SHOWN_LISTS, SHOWN_WINDOW_MS, type ShownList } from '../ranking/index.js';
import { LruMap } from '../shared/lru.js';

/**
 * What each user was shown lately, for the re-ranker's `user_item_shown` feature: a shopper who passed an
 * item over on their last five visits is less likely to take it on the sixth, and only the impression log
 * knows that (the models learn from what users did, not from what they ignored). Serving counts exactly
 * what training counts from the log (`countShown`): the user's personal recommendation lists of the last
 * `SHOWN_WINDOW_MS`, at most `SHOWN_LISTS` of them.
 *
 * A user's lists come from the store once (the impressions this or any instance logged), then from what
 * this instance serves. Another instance's lists after that are not seen here until the user leaves this
 * cache; with the result cache, a list served again within its lifetime is the same list, as before.
 */

/** A served list as the store gives it back: newest first from `load`. */
export interface LoggedShownList extends ShownList<string> {
  readonly requestId: string;
  readonly items: readonly string[];
}

/** Reads a user's recent personal recommendation lists, newest first. */
export type LoadShownLists = (
  userId: string,
  options: { readonly since: number; readonly limit: number },
) => Promise<readonly LoggedShownList[]>;

interface UserLists {
  /** Oldest first, at most `SHOWN_LISTS`. */
  lists: LoggedShownList[];
  /** Set once the store's lists are merged in; a pending read is shared by concurrent requests. */
  loaded: Promise<void> | null;
}

/**
 * Lists held at most, over all users (the least recently served users go first): a list of 10 ids is
 * ~200 bytes, so ~40 MB.
 */
const DEFAULT_LISTS = 200_000;

export class ShownLists {
  readonly #users: LruMap<string, UserLists>;

  constructor(
    private readonly load: LoadShownLists,
    capacity: number = DEFAULT_LISTS,
  ) {
    // A user with no list yet weighs one: what is held of them still costs something.
    this.#users = new LruMap(capacity, (user) => Math.max(1, user.lists.length));
  }

  /** Users held. */
  get size(): number {
    return this.#users.size;
  }

  /** A list this instance served to the user (call once per logged impression). */
  record({ userId, ...list }: LoggedShownList & { readonly userId: string }): void {
    const held = this.#users.entry(userId);
    if (held === undefined) {
      this.#users.set(userId, { lists: [list], loaded: null });
      return;
    }
    insert(held.value.lists, list);
    this.#users.reweigh(held);
  }

  /** Makes `counts` complete for the user: reads their logged lists the first time they are asked for. */
  async ensure(userId: string, now: number): Promise<void> {
    let user = this.#users.get(userId);
    if (user === undefined) this.#users.set(userId, (user = { lists: [], loaded: null }));
    const held = user;
    held.loaded ??= this.load(userId, { since: now - SHOWN_WINDOW_MS, limit: SHOWN_LISTS }).then(
      (stored) => {
        // Lists recorded meanwhile may be among the stored ones (the log flushed them): one each.
        for (const list of stored) insert(held.lists, list);
        const entry = this.#users.entry(userId);
        if (entry?.value === held) this.#users.reweigh(entry);
      },
      (error: unknown) => {
        // A failed read is tried again on the next request; what was recorded is kept.
        held.loaded = null;
        throw error;
      },
    );
    await held.loaded;
  }

  /** Per item id, how many of the user's recent lists showed it (empty for a user never served). */
  counts(userId: string, now: number): ReadonlyMap<string, number> {
    const user = this.#users.peek(userId);
    return user === undefined ? new Map() : countShown(user.lists, now);
  }

  /** Drops what is held of the user (erasure, withdrawn consent, a merge): the next request reads again. */
  forget(userId: string): void {
    this.#users.delete(userId);
  }

  clear(): void {
    this.#users.clear();
  }
}

/** Inserts `list` in time order unless a list with its request id is held; keeps the newest `SHOWN_LISTS`. */
function insert(lists: LoggedShownList[], list: LoggedShownList): void {
  if (lists.some((held) => held.requestId === list.requestId)) return;
  let at = lists.length;
  while (at > 0 && lists[at - 1]!.at > list.at) at--;
  lists.splice(at, 0, list);
  if (lists.length > SHOWN_LISTS) lists.splice(0, lists.length - SHOWN_LISTS);
}
