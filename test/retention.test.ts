import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliEngineConfig } from '../src/cli/config.js';
import { Engine, engineConfig } from '../src/engine/index.js';
import type { TrackedEvent } from '../src/events/index.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 4);

const viewed = (eventId: string, userId: string, daysAgo: number): TrackedEvent => ({
  eventId,
  name: 'product_viewed',
  userId,
  itemId: 'i1',
  timestamp: NOW - daysAgo * DAY,
  receivedAt: NOW - daysAgo * DAY,
  context: {},
  properties: {},
  requestId: null,
});

describe('a retention period for raw events', () => {
  let dir: string;
  let engine: Engine;
  afterEach(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('deletes the events older than it, in batches, and keeps the rest', async () => {
    dir = await mkdtemp(join(tmpdir(), 'attune-retention-'));
    engine = await Engine.open(
      engineConfig(`sqlite:${dir}`, {
        retrainIntervalMs: null,
        retentionMs: 30 * DAY,
        createMissingItems: true,
      }),
      undefined,
      { clock: () => NOW },
    );
    const old = Array.from({ length: 4_500 }, (_, i) => viewed(`old-${i}`, `u${i % 7}`, 40));
    const recent = Array.from({ length: 50 }, (_, i) => viewed(`new-${i}`, `u${i % 7}`, 2));
    for (let i = 0; i < old.length; i += 1000) await engine.appendEvents(old.slice(i, i + 1000));
    await engine.appendEvents(recent);
    expect(await engine.store.countEvents()).toBe(4_550);
    // More than two batches' worth go in one sweep.
    expect(await engine.expireEvents()).toBe(4_500);
    expect(await engine.store.countEvents()).toBe(50);
    const kept = await engine.userEvents('u1', 1000);
    expect(kept.every((e) => e.eventId.startsWith('new-'))).toBe(true);
    expect(await engine.expireEvents()).toBe(0);
  });

  it('is off unless configured, and read from ATTUNE_RETENTION_DAYS', async () => {
    dir = await mkdtemp(join(tmpdir(), 'attune-retention-'));
    engine = await Engine.open(engineConfig(`sqlite:${dir}`, { retrainIntervalMs: null }), undefined, {
      clock: () => NOW,
    });
    await engine.appendEvents([viewed('ancient', 'u1', 4000)]);
    expect(await engine.expireEvents()).toBe(0);
    expect(await engine.store.countEvents()).toBe(1);
    expect(cliEngineConfig(undefined, {}, { ATTUNE_RETENTION_DAYS: '90' }).retentionMs).toBe(90 * DAY);
    expect(cliEngineConfig(undefined, {}, { ATTUNE_RETENTION_DAYS: 'off' }).retentionMs).toBeNull();
    expect(() => cliEngineConfig(undefined, {}, { ATTUNE_RETENTION_DAYS: '0' })).toThrow(
      /ATTUNE_RETENTION_DAYS/,
    );
  });
});
