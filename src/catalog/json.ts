import { formatTime } from '../events/fields.js';
import type { ScalarRecord } from '../shared/types.js';
import type { Item, User } from './types.js';

/** An item as the API returns it: the same snake_case names it accepts, times as ISO 8601 UTC. */
export interface ItemJson {
  readonly id: string;
  readonly categories: readonly string[];
  readonly tags: readonly string[];
  readonly price: number | null;
  readonly available: boolean;
  readonly created_at: string;
  readonly expires_at: string | null;
  readonly attributes: ScalarRecord;
  readonly updated_at: string;
}

export interface UserJson {
  readonly id: string;
  readonly traits: ScalarRecord;
  readonly created_at: string;
  readonly updated_at: string;
}

/** The response shape of an item; feeding it back to `validateItem` gives the same item (bar updatedAt). */
export function itemToJson(item: Item): ItemJson {
  return {
    id: item.id,
    categories: item.categories,
    tags: item.tags,
    price: item.price,
    available: item.available,
    created_at: formatTime(item.createdAt),
    expires_at: item.expiresAt === null ? null : formatTime(item.expiresAt),
    attributes: item.attributes,
    updated_at: formatTime(item.updatedAt),
  };
}

export function userToJson(user: User): UserJson {
  return {
    id: user.id,
    traits: user.traits,
    created_at: formatTime(user.createdAt),
    updated_at: formatTime(user.updatedAt),
  };
}
