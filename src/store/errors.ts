/**
 * Errors every store backend throws for the same situations, so callers (API handlers, the CLI, the
 * training worker) can tell them apart with `instanceof` whatever the backend.
 */

/** A method was called after `close()`. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  constructor(where: string) {
    super(`The store (${where}) is closed; open it again to use it`);
  }
}

/** A write was attempted on a store opened read-only (as training workers open it). */
export class StoreReadonlyError extends Error {
  override readonly name = 'StoreReadonlyError';
  constructor(where: string, operation: string) {
    super(`Cannot ${operation}: the store (${where}) was opened read-only`);
  }
}

/** The database was written by a newer Attune whose schema this build does not know. */
export class StoreSchemaError extends Error {
  override readonly name = 'StoreSchemaError';
}
