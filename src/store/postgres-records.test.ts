import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { DecisionOutcome } from '../decisions/points/log-types.js';
import { StoreReadonlyError, StoreValueError } from './errors.js';
import { openPostgresStore, type PostgresStore } from './postgres.js';
import { PG_LATEST_SCHEMA_VERSION } from './postgres-schema.js';
import { dropSchemas, postgresReachable, testSchemaName, testStoreUrl } from './postgres.testing.js';
import { decision } from './store.contract.js';

/*
 * What the contract suite cannot show with one store: the record tables stay atomic across connections
 * (two stores on one schema stand for two API instances), and PostgreSQL's own limits are met with clear
 * errors. The contract itself runs in postgres.test.ts.
 */

const available = await postgresReachable();
const created: string[] = [];

afterAll(async () => {
  if (available) await dropSchemas(created);
});

const T0 = Date.UTC(2025, 0, 1);
const outcome = (reward: number): DecisionOutcome => ({ reward, at: T0 + reward, source: 'explicit' });

describe.skipIf(!available)('PostgreSQL record tables across instances', () => {
  let url: string;
  let a: PostgresStore;
  let b: PostgresStore;

  beforeEach(async () => {
    const schema = testSchemaName('rec');
    created.push(schema);
    url = testStoreUrl(schema);
    // Both open (and migrate) at once, as instances starting together do.
    [a, b] = await Promise.all([
      openPostgresStore({ url, poolSize: 4 }),
      openPostgresStore({ url, poolSize: 4 }),
    ]);
  });

  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('saves and loads a model larger than one read slice, byte for byte', async () => {
    // 8 MiB slices: this takes three, the last one short. (A bundle of a million users' factors is ~256 MiB;
    // read whole, its hex text would pass the driver's 512 MiB string limit.)
    const payload = new Uint8Array(20 * 1024 * 1024 + 12_345);
    for (let i = 0; i < payload.length; i += 4096) payload[i] = (i / 4096) % 251;
    payload[payload.length - 1] = 7;
    const version = await a.saveArtifact({ name: 'bundle', createdAt: T0, meta: { big: true }, payload });
    const loaded = await b.loadArtifact('bundle', version);
    expect(loaded?.payload.length).toBe(payload.length);
    expect(Buffer.from(loaded!.payload).equals(Buffer.from(payload))).toBe(true);
    expect((await b.loadArtifact('bundle'))?.version).toBe(version);
  }, 60_000);

  it('records each decision exactly once when two instances close overlapping batches in opposite orders', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `d${i}`);
    await a.appendDecisions(ids.map((id) => decision({ id })));
    const forward = ids.map((id) => ({ id, outcome: outcome(1) }));
    const backward = [...ids].reverse().map((id) => ({ id, outcome: outcome(2) }));
    const rounds = await Promise.all([
      a.closeDecisions(forward),
      b.closeDecisions(backward),
      a.closeDecisions(backward),
      b.closeDecisions(forward),
    ]);
    const recorded = rounds.flat().filter((r) => r.status === 'recorded');
    expect(recorded).toHaveLength(ids.length);
    expect(new Set(recorded.map((r) => (r.status === 'recorded' ? r.decision.id : ''))).size).toBe(
      ids.length,
    );
    // Every other close found the outcome that was recorded, and that outcome is what is stored.
    for (const result of rounds.flat()) expect(result.status).not.toBe('unknown');
    for (const result of recorded) {
      if (result.status !== 'recorded') continue;
      expect((await b.getDecision(result.decision.id))?.outcome).toEqual(result.decision.outcome);
    }
    expect(await b.decisionStats('checkout-offer')).toMatchObject({ decisions: 300, closed: 300 });
  });

  it('lets exactly one instance take a lease, and the other sees who holds it', async () => {
    const attempts = await Promise.all(
      ['a1', 'b1', 'a2', 'b2', 'a3', 'b3'].map((holder) =>
        (holder.startsWith('a') ? a : b).acquireLease('training', holder, 60_000),
      ),
    );
    const winners = attempts.filter((attempt) => attempt.acquired);
    expect(winners).toHaveLength(1);
    const lease = winners[0]!.acquired ? winners[0]!.lease : null;
    for (const attempt of attempts) if (!attempt.acquired) expect(attempt.held).toEqual(lease);
    expect(await b.releaseLease('training', lease!.holder)).toBe(true);
    expect((await a.acquireLease('training', 'a9', 60_000)).acquired).toBe(true);
  });

  it('gives concurrent saves from two instances distinct versions and keeps every payload', async () => {
    const saves = Array.from({ length: 16 }, (_, i) =>
      (i % 2 === 0 ? a : b).saveArtifact({
        name: 'bundle',
        createdAt: T0,
        meta: { i },
        payload: new Uint8Array([i]),
      }),
    );
    const versions = await Promise.all(saves);
    expect([...versions].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    for (const [i, version] of versions.entries()) {
      expect(Array.from((await b.loadArtifact('bundle', version))!.payload)).toEqual([i]);
    }
  });

  it('lets one of two writers that read the same revision win', async () => {
    await a.saveExperiment({ id: 'e', revision: 1, body: { v: 0 } }, null);
    const writes = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? a : b).saveExperiment({ id: 'e', revision: 2, body: { v: i } }, 1),
      ),
    );
    expect(writes.filter(Boolean)).toHaveLength(1);
    const creates = await Promise.all([
      a.saveDecisionPoint({ id: 'p', revision: 1, body: 'a' }, null),
      b.saveDecisionPoint({ id: 'p', revision: 1, body: 'b' }, null),
    ]);
    expect(creates.filter(Boolean)).toHaveLength(1);
  });

  it('keeps the earliest exposure when two instances upsert overlapping batches', async () => {
    const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
    const batch = (variant: string, offset: number, order: string[]) =>
      order.map((userId, i) => ({ experiment: 'x', userId, variant, at: T0 + offset + (i % 7) }));
    await Promise.all([
      a.appendExposures(batch('late', 10, users)),
      b.appendExposures(batch('early', 0, [...users].reverse())),
      a.appendExposures(batch('later', 20, [...users].reverse())),
    ]);
    const all = [];
    for await (const page of b.scanExposures('x', { batchSize: 64 })) all.push(...page);
    expect(all).toHaveLength(200);
    expect(all.every((e) => e.variant === 'early')).toBe(true);
    expect(await a.countExposures('x')).toEqual({ early: 200 });
  });

  it('numbers audit entries from both instances in one order, each batch in its own order', async () => {
    const entry = (actor: string, action: string) => ({
      at: T0,
      app: 'default',
      actor,
      action,
      target: null,
      status: 200,
    });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? a : b).appendAudit([entry(`k${i}`, 'first'), entry(`k${i}`, 'second')]),
      ),
    );
    const log = await a.listAudit({ limit: 100 });
    expect(log).toHaveLength(20);
    for (let i = 0; i < log.length; i += 2) {
      expect(log[i]!.actor).toBe(log[i + 1]!.actor);
      expect([log[i]!.action, log[i + 1]!.action]).toEqual(['first', 'second']);
      expect(log[i + 1]!.seq).toBeGreaterThan(log[i]!.seq);
    }
  });
});

describe.skipIf(!available)('PostgreSQL record tables: limits', () => {
  let store: PostgresStore;
  let url: string;

  beforeEach(async () => {
    const schema = testSchemaName('rec');
    created.push(schema);
    url = testStoreUrl(schema);
    store = await openPostgresStore({ url, poolSize: 2 });
  });

  afterEach(async () => {
    await store.close();
  });

  it('refuses U+0000 in ids and names with the field named, and stores nothing', async () => {
    await expect(store.saveExperiment({ id: 'a\u0000b', revision: 1, body: {} }, null)).rejects.toThrow(
      StoreValueError,
    );
    await expect(
      store.appendDecisions([decision({ id: 'ok' }), decision({ id: 'x', userId: 'u\u0000' })]),
    ).rejects.toThrow(/decision userId/);
    expect(await store.getDecision('ok')).toBeNull();
    await expect(
      store.appendExposures([{ experiment: 'e', userId: 'u', variant: 'v\u0000', at: T0 }]),
    ).rejects.toThrow(/exposure variant/);
    await expect(store.acquireLease('training', 'h\u0000', 1000)).rejects.toThrow(/lease holder/);
    await expect(
      store.saveArtifact({ name: 'n\u0000', createdAt: T0, meta: {}, payload: new Uint8Array(0) }),
    ).rejects.toThrow(/artifact name/);
    // JSON text is fine: JSON.stringify escapes the character.
    expect(await store.saveExperiment({ id: 'e', revision: 1, body: { note: 'a\u0000b' } }, null)).toBe(true);
    expect((await store.getExperiment('e'))?.body).toEqual({ note: 'a\u0000b' });
  });

  it('refuses bad limits and the meta keys the store keeps, naming them', async () => {
    await expect(store.listAudit({ limit: 0 })).rejects.toThrow(/audit limit/);
    await expect(store.expiredDecisions(T0, -1)).rejects.toThrow(RangeError);
    await expect(store.acquireLease('training', 'h', 0)).rejects.toThrow(/lease ttlMs/);
    await expect(store.decisionActivity('p', T0, 0, 3)).rejects.toThrow(/bucketMs/);
    await expect(store.scanExposures('x', { batchSize: 0 })[Symbol.asyncIterator]().next()).rejects.toThrow(
      /batchSize/,
    );
    for (const key of ['schema_version', 'last_erasure_at']) {
      await expect(store.setMeta(key, 1)).rejects.toThrow(/managed by the store/);
    }
    expect(await store.getMeta('schema_version')).toBe(PG_LATEST_SCHEMA_VERSION);
  });

  it('rejects every write on a read-only store and still reads', async () => {
    await store.setMeta('k', 'v');
    const reader = await openPostgresStore({ url, readonly: true, poolSize: 1 });
    try {
      expect(await reader.getMeta('k')).toBe('v');
      await expect(reader.setMeta('k', 'w')).rejects.toThrow(StoreReadonlyError);
      await expect(reader.appendDecisions([decision({ id: 'd' })])).rejects.toThrow(StoreReadonlyError);
      await expect(reader.acquireLease('training', 'h', 1000)).rejects.toThrow(StoreReadonlyError);
      await expect(
        reader.saveArtifact({ name: 'n', createdAt: T0, meta: {}, payload: new Uint8Array(0) }),
      ).rejects.toThrow(StoreReadonlyError);
    } finally {
      await reader.close();
    }
  });
});
