import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  call,
  event,
  get,
  ingest,
  loadShop,
  openTestApp,
  plantedShop,
  recommendOk,
  train,
  type ModelsReply,
  type TestApp,
} from './helpers.js';

interface HealthReply {
  readonly status: string;
  readonly model_version: number | null;
  readonly primary_model?: string;
}

const shop = plantedShop({ usersPerGroup: 10 });
let t: TestApp;

beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** The value of one unlabelled Prometheus sample, or undefined when absent. */
async function metric(name: string): Promise<number | undefined> {
  const reply = await get<null>(t.app, '/metrics');
  expect(reply.status).toBe(200);
  const line = reply.text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function models(): Promise<ModelsReply> {
  const reply = await get<ModelsReply>(t.app, '/v1/models');
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

// The tests in this file build on each other, in order: no model, one version, two, three.
describe('health, metrics and model versions', () => {
  it('/health is 503 and /v1/models lists nothing before any model', async () => {
    const health = await get<HealthReply>(t.app, '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'starting', model_version: null });
    const listed = await models();
    expect(listed.serving).toBeNull();
    expect(listed.versions).toEqual([]);
    expect(listed.training.state).toBe('idle');
  });

  it('/metrics counts stored events as attune_events_stored_total', async () => {
    expect(await metric('attune_events_stored_total')).toBe(0);
    await loadShop(t.app, shop);
    expect(await metric('attune_events_stored_total')).toBe(shop.events.length);
    // Rejected and duplicate events are not stored, and are counted apart.
    await call(t.app, 'POST', '/v1/events', {
      events: [{ event: 'x' }, event('u-m', 'a-01', 'product_viewed', { event_id: 'm-1' })],
    });
    await call(t.app, 'POST', '/v1/events', event('u-m', 'a-01', 'product_viewed', { event_id: 'm-1' }));
    expect(await metric('attune_events_stored_total')).toBe(shop.events.length + 1);
    expect(await metric('attune_events_rejected_total')).toBe(1);
    expect(await metric('attune_events_duplicate_total')).toBe(1);
    expect(await metric('attune_model_version')).toBe(0);
  });

  it('after training /health is 200 and /v1/models lists version 1 as serving', async () => {
    expect(await train(t.app)).toBe(1);
    const health = await get<HealthReply>(t.app, '/health');
    expect(health.status, health.text).toBe(200);
    expect(health.body).toMatchObject({ status: 'ready', model_version: 1, primary_model: 'als' });
    const listed = await models();
    expect(listed.serving).toMatchObject({ version: 1, primary_model: 'als', users: 21, items: 30 });
    // What serves, as `attune evaluate --choice` takes it: the configured ALS with its parameters.
    expect((listed.serving as unknown as { chosen: unknown }).chosen).toEqual({
      model: 'als',
      params: t.engine.config.models.als,
    });
    // The run tried a re-ranker: either it serves, with what validation measured, or the reason it does not.
    const reranking = (listed.serving as unknown as { reranking: Record<string, unknown> | null }).reranking;
    expect(reranking).not.toBeNull();
    if (reranking!['chosen'] === true)
      expect(reranking!['info']).toMatchObject({ trees: expect.any(Number), depth: expect.any(Number) });
    else expect(reranking!['skipped']).toEqual(expect.stringMatching(/\w/));
    expect(listed.versions.map((v) => v.version)).toEqual([1]);
    expect(listed.versions[0]!.bytes).toBeGreaterThan(0);
    expect(await metric('attune_model_version')).toBe(1);
    const served = await recommendOk(t.app, `user_id=${shop.groupA[0]}&n=3`);
    expect(served.model_version).toBe(1);
  });

  it('training again gives version 2, and serving switches to it', async () => {
    await ingest(t.app, [event('late-user', 'b-03'), event('late-user', 'b-04')]);
    expect(await train(t.app)).toBe(2);
    const listed = await models();
    expect(listed.serving).toMatchObject({ version: 2, users: 22 });
    expect(listed.versions.map((v) => v.version)).toEqual([2, 1]);
    const served = await recommendOk(t.app, `user_id=${shop.groupA[0]}&n=3`);
    expect(served.model_version).toBe(2);
    expect((await get<HealthReply>(t.app, '/health')).body.model_version).toBe(2);
    expect(await metric('attune_model_version')).toBe(2);
    // The user only events knew before is now a trained user of the new version.
    const late = await recommendOk(t.app, 'user_id=late-user&n=3');
    expect(late.fallback).toBeNull();
  });

  it('POST /v1/admin/train without wait answers 202 and the new version serves once done', async () => {
    // The run the route starts, awaited directly: no polling, no deadline.
    const runs = vi.spyOn(t.engine, 'beginTraining');
    let run: Promise<unknown>;
    try {
      const reply = await call<{ status: string }>(t.app, 'POST', '/v1/admin/train');
      expect(reply.status, reply.text).toBe(202);
      expect(reply.body.status).toBe('training');
      expect(runs).toHaveBeenCalledTimes(1);
      run = (runs.mock.results[0]!.value as ReturnType<typeof t.engine.beginTraining>).then((r) => r.done);
    } finally {
      runs.mockRestore();
    }
    // A run's `done` resolves once the new version serves.
    await expect(run).resolves.toMatchObject({ version: 3 });
    const listed = await models();
    expect(listed.serving?.version).toBe(3);
    expect(listed.versions.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(listed.training.state).toBe('idle');
  });

  it('a restarted engine on the same store serves the latest version at once', async () => {
    await t.close({ keepData: true });
    t = await openTestApp({}, t.dir);
    const health = await get<HealthReply>(t.app, '/health');
    expect(health.status).toBe(200);
    expect(health.body.model_version).toBe(3);
    const served = await recommendOk(t.app, `user_id=${shop.groupB[0]}&n=3`);
    expect(served).toMatchObject({ model: 'als', model_version: 3, fallback: null });
    expect(served.items.every((i) => i.item_id.startsWith('b-'))).toBe(true);
  });

  it('an engine picks up a version another process trained on the same store', async () => {
    // A second engine on the same data dir stands for `attune train` beside the running server.
    const other = await openTestApp({}, t.dir);
    try {
      await train(other.app);
      expect(t.engine.servingBundle?.version).toBe(3);
      await t.engine.refreshBundle();
      expect(t.engine.servingBundle?.version).toBe(4);
      const health = await get<HealthReply>(t.app, '/health');
      expect(health.body.model_version).toBe(4);
    } finally {
      await other.close({ keepData: true });
    }
  });
});
