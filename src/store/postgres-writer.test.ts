import { afterAll, describe, expect, it } from 'vitest';

import { StoreClosedError, StoreUnavailableError } from './errors.js';
import { PgDb, type PgDbOptions } from './postgres-db.js';
import { dropSchemas, postgresReachable, testSchemaName, TEST_DATABASE_URL } from './postgres.testing.js';
import { PgLogWriter } from './postgres-writer.js';

const available = await postgresReachable();

describe.skipIf(!available)(
  'PgLogWriter: the PostgreSQL store writes its logs from a thread of their own',
  () => {
    const schemas: string[] = [];
    afterAll(() => dropSchemas(schemas));

    /** A fresh schema with one table, read back through a connection of the test's own. */
    async function target(): Promise<{ options: PgDbOptions; rows: () => Promise<string[]> }> {
      const schema = testSchemaName('writer');
      schemas.push(schema);
      const options: PgDbOptions = { connectionString: TEST_DATABASE_URL, schema, readonly: false };
      const db = new PgDb(options);
      await db.execute(`CREATE SCHEMA "${schema}"`);
      await db.execute(`CREATE TABLE "${schema}".log (id text PRIMARY KEY, n int NOT NULL)`);
      return {
        options,
        rows: async () => {
          const found = await db.query<{ id: string }>('SELECT id FROM log ORDER BY id');
          return found.map((row) => row.id);
        },
      };
    }

    const INSERT = 'INSERT INTO log (id, n) SELECT * FROM unnest($1::text[], $2::int[])';

    it('runs a statement once per chunk of parameters, all chunks in one transaction', async () => {
      const { options, rows } = await target();
      const writer = new PgLogWriter(options);
      try {
        await writer.run(INSERT, [
          [
            ['a', 'b'],
            [1, 2],
          ],
        ]);
        await writer.run(INSERT, [
          [['c'], [3]],
          [
            ['d', 'e'],
            [4, 5],
          ],
        ]);
        expect(await rows()).toEqual(['a', 'b', 'c', 'd', 'e']);
        // The second chunk collides with a stored id: the first chunk is rolled back with it, and the
        // database's own message and SQLSTATE come back to the caller.
        const refused = writer.run(INSERT, [
          [['f'], [6]],
          [['a'], [7]],
        ]);
        await expect(refused).rejects.toThrow(/duplicate key value violates unique constraint/);
        await expect(refused).rejects.toMatchObject({ code: '23505' });
        expect(await rows()).toEqual(['a', 'b', 'c', 'd', 'e']);
      } finally {
        await writer.close();
      }
    });

    it('answers every write in flight before it closes, and refuses writes after', async () => {
      const { options, rows } = await target();
      const writer = new PgLogWriter(options);
      const writes = Array.from({ length: 20 }, (_, k) => writer.run(INSERT, [[[`w${k}`], [k]]]));
      await writer.close();
      await Promise.all(writes);
      expect(await rows()).toHaveLength(20);
      await expect(writer.run(INSERT, [[['late'], [0]]])).rejects.toThrow(StoreClosedError);
      await writer.close();
    });

    it('fails fast with StoreUnavailableError when the database is not there, as inline writes do', async () => {
      const writer = new PgLogWriter({
        connectionString: 'postgres://postgres@127.0.0.1:1/test',
        schema: 'nowhere',
        readonly: false,
        connectTimeoutMs: 500,
      });
      try {
        const started = Date.now();
        await expect(writer.run(INSERT, [[['x'], [1]]])).rejects.toThrow(StoreUnavailableError);
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        await writer.close();
      }
    });
  },
);
