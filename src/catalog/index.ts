// The catalog folder's public surface: what the API, the store and serving import.
export type { Item, User } from './types.js';
export {
  ITEM_FIELDS,
  MAX_ITEMS_PER_REQUEST,
  MAX_LABEL_LENGTH,
  USER_FIELDS,
  validateItem,
  validateItemBatch,
  validateUser,
} from './validate.js';
export type {
  CatalogFieldError,
  IndexedFieldError,
  ItemBatchValidation,
  ItemValidation,
  ValidItem,
  UserValidation,
} from './validate.js';
export { itemToJson, userToJson } from './json.js';
export type { ItemJson, UserJson } from './json.js';
export { emptyItemFilter, ItemFilterError, matchesItem, parseItemFilter } from './filter.js';
export type { CompareOp, ItemFilter, ItemPredicate } from './filter.js';
export { CatalogIndex, isItemRecommendable, loadCatalogIndex } from './catalog-index.js';
export { placeholderItem } from './placeholder.js';
