import { StoreSchemaError } from './errors.js';
import { quoteIdent, type PgDb, type PgTx } from './postgres-db.js';
import { EVENT_TABLES_V1, EVENT_TABLES_V2 } from './postgres-events.js';
import { RECORD_TABLES_V1 } from './postgres-records.js';

/**
 * One step of the PostgreSQL schema's history, as `sqlite-schema.ts` keeps SQLite's: released steps are
 * never edited; a change is a new step. Each runs in the transaction that records it.
 */
export interface PgMigration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'events, catalog, impressions, activity; experiments, decisions, keys, artifacts, leases',
    sql: `${EVENT_TABLES_V1}\n${RECORD_TABLES_V1}`,
  },
  {
    version: 2,
    description: 'user activity indexed by hour, so that the catch-up updates users in place',
    sql: EVENT_TABLES_V2,
  },
];

export const PG_LATEST_SCHEMA_VERSION = PG_MIGRATIONS.at(-1)?.version ?? 0;

/** The `meta` key that records which migrations have run (as in SQLite); not writable through `setMeta`. */
export const PG_SCHEMA_VERSION_KEY = 'schema_version';

/**
 * Brings the store's schema up to date. Several instances starting at once serialise on a transaction-level
 * advisory lock keyed by the schema name, so exactly one runs each step and the others find it done.
 */
export async function migratePostgres(db: PgDb): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`attune-migrate:${db.schema}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(db.schema)}`);
    await tx.query(`SET LOCAL search_path TO ${quoteIdent(db.schema)}`);
    await tx.query('CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)');
    let version = await readVersion(tx);
    if (version > PG_LATEST_SCHEMA_VERSION) throw newerSchema(db.schema, version);
    for (const migration of PG_MIGRATIONS) {
      if (migration.version <= version) continue;
      await tx.query(migration.sql);
      version = migration.version;
    }
    await tx.query(
      'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
      [PG_SCHEMA_VERSION_KEY, JSON.stringify(version)],
    );
    return version;
  });
}

/** Read-only stores migrate nothing: they check the schema is one this build reads. */
export async function assertReadablePostgres(db: PgDb): Promise<void> {
  const rows = await db.query<{ exists: boolean }>(
    "SELECT to_regclass(format('%I.meta', $1::text)) IS NOT NULL AS exists",
    [db.schema],
  );
  if (!rows[0]?.exists) {
    throw new StoreSchemaError(
      `The ${db.where} has no Attune schema yet; start the engine once to create it`,
    );
  }
  const version = await readVersion(db);
  if (version > PG_LATEST_SCHEMA_VERSION) throw newerSchema(db.schema, version);
  if (version < PG_LATEST_SCHEMA_VERSION) {
    throw new StoreSchemaError(
      `The schema ${db.schema} is at version ${version}; start the engine to migrate it`,
    );
  }
}

async function readVersion(tx: PgTx): Promise<number> {
  const rows = await tx.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [
    PG_SCHEMA_VERSION_KEY,
  ]);
  return rows[0] ? Number(JSON.parse(rows[0].value)) : 0;
}

function newerSchema(schema: string, version: number): StoreSchemaError {
  return new StoreSchemaError(
    `The schema ${schema} is at version ${version}, newer than this build knows (${PG_LATEST_SCHEMA_VERSION}); ` +
      'upgrade Attune',
  );
}
