import pg from 'pg';

/*
 * The machine's services the production-path benchmarks run against (`cluster`, `scale`, `tail`), each
 * overridable, and the SQL they run beside the engine (reading what it stored, dropping their schema).
 */

export const BENCH_DATABASE_URL =
  process.env['ATTUNE_BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BENCH_REDIS_URL = process.env['ATTUNE_BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const BENCH_NATS_URL = process.env['ATTUNE_BENCH_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** One statement on a connection of its own. */
export async function benchSql<Row extends object>(text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** The bench's database URL with its own schema (`?schema=`), for `DATABASE_URL`. */
export function benchStoreUrl(schema: string): string {
  const url = new URL(BENCH_DATABASE_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** A server's environment on PostgreSQL + Redis: its own schema and its own key prefix, both named `schema`. */
export function benchServiceEnv(schema: string): Record<string, string> {
  return {
    DATABASE_URL: benchStoreUrl(schema),
    REDIS_URL: BENCH_REDIS_URL,
    ATTUNE_REDIS_PREFIX: `attune-bench:${schema}:`,
  };
}

export async function dropBenchSchema(schema: string): Promise<void> {
  await benchSql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
