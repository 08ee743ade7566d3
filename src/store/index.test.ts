import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import {
  DATABASE_FILE,
  SqliteStore,
  StoreUnavailableError,
  appStoreUrl,
  openStore,
  parseStoreUrl,
  storeUrlFromDataDir,
} from './index.js';
import { dropSchemas, postgresReachable, testSchemaName, testStoreUrl } from './postgres.testing.js';

const postgres = await postgresReachable();
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('parseStoreUrl', () => {
  it('reads sqlite data directories in the plain and the URL spelling', () => {
    expect(parseStoreUrl('sqlite:./.attune')).toEqual({ backend: 'sqlite', dataDir: './.attune' });
    expect(parseStoreUrl('sqlite:/var/lib/attune')).toEqual({
      backend: 'sqlite',
      dataDir: '/var/lib/attune',
    });
    expect(parseStoreUrl('sqlite:///var/lib/attune')).toEqual({
      backend: 'sqlite',
      dataDir: '/var/lib/attune',
    });
    expect(parseStoreUrl('SQLITE:data')).toEqual({ backend: 'sqlite', dataDir: 'data' });
  });

  it('recognises postgres URLs', () => {
    expect(parseStoreUrl('postgres://u:p@db/attune')).toEqual({
      backend: 'postgres',
      url: 'postgres://u:p@db/attune',
    });
    expect(parseStoreUrl('postgresql://db/attune').backend).toBe('postgres');
  });

  it('rejects what it cannot open, naming the expected forms', () => {
    expect(() => parseStoreUrl('sqlite:')).toThrow(/names no data directory/);
    expect(() => parseStoreUrl('sqlite://host/dir')).toThrow(/no host/);
    expect(() => parseStoreUrl('mysql://db')).toThrow(/unsupported store scheme "mysql:".*sqlite:<data-dir>/);
    expect(() => parseStoreUrl('./.attune')).toThrow(/no scheme/);
  });
});

describe('openStore', () => {
  it('opens a SqliteStore in the named data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-open-'));
    dirs.push(dir);
    const store = await openStore(storeUrlFromDataDir(join(dir, 'data')));
    try {
      expect(store).toBeInstanceOf(SqliteStore);
      expect(store.backend).toBe('sqlite');
      expect((store as SqliteStore).path).toBe(join(dir, 'data', DATABASE_FILE));
    } finally {
      await store.close();
    }
    const reader = await openStore(storeUrlFromDataDir(join(dir, 'data')), { readonly: true });
    await reader.close();
  });

  it('says a PostgreSQL server that does not answer is unavailable, without echoing credentials', async () => {
    const attempt = openStore('postgres://attune:s3cret@127.0.0.1:1/attune');
    await expect(attempt).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(attempt).rejects.not.toThrow(/s3cret/);
  });

  it.skipIf(!postgres)('opens each app of a PostgreSQL store in a schema of its own', async () => {
    const schema = testSchemaName('apps');
    const app = appStoreUrl(testStoreUrl(schema), 'beta-2');
    expect(new URL(app).searchParams.get('schema')).toBe(`${schema}-beta-2`);
    const [main, beta] = [await openStore(testStoreUrl(schema)), await openStore(app)];
    try {
      expect([main.backend, beta.backend]).toEqual(['postgres', 'postgres']);
      await beta.putItems([
        {
          id: 'only-in-beta',
          categories: [],
          tags: [],
          price: null,
          available: true,
          createdAt: 0,
          expiresAt: null,
          attributes: {},
          updatedAt: 0,
        },
      ]);
      expect(await beta.countItems()).toBe(1);
      expect(await main.countItems()).toBe(0);
    } finally {
      await Promise.all([main.close(), beta.close()]);
      await dropSchemas([schema, `${schema}-beta-2`]);
    }
  });
});

describe('storeUrlFromDataDir', () => {
  it('makes an absolute sqlite URL that parses back to the directory', () => {
    const url = storeUrlFromDataDir('.attune');
    expect(url).toBe(`sqlite:${resolve('.attune')}`);
    expect(parseStoreUrl(url)).toEqual({ backend: 'sqlite', dataDir: resolve('.attune') });
  });
});
