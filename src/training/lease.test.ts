import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openSqliteStore, type Store } from '../store/index.js';
import { TRAINING_LEASE, TrainingLease, TrainingLeaseHeldError } from './lease.js';

const listener = { onLost: () => undefined, onError: () => undefined };
const holderFor = (pid: number, host = hostname()) => `attune (pid ${pid} on ${host}, 0badf00d)`;

describe('TrainingLease', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attune-lease-'));
    store = openSqliteStore({ dataDir: dir });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes over at once a lease whose holder was a process on this machine that is gone (kill -9)', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await store.acquireLease(TRAINING_LEASE, holderFor(gone), 600_000);
    const lease = await TrainingLease.acquire(store, 'next trainer', 600_000, listener);
    expect(lease.lease.holder).toBe('next trainer');
    await lease.release();
  });

  it('waits for the expiry of a live holder, another machine’s, or one it cannot read', async () => {
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      for (const holder of [holderFor(alive.pid!), holderFor(1 << 22, 'another-host'), 'attune train']) {
        await store.acquireLease(TRAINING_LEASE, holder, 600_000);
        await expect(TrainingLease.acquire(store, 'next trainer', 600_000, listener)).rejects.toBeInstanceOf(
          TrainingLeaseHeldError,
        );
        await store.releaseLease(TRAINING_LEASE, holder);
      }
    } finally {
      alive.kill('SIGKILL');
    }
  });
});
