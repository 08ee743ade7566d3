import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { openPostgresStore, type PostgresStore } from './postgres.js';

/*
 * For tests that need a real PostgreSQL: where it is, whether it answers, and a fresh schema per store,
 * dropped afterwards. With no server, such suites are skipped and say so, unless ATTUNE_REQUIRE_SERVICES
 * is set (CI), where a missing server fails them instead.
 */

export const TEST_DATABASE_URL =
  process.env.ATTUNE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<boolean> | undefined;

/** Whether the test server answers (asked once per test file). */
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch (error) {
      if (process.env.ATTUNE_REQUIRE_SERVICES) {
        throw new Error(
          `PostgreSQL is required (ATTUNE_REQUIRE_SERVICES) but did not answer: ${String(error)}`,
          { cause: error },
        );
      }
      console.warn(`PostgreSQL at ${TEST_DATABASE_URL} did not answer; skipping the PostgreSQL suites`);
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/** A schema name no other test uses. */
export function testSchemaName(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** The test server's URL for a schema. */
export function testStoreUrl(schema: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** Drops schemas (with everything in them) that tests made. */
export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Opens a store in a fresh schema; `dropSchemas(created)` removes them. */
export async function openTestPostgresStore(created: string[]): Promise<PostgresStore> {
  const schema = testSchemaName();
  created.push(schema);
  return openPostgresStore({ url: testStoreUrl(schema), poolSize: 4 });
}
