import pg from 'pg';

import { StoreClosedError, StoreReadonlyError, StoreUnavailableError, StoreValueError } from './errors.js';

/*
 * The PostgreSQL connection layer every part of the PostgreSQL store goes through: one pool, every
 * connection pinned to the store's schema, numbers read as numbers, and the errors that mean "the database
 * is not there" turned into `StoreUnavailableError` so the API can answer 503 at once.
 */

/** A schema name: the store's namespace inside the database (one per app, one per test). */
const SCHEMA_NAME = /^[a-z_][a-z0-9_-]{0,62}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`"${schema}" is not a schema name (lowercase letters, digits, "_" and "-", at most 63)`);
  }
}

/** A quoted identifier; schema names are checked first, so this only guards against a future caller. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** bigint (int8) and numeric come back as strings by default; every such column here holds a safe integer. */
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const parseInteger = (text: string): number => {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`PostgreSQL returned ${text}, beyond a safe integer`);
  return value;
};
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID || oid === NUMERIC_OID
      ? parseInteger
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** SQLSTATE classes and node errors that mean the server is gone or refusing, not that the query is wrong. */
const UNAVAILABLE_STATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection terminated unexpectedly',
];

export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_STATES.has(code) || UNAVAILABLE_CODES.has(code))) return true;
  return UNAVAILABLE_MESSAGES.some((message) => error.message.includes(message));
}

function translate(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isUnavailable(error)) return error;
  const detail = (error as { code?: string }).code ?? (error as Error).message;
  return new StoreUnavailableError(String(detail), { cause: error });
}

export interface PgDbOptions {
  /** `postgres://…` without Attune's own parameters. */
  readonly connectionString: string;
  readonly schema: string;
  readonly readonly: boolean;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
  /** How long a request waits for a connection before `StoreUnavailableError` (default 2 s). */
  readonly connectTimeoutMs?: number;
}

/** A connection inside a transaction: the same `query` as `PgDb`, on that one connection. */
export interface PgTx {
  query<Row extends object = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<Row[]>;
  /** The statement's row count (UPDATE, DELETE, INSERT … ON CONFLICT DO NOTHING). */
  execute(text: string, values?: readonly unknown[]): Promise<number>;
}

/** Where errors say a PostgreSQL store is: never the URL, which may carry a password. */
export function pgWhere(options: Pick<PgDbOptions, 'schema'>): string {
  return `postgres schema ${options.schema}`;
}

export class PgDb implements PgTx {
  /** What opened it: a thread of the store's own (`PgLogWriter`) opens its connections with the same. */
  readonly options: PgDbOptions;
  #pool: pg.Pool | null;

  constructor(options: PgDbOptions) {
    assertSchemaName(options.schema);
    this.options = options;
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2_000,
      idleTimeoutMillis: 30_000,
      types: TYPES,
      application_name: 'attune',
      // Every connection is pinned to the schema from its start-up packet, before any query runs on it.
      // Schema names hold no spaces or backslashes (`assertSchemaName`), the only characters this escapes.
      options: `-c search_path=${quoteIdent(this.schema)}`,
    });
    // An idle connection that the server drops (restart) emits here; without a listener it would crash.
    pool.on('error', () => undefined);
    this.#pool = pool;
  }

  get schema(): string {
    return this.options.schema;
  }

  get readonly(): boolean {
    return this.options.readonly;
  }

  get where(): string {
    return pgWhere(this.options);
  }

  get closed(): boolean {
    return this.#pool === null;
  }

  async query<Row extends object = Record<string, unknown>>(
    text: string,
    values: readonly unknown[] = [],
  ): Promise<Row[]> {
    const pool = this.#openPool();
    try {
      const result = await pool.query<Row>(text, values as unknown[]);
      return result.rows;
    } catch (error) {
      throw translate(error);
    }
  }

  async execute(text: string, values: readonly unknown[] = []): Promise<number> {
    const pool = this.#openPool();
    try {
      const result = await pool.query(text, values as unknown[]);
      return result.rowCount ?? 0;
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it
   * throws. A connection that broke midway is discarded rather than returned to the pool.
   */
  async transaction<T>(work: (tx: PgTx) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
    const pool = this.#openPool();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw translate(error);
    }
    let broken: Error | undefined;
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const tx: PgTx = {
        query: async <Row extends object>(text: string, values: readonly unknown[] = []) =>
          (await client.query<Row>(text, values as unknown[])).rows,
        execute: async (text, values = []) => (await client.query(text, values as unknown[])).rowCount ?? 0,
      };
      const result = await work(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (isUnavailable(error)) broken = error as Error;
      else await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
      throw translate(error);
    } finally {
      client.release(broken);
    }
  }

  /** Rejects writes on a store opened read-only, as the SQLite store does. */
  assertWritable(operation: string): void {
    this.#openPool();
    if (this.readonly) throw new StoreReadonlyError(this.where, operation);
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    if (!pool) return;
    this.#pool = null;
    await pool.end();
  }

  #openPool(): pg.Pool {
    if (!this.#pool) throw new StoreClosedError(this.where);
    return this.#pool;
  }
}

/**
 * PostgreSQL text cannot hold U+0000 (JSON text can: JSON.stringify escapes it). Ids and names are stored
 * as text, so one carrying it is refused with the field named instead of failing deep inside the driver.
 */
export function assertText(field: string, value: string): string {
  if (value.includes('\u0000')) throw new StoreValueError(field, 'must not contain the character U+0000');
  return value;
}
