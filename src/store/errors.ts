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

/**
 * The database cannot be reached (connection refused, lost, or no connection free in time). The API answers
 * 503 with this message, at once rather than after a hung request; the store reconnects by itself once the
 * database is back, so nothing needs restarting.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`The database is unavailable (${detail}); try again shortly`, options);
  }
}

/** A value the backend cannot hold (PostgreSQL text cannot contain U+0000), named by its field. */
export class StoreValueError extends Error {
  override readonly name = 'StoreValueError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}
