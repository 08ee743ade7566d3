import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TrackedEvent } from '../src/events/index.js';
import { openSqliteStore, type SqliteStore } from '../src/store/index.js';
import { TRAINING_LEASE } from '../src/training/index.js';

/**
 * `attune train` beside another trainer on the same store, as a user runs it: the compiled CLI (`npm test`
 * builds it first). The other trainer is stood for by holding the training lease from this process.
 */
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'attune-train-cli-'));
const HOLDER = 'attune serve (the test)';
let store: SqliteStore;

const env = { ...process.env, ATTUNE_DATA_DIR: dir, ATTUNE_SELECTION: 'fixed', LOG_LEVEL: 'warn' };

beforeAll(async () => {
  store = openSqliteStore({ dataDir: dir });
  const events: TrackedEvent[] = [];
  for (let user = 0; user < 20; user++) {
    for (let j = 0; j < 5; j++) {
      events.push({
        eventId: `e-${user}-${j}`,
        name: 'purchased',
        userId: `u${user}`,
        itemId: `i${(user % 2) * 10 + ((user + j) % 10)}`,
        timestamp: 1_700_000_000_000 + user * 1000 + j,
        receivedAt: 1_700_000_000_000 + user * 1000 + j,
        context: {},
        properties: {},
        requestId: null,
      });
    }
  }
  await store.appendEvents(events, { createMissingItems: true });
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('attune train while another trainer holds the training lease', () => {
  it('exits with status 75, naming the holder and since when, and trains nothing', async () => {
    const held = await store.acquireLease(TRAINING_LEASE, HOLDER, 60_000);
    expect(held.acquired).toBe(true);
    try {
      const since = held.acquired ? new Date(held.lease.acquiredAt).toISOString() : '';
      await expect(run(process.execPath, [CLI, 'train'], { env, timeout: 60_000 })).rejects.toMatchObject({
        code: 75,
        stdout: '',
        stderr: expect.stringContaining(`${HOLDER} has held the training lease since ${since}`),
      });
      expect(await store.listArtifacts('bundle')).toEqual([]);
    } finally {
      await store.releaseLease(TRAINING_LEASE, HOLDER);
    }
  });

  it('with --wait, waits for the lease and then trains', async () => {
    await store.acquireLease(TRAINING_LEASE, HOLDER, 60_000);
    const child = spawn(process.execPath, [CLI, 'train', '--wait', '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!stderr.includes('waiting')) {
      expect(Date.now(), stderr).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(stderr).toContain(HOLDER);
    expect(await store.listArtifacts('bundle')).toEqual([]);
    await store.releaseLease(TRAINING_LEASE, HOLDER);
    expect(await exited, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ version: 1, position: await store.lastEventSeq() });
    // The run freed the lease when it ended.
    const after = await store.acquireLease(TRAINING_LEASE, 'next', 60_000);
    expect(after.acquired).toBe(true);
    await store.releaseLease(TRAINING_LEASE, 'next');
  });

  it('prints a summary by default, with progress on stderr and no 0/1 counters', async () => {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'train'], { env, timeout: 60_000 });
    const versions = await store.listArtifacts('bundle');
    const version = Math.max(...versions.map((v) => v.version));
    expect(stdout).toMatch(new RegExp(`^trained model version ${version} in \\d`));
    // Selection is fixed in this test's environment: the configured model, named.
    expect(stdout).toMatch(/\n {2}model +\w+/);
    expect(stdout).toMatch(
      /\n {2}data +100 events · 20 users · 20 items · \d+ interactions \(through event #100\)\n/,
    );
    expect(stdout).toMatch(/\n {2}saved +version \d+ in /);
    expect(stdout).toContain(`version ${version} in ${dir};`);
    expect(stderr).toContain('reading events…');
    expect(stderr).toMatch(/reading events: done in \d/);
    expect(stderr).not.toMatch(/\b[01]\/1\b/);
  });
});
