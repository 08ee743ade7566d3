import type { EpochMs } from '../shared/types.js';
import type { Item } from './types.js';

/**
 * The catalog entry an event creates for an item the catalog did not know (when so configured):
 * available and uncategorised until the product team sends the real item. The store creates the same.
 */
export function placeholderItem(id: string, createdAt: EpochMs): Item {
  return {
    id,
    categories: [],
    tags: [],
    price: null,
    available: true,
    createdAt,
    expiresAt: null,
    attributes: {},
    updatedAt: createdAt,
  };
}
