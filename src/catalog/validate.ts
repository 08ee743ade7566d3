import {
  FieldError,
  isPlainObject,
  readId,
  readScalarRecord,
  readString,
  readTime,
} from '../events/fields.js';
import type { EpochMs, ScalarRecord } from '../shared/types.js';
import type { Item, User } from './types.js';

/** A rejected field of an item or user body, with its path (`price`, `categories[2]`, `traits.plan`). */
export interface CatalogFieldError {
  readonly field: string;
  readonly message: string;
}

/** A rejected field of one element of a bulk body. An invalid item may have several. */
export interface IndexedFieldError extends CatalogFieldError {
  readonly index: number;
}

/**
 * A valid item, and whether the body set `created_at`: an update that leaves it out keeps the stored
 * item's creation time (which only the engine knows), so an edited item does not look new.
 */
export interface ValidItem {
  readonly item: Item;
  readonly createdAtGiven: boolean;
}

export type ItemValidation = ValidItem | { readonly errors: CatalogFieldError[] };
export type UserValidation = { readonly user: User } | { readonly errors: CatalogFieldError[] };

export type ItemBatchValidation =
  | {
      readonly items: (ValidItem & { readonly index: number })[];
      readonly errors: IndexedFieldError[];
    }
  | { readonly fatal: string };

export const MAX_ITEMS_PER_REQUEST = 1000;
/** The longest category or tag accepted. */
export const MAX_LABEL_LENGTH = 200;

export const ITEM_FIELDS: readonly string[] = [
  'id',
  'categories',
  'category',
  'tags',
  'price',
  'available',
  'created_at',
  'expires_at',
  'attributes',
  'updated_at',
];
const ITEM_FIELD_LIST = ITEM_FIELDS.join(', ');
export const USER_FIELDS: readonly string[] = ['id', 'traits', 'created_at', 'updated_at'];
const USER_FIELD_LIST = USER_FIELDS.join(', ');

/**
 * Validates an item body, reporting every problem (catalog writes are rare enough to afford it, and a
 * sender fixing a feed wants the full list). For `PUT /v1/items/:id` pass the path id: a body `id`
 * is then optional but must match it. Without a path id (bulk elements) the body `id` is required.
 * `null` counts as absent for optional fields; `updatedAt` and the default `createdAt` are `now`.
 * `updated_at` is accepted and ignored (the server sets it), so a GET response can be PUT back as is.
 */
export function validateItem(body: unknown, idFromPath: string | undefined, now: EpochMs): ItemValidation {
  const errors: CatalogFieldError[] = [];
  if (!isPlainObject(body)) return { errors: [{ field: '', message: 'an item must be a JSON object' }] };

  for (const key in body) {
    if (!ITEM_FIELDS.includes(key)) {
      errors.push({ field: key, message: `unknown field "${key}"; accepted fields: ${ITEM_FIELD_LIST}` });
    }
  }

  const id = readEntityId(body['id'], idFromPath, errors);

  let categories: readonly string[] = [];
  const categoriesValue = body['categories'];
  const categoryValue = body['category'];
  if (categoriesValue != null && categoryValue != null) {
    errors.push({ field: 'category', message: 'give either categories or category, not both' });
  } else if (categoriesValue != null) {
    categories = readLabels(categoriesValue, 'categories', errors);
  } else if (categoryValue != null) {
    const category = keep(readString(categoryValue, 'category', MAX_LABEL_LENGTH), errors);
    if (category !== undefined) categories = [category];
  }

  const tagsValue = body['tags'];
  const tags = tagsValue == null ? [] : readLabels(tagsValue, 'tags', errors);

  let price: number | null = null;
  const priceValue = body['price'];
  if (priceValue != null) {
    if (typeof priceValue === 'number' && Number.isFinite(priceValue) && priceValue >= 0) price = priceValue;
    else errors.push({ field: 'price', message: 'price must be a finite number ≥ 0, or null' });
  }

  let available = true;
  const availableValue = body['available'];
  if (availableValue != null) {
    if (typeof availableValue === 'boolean') available = availableValue;
    else errors.push({ field: 'available', message: 'available must be true or false' });
  }

  const createdAt =
    body['created_at'] == null ? now : keep(readTime(body['created_at'], 'created_at'), errors);
  const expiresAt =
    body['expires_at'] == null ? null : keep(readTime(body['expires_at'], 'expires_at'), errors);
  const attributes = readRecord(body['attributes'], 'attributes', errors);

  if (errors.length > 0 || id === undefined || createdAt === undefined || expiresAt === undefined) {
    return { errors };
  }
  return {
    item: { id, categories, tags, price, available, createdAt, expiresAt, attributes, updatedAt: now },
    createdAtGiven: body['created_at'] != null,
  };
}

/**
 * Validates a bulk body `{"items": [...]}`: valid items are kept, invalid ones reported by index.
 * A body that is not such an object, or holds more than `maxItems` (default 1,000), is refused whole.
 */
export function validateItemBatch(
  body: unknown,
  now: EpochMs,
  opts: { readonly maxItems?: number } = {},
): ItemBatchValidation {
  if (!isPlainObject(body)) return { fatal: 'the body must be a JSON object: {"items": [...]}' };
  for (const key in body) {
    if (key !== 'items') return { fatal: `a bulk body holds only "items"; unexpected field "${key}"` };
  }
  const list = body['items'];
  if (!Array.isArray(list)) return { fatal: '"items" must be an array of item objects' };
  const maxItems = opts.maxItems ?? MAX_ITEMS_PER_REQUEST;
  if (list.length > maxItems)
    return { fatal: `too many items: ${list.length}; at most ${maxItems} per request` };

  const items: (ValidItem & { index: number })[] = [];
  const errors: IndexedFieldError[] = [];
  for (let index = 0; index < list.length; index++) {
    const result = validateItem(list[index], undefined, now);
    if ('item' in result) items.push({ index, ...result });
    else
      for (const error of result.errors) errors.push({ index, field: error.field, message: error.message });
  }
  return { items, errors };
}

/**
 * Validates a user body for `PUT /v1/users/:id`: `id` (optional, must match the path), `traits` and
 * `created_at` (default `now`), with `updated_at` accepted and ignored like an item's. Keeping an
 * existing user's `createdAt` when the body omits it is the store's business.
 */
export function validateUser(body: unknown, idFromPath: string | undefined, now: EpochMs): UserValidation {
  const errors: CatalogFieldError[] = [];
  if (!isPlainObject(body)) return { errors: [{ field: '', message: 'a user must be a JSON object' }] };
  for (const key in body) {
    if (!USER_FIELDS.includes(key)) {
      errors.push({ field: key, message: `unknown field "${key}"; accepted fields: ${USER_FIELD_LIST}` });
    }
  }
  const id = readEntityId(body['id'], idFromPath, errors);
  const traits = readRecord(body['traits'], 'traits', errors);
  const createdAt =
    body['created_at'] == null ? now : keep(readTime(body['created_at'], 'created_at'), errors);
  if (errors.length > 0 || id === undefined || createdAt === undefined) return { errors };
  return { user: { id, traits, createdAt, updatedAt: now } };
}

/** The id from the body and/or the path; `undefined` after recording why there is none. */
function readEntityId(
  bodyValue: unknown,
  idFromPath: string | undefined,
  errors: CatalogFieldError[],
): string | undefined {
  const pathId = idFromPath === undefined ? undefined : keep(readId(idFromPath, 'id'), errors);
  if (bodyValue == null) {
    if (idFromPath === undefined) errors.push({ field: 'id', message: 'id is required' });
    return pathId;
  }
  const bodyId = keep(readId(bodyValue, 'id'), errors);
  if (bodyId !== undefined && pathId !== undefined && bodyId !== pathId) {
    errors.push({ field: 'id', message: `id "${bodyId}" does not match the id in the path "${pathId}"` });
    return undefined;
  }
  return pathId ?? bodyId;
}

/** Categories or tags: an array of labels. Repeats are dropped (first occurrence kept, order kept). */
function readLabels(value: unknown, field: string, errors: CatalogFieldError[]): readonly string[] {
  if (!Array.isArray(value)) {
    errors.push({ field, message: `${field} must be an array of strings` });
    return [];
  }
  // A Set rather than includes(): a body with very many distinct labels must not cost quadratic time.
  const labels = new Set<string>();
  for (let i = 0; i < value.length; i++) {
    const label = keep(readString(value[i], `${field}[${i}]`, MAX_LABEL_LENGTH), errors);
    if (label !== undefined) labels.add(label);
  }
  return [...labels];
}

const EMPTY_RECORD: ScalarRecord = Object.freeze({});

function readRecord(value: unknown, field: string, errors: CatalogFieldError[]): ScalarRecord {
  if (value == null) return EMPTY_RECORD;
  return keep(readScalarRecord(value, field), errors) ?? EMPTY_RECORD;
}

/** The value, or `undefined` after recording the error. */
function keep<T>(result: T | FieldError, errors: CatalogFieldError[]): T | undefined {
  if (result instanceof FieldError) {
    errors.push({ field: result.field, message: result.message });
    return undefined;
  }
  return result;
}
