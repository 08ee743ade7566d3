import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { writeHeapSnapshot } from 'node:v8';

import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildApp } from '../src/api/index.js';
import { Engine, engineConfig } from '../src/engine/index.js';
import { defaultStages } from '../src/recommendations/index.js';
import { trainSegments } from '../src/segments/index.js';
import { DATABASE_FILE } from '../src/store/index.js';
import { call, get, ingest, openTestApp, type EventBody, deviceBannerPoint } from './helpers.js';

/**
 * Erasure reaches everything: after DELETE /v1/users/:id no byte of the data directory, no stored or
 * serving model, no log line and no object the process still holds names the user.
 *
 * The erased id exists in this file only as bytes (`ERASED`): every string made from it is made for one
 * request and dropped, so that a heap snapshot after the erasure finds it only if the engine kept it.
 */
const ERASED = Buffer.from(`erase-${randomBytes(8).toString('hex')}`, 'utf8');
const erased = (): string => ERASED.toString('utf8');
const T0 = Date.now() - 3 * 86_400_000;

/** Every file under `dir` (the database, its WAL and shared memory, anything else) holding the id. */
async function filesNamingTheUser(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readIfPresent(path))?.includes(ERASED)) found.push(path);
  }
  return found;
}

/**
 * The file's bytes, or null when it went between listing and reading: SQLite deletes `-shm` and `-wal` when
 * the last connection closes (a background thread's can close just then), and a file gone holds nothing.
 */
async function readIfPresent(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function shopEvents(user: string, u: number): EventBody[] {
  return Array.from({ length: 12 }, (_, k) => ({
    event: k % 4 === 3 ? 'purchased' : 'product_viewed',
    user_id: user,
    item_id: `item-${(u * 3 + k * 7) % 40}`,
    timestamp: T0 + u * 1000 + k * 60_000,
    context: { device: k % 2 === 0 ? 'mobile' : 'desktop' },
    properties: k % 4 === 3 ? { revenue: 20 + k } : {},
  }));
}

describe('erasure (DELETE /v1/users/:id)', () => {
  let dir: string;
  let engine: Engine;
  let app: Awaited<ReturnType<typeof buildApp>>;
  const logLines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attune-erasure-'));
    const memory = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    engine = await Engine.open(
      engineConfig(`sqlite:${dir}`, { retrainIntervalMs: null, selection: 'fixed', holdout: 0.05 }),
      defaultStages,
      { logger: pino({ level: 'info' }, memory) },
    );
    app = buildApp({ engine, logger: { level: 'info', stream: memory } });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Everything the engine can hold about a person, for the erased one among 40 others. */
  async function holdEverything(): Promise<string> {
    const others = Array.from({ length: 40 }, (_, u) => `person-${u}`);
    await ingest(app, [...others.flatMap((id, u) => shopEvents(id, u)), ...shopEvents(erased(), 41)]);
    for (const [u, id] of others.entries()) {
      await call(app, 'PUT', `/v1/users/${id}`, { traits: { plan: u % 2 === 0 ? 'pro' : 'free' } });
    }
    expect(
      (await call(app, 'PUT', `/v1/users/${erased()}`, { traits: { plan: 'pro' }, consent: 'full' })).status,
    ).toBe(200);
    // Two trained versions, both with the user's row; a segmentation over everyone.
    await engine.train();
    await ingest(
      app,
      shopEvents(erased(), 42).map((e) => ({ ...e, timestamp: Number(e.timestamp) + 1 })),
    );
    await engine.train();
    await trainSegments(engine.store, engine.config.features, Date.now(), { trainedAt: Date.now(), seed: 1 });
    await engine.refreshSegments();

    // Served lists (impressions, exposures), decisions with a reward, features, an export.
    expect((await get(app, `/v1/recommendations?user_id=${erased()}&n=5`)).status).toBe(200);
    expect((await get(app, `/v1/recommendations?user_id=${erased()}&n=5`)).status).toBe(200);
    expect((await get(app, `/v1/recommendations/explain?user_id=${erased()}&item_id=item-3`)).status).toBe(
      200,
    );
    const point = await call(app, 'POST', '/v1/decision-points', deviceBannerPoint('banner'));
    expect(point.status).toBe(201);
    const decided = await call<{ decision_id: string }>(app, 'POST', '/v1/decisions/banner', {
      user_id: erased(),
      context: { device: 'mobile' },
    });
    expect(decided.status).toBe(200);
    await call(app, 'POST', '/v1/decisions/banner', { user_id: erased(), context: { device: 'desktop' } });
    await call(app, 'POST', '/v1/decisions/banner/reward', {
      decision_id: decided.body.decision_id,
      value: 1,
    });
    expect((await get(app, `/v1/users/${erased()}/features`)).status).toBe(200);
    expect((await get(app, `/v1/users/${erased()}/segment`)).status).toBe(200);
    expect((await get(app, '/v1/items/item-3/features')).status).toBe(200);
    expect((await get(app, `/v1/users/${erased()}/export`)).status).toBe(200);
    // The planner's samples of every index (SQLite keeps sample keys, user ids among them), written by a
    // connection that does not zero what it frees.
    await engine.exportUser(erased()); // flushes the background logs first
    const analyze = new Database(join(dir, DATABASE_FILE));
    analyze.exec('ANALYZE');
    analyze.close();
    return decided.body.decision_id;
  }

  /** The erasure's reply without the id it echoes. */
  async function erase(): Promise<{ status: number; erased: Record<string, number | boolean> }> {
    const reply = await call<{ erased: Record<string, string | number | boolean> }>(
      app,
      'DELETE',
      `/v1/users/${erased()}`,
    );
    const { user_id: echoed, ...counts } = reply.body.erased;
    expect(echoed === erased()).toBe(true);
    return { status: reply.status, erased: counts as Record<string, number | boolean> };
  }

  /** Status codes of what can be asked about the user afterwards. */
  async function askAfter(decisionId: string): Promise<Record<string, number>> {
    const reward = await call(app, 'POST', '/v1/decisions/banner/reward', {
      decision_id: decisionId,
      value: 1,
    });
    return {
      export: (await get(app, `/v1/users/${erased()}/export`)).status,
      profile: (await get(app, `/v1/users/${erased()}`)).status,
      features: (await get(app, `/v1/users/${erased()}/features`)).status,
      reward: reward.status,
      again: (await call(app, 'DELETE', `/v1/users/${erased()}`)).status,
    };
  }

  it(
    'removes the user from the store, the disk, the models, the caches and the logs',
    { timeout: 120_000 },
    async () => {
      const decisionId = await holdEverything();
      // The search below finds the user before the erasure: it is not vacuous.
      expect((await filesNamingTheUser(dir)).length).toBeGreaterThan(0);

      const reply = await erase();
      expect(reply.status).toBe(200);
      expect(reply.erased).toMatchObject({
        events: 24,
        impressions: 2,
        decisions: 2,
        profile: true,
        consent: true,
        model_versions: 2,
        disk_cleared: true,
      });
      expect(reply.erased['exposures']).toBeGreaterThanOrEqual(1);

      // The disk: database, WAL and everything else in the data directory, while the engine runs.
      expect(await filesNamingTheUser(dir)).toEqual([]);
      // The process: nothing it holds names the user (the snapshot collects garbage first). Taken before
      // anything below asks about the user again: a request naming them is not something held about them.
      const snapshot = writeHeapSnapshot(join(dir, '..', `attune-erasure-${process.pid}.heapsnapshot`));
      try {
        expect((await readFile(snapshot)).includes(ERASED)).toBe(false);
      } finally {
        await rm(snapshot, { force: true });
      }

      // The logs: request lines name routes, the audit entry names no one.
      expect(logLines.length).toBeGreaterThan(0);
      expect(logLines.filter((line) => line.includes(erased()))).toEqual([]);
      const audit = await get<{ entries: { action: string; target: string | null }[] }>(
        app,
        '/v1/audit?limit=200',
      );
      expect(audit.body.entries).toContainEqual(
        expect.objectContaining({ action: 'DELETE /v1/users/:id', target: null }),
      );
      expect(audit.text.includes(erased())).toBe(false);

      // Nothing is answered from what was held; a reward for their decision is for an unknown decision.
      expect(await askAfter(decisionId)).toEqual({
        export: 404,
        profile: 404,
        features: 404,
        reward: 404,
        again: 404,
      });
      // Other people are untouched.
      expect((await get(app, '/v1/users/person-3/export')).status).toBe(200);
      expect((await get(app, '/v1/recommendations?user_id=person-3&n=5')).status).toBe(200);

      // And after the engine closes (which runs SQLite's own optimize).
      await app.close();
      await engine.close();
      expect(await filesNamingTheUser(dir)).toEqual([]);
    },
  );

  it('a training run that began reading before an erasure does not save its models', async () => {
    const t = await openTestApp();
    try {
      await ingest(t.app, shopEvents('someone', 1));
      const before = await t.engine.store.listArtifacts('bundle');
      // An erasure stamped after any run starting now began reading: what such a run learnt may hold
      // the person, so it must not be saved.
      await t.engine.store.eraseUser('nobody', { at: Date.now() + 60_000, artifacts: [] });
      await expect(t.engine.train()).rejects.toThrow(/erased .* after this run began reading events/);
      expect(await t.engine.store.listArtifacts('bundle')).toEqual(before);
    } finally {
      await t.close();
    }
  });
});
