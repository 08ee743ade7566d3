import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { describe, expect, it } from 'vitest';

import { postgresReachable, testSchemaName, testStoreUrl, TEST_DATABASE_URL } from './postgres.testing.js';
import { acquireRoleLock, type RoleLock } from './role-lock.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

const available = await postgresReachable();

/** The advisory lock needs no store, only the schema's name to key the lock by. */
function pgTarget(): { url: string; store: null } {
  const schema = testSchemaName('lock');
  return { url: testStoreUrl(schema), store: null };
}

/** Resolves with the lock once acquired; `waiting` collects who it saw holding the lock meanwhile. */
function contender(
  url: string,
  store: Store | null,
  holder: string,
  waiting: (string | null)[],
  signal?: AbortSignal,
) {
  return acquireRoleLock(url, {
    ...(store ? { store } : {}),
    role: 'worker',
    holder,
    retryMs: 100,
    onWaiting: (heldBy) => waiting.push(heldBy),
    ...(signal ? { signal } : {}),
  });
}

describe.skipIf(!available)('role lock on PostgreSQL (advisory lock)', () => {
  it('lets one holder in, makes the second wait naming the first, and hands over on release', async () => {
    const { url, store } = pgTarget();
    const first = await contender(url, store, 'first', []);
    const waiting: (string | null)[] = [];
    let second: RoleLock | null = null;
    const secondTurn = contender(url, store, 'second', waiting).then((lock) => (second = lock));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(second).toBeNull();
    expect(waiting).toEqual(['attune worker: first']);
    const released = Date.now();
    await first.release();
    await secondTurn;
    expect(Date.now() - released).toBeLessThan(1_000);
    await second!.release();
  });

  it('hands over when the holder’s session dies, and tells the old holder it lost the lock', async () => {
    const { url, store } = pgTarget();
    const first = await contender(url, store, 'doomed', []);
    let second: RoleLock | null = null;
    const secondTurn = contender(url, store, 'heir', []).then((lock) => (second = lock));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(second).toBeNull();
    // What a crashed process or a lost machine looks like from the server: the session ends.
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'attune worker: doomed'",
    );
    await admin.end();
    const lost = await Promise.race([first.lost, new Promise<null>((r) => setTimeout(() => r(null), 5_000))]);
    expect(lost).toBeInstanceOf(Error);
    await secondTurn;
    expect(second).not.toBeNull();
    await second!.release();
  });

  it('hands over within seconds when the holding process is killed with SIGKILL', async () => {
    const { url, store } = pgTarget();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { acquireRoleLock } = await import(${JSON.stringify(new URL('./role-lock.ts', import.meta.url).pathname)});
         await acquireRoleLock(${JSON.stringify(url)}, { role: 'worker', holder: 'child' });
         process.stdout.write('locked\\n');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      const waiting: (string | null)[] = [];
      const heir = contender(url, store, 'heir', waiting);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(waiting).toEqual(['attune worker: child']);
      const killed = Date.now();
      child.kill('SIGKILL');
      const lock = await heir;
      expect(Date.now() - killed).toBeLessThan(3_000);
      await lock.release();
    } finally {
      // Never left behind holding the lock's session, whatever failed above.
      child.kill('SIGKILL');
    }
  });

  it('stops waiting when aborted', async () => {
    const { url, store } = pgTarget();
    const first = await contender(url, store, 'holder', []);
    const abort = new AbortController();
    const waiting = contender(url, store, 'patient', [], abort.signal);
    abort.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    await first.release();
  });
});

describe('role lock on the embedded store (lease)', () => {
  it('lets one holder in and hands over on release', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-lock-'));
    const store = openSqliteStore({ dataDir: dir });
    try {
      const url = `sqlite:${dir}`;
      const first = await contender(url, store, 'first', []);
      const waiting: (string | null)[] = [];
      let second: RoleLock | null = null;
      const secondTurn = contender(url, store, 'second', waiting).then((lock) => (second = lock));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(second).toBeNull();
      expect(waiting).toEqual(['first']);
      await first.release();
      await secondTurn;
      expect(second).not.toBeNull();
      await second!.release();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
