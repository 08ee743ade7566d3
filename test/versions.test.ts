import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

import { buildApp } from '../src/api/index.js';
import { Engine, defaultEngineConfig, engineConfig, type EngineConfig } from '../src/engine/index.js';
import { closeAlsWorkers } from '../src/models/index.js';
import { defaultStages } from '../src/recommendations/index.js';
import type { Store } from '../src/store/index.js';
import {
  BUNDLE_ARTIFACT,
  TrainingLeaseHeldError,
  trainBundle,
  type BundleInfo,
  type TrainingConfig,
} from '../src/training/index.js';
import { call, event, ingest, loadShop, plantedShop, recommendOk, type ErrorReply } from './helpers.js';

/*
 * Versions only move forward in data: bundles record the event-log position they were trained through,
 * the engine never swaps to a bundle over older data, trainers in several processes take turns through
 * the store's training lease, and failures in the background are logged with their cause.
 */

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly err?: { readonly type: string; readonly message: string; readonly stack: string };
  readonly [key: string]: unknown;
}

const INFO = 30;
const WARN = 40;
const ERROR = 50;

/** A logger that keeps every line in memory. */
function captureLog(): { readonly logger: Logger; readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  );
  return { logger, lines };
}

interface Node {
  readonly engine: Engine;
  readonly app: FastifyInstance;
  readonly lines: LogLine[];
  close(): Promise<void>;
}

const dirs: string[] = [];
const nodes: Node[] = [];

afterEach(async () => {
  for (const node of nodes.splice(0)) await node.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
afterAll(() => closeAlsWorkers());

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'attune-versions-'));
  dirs.push(dir);
  return dir;
}

/**
 * An engine and its app on the data directory, as one process would run them (several may share a
 * directory, as the server and `attune train` do). No schedule and no poller unless asked for.
 */
async function openNode(
  dir: string,
  trainerName: string,
  overrides: Partial<EngineConfig> = {},
): Promise<Node> {
  const { logger, lines } = captureLog();
  const engine = await Engine.open(
    engineConfig(`sqlite:${dir}`, {
      retrainIntervalMs: null,
      bundlePollMs: null,
      selection: 'fixed',
      coldStart: false,
      ...overrides,
    }),
    defaultStages,
    { logger, trainerName },
  );
  const app = buildApp({ engine });
  await app.ready();
  let closed = false;
  const node: Node = {
    engine,
    app,
    lines,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await engine.close();
    },
  };
  nodes.push(node);
  return node;
}

const shop = plantedShop({ usersPerGroup: 10 });

async function errorsCounted(engine: Engine, where: string): Promise<number> {
  const { values } = await engine.metrics.errors.get();
  return values.find((v) => v.labels.where === where)?.value ?? 0;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const trainingConfig: TrainingConfig = {
  feedback: defaultEngineConfig.feedback,
  primaryModel: 'als',
  models: defaultEngineConfig.models,
  selection: 'fixed',
  hybrid: false,
};

/** The store, except that `saveArtifact` waits for `open()`: a run that is slow to finish. */
function slowToSave(store: Store): { store: Store; reached: Promise<void>; open: () => void } {
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  let reach = () => {};
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const save: Store['saveArtifact'] = async (artifact) => {
    reach();
    await gate;
    return store.saveArtifact(artifact);
  };
  const slow = new Proxy(store, {
    get: (target, key) => {
      if (key === 'saveArtifact') return save;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: slow, reached, open };
}

describe('versions only move forward in data', () => {
  it('records the event position a bundle was trained through', async () => {
    const node = await openNode(await tempDir(), 'server');
    await loadShop(node.app, shop);
    const info = await node.engine.train();
    expect(info.position).toBe(await node.engine.store.lastEventSeq());
    expect(node.engine.servingBundle?.position).toBe(info.position);
    await ingest(node.app, [event('late-user', 'b-03')]);
    const next = await node.engine.train();
    expect(next.position).toBeGreaterThan(info.position);
    const models = await call<{ versions: { position: number }[] }>(node.app, 'GET', '/v1/models');
    expect(models.body.versions.map((v) => v.position)).toEqual([next.position, info.position]);
  });

  it('a slow run over older data that finishes after a newer one is stored but not swapped in', async () => {
    const node = await openNode(await tempDir(), 'server');
    await loadShop(node.app, shop);
    // The slow run fixes its position now and has fitted its models by the time it reaches the save.
    const slow = slowToSave(node.engine.store);
    const slowRun = trainBundle(slow.store, trainingConfig);
    await slow.reached;
    await ingest(node.app, [event('late-user', 'b-03'), event('late-user', 'b-04')]);
    const newer = await node.engine.train();
    expect(newer.version).toBe(1);
    slow.open();
    const late = await slowRun;
    expect(late.version).toBe(2);
    expect(late.position).toBeLessThan(newer.position);

    await node.engine.refreshBundle();
    expect(node.engine.servingBundle?.version).toBe(1);
    expect((await recommendOk(node.app, 'user_id=late-user&n=3')).model_version).toBe(1);
    // Said once, not at every poll.
    await node.engine.refreshBundle();
    expect(node.lines.filter((l) => l.msg.startsWith('bundle version 2 not loaded'))).toHaveLength(1);
    const skipped = node.lines.find((l) => l.msg.startsWith('bundle version 2 not loaded'));
    expect(skipped).toMatchObject({
      level: INFO,
      version: 2,
      position: late.position,
      serving: 1,
      servingPosition: newer.position,
    });
  });

  it('start-up serves the bundle with the highest position, not the highest version', async () => {
    const dir = await tempDir();
    const first = await openNode(dir, 'server');
    await loadShop(first.app, shop);
    const slow = slowToSave(first.engine.store);
    const slowRun = trainBundle(slow.store, trainingConfig);
    await slow.reached;
    await ingest(first.app, [event('late-user', 'b-03')]);
    const newest = await first.engine.train();
    slow.open();
    const older = await slowRun;
    expect(older.version).toBeGreaterThan(newest.version);
    await first.close();

    const restarted = await openNode(dir, 'server');
    expect(restarted.engine.servingBundle).toMatchObject({
      version: newest.version,
      position: newest.position,
    });
    // A retrain of the same events (same position, e.g. with new settings) does replace it.
    const retrained = await restarted.engine.train();
    expect(retrained.position).toBe(newest.position);
    expect(restarted.engine.servingBundle?.version).toBe(retrained.version);
  });
});

describe('bundles that cannot be loaded', () => {
  it('leave the serving bundle in place, are logged with their cause and are not fetched again', async () => {
    const dir = await tempDir();
    const node = await openNode(dir, 'server');
    await loadShop(node.app, shop);
    const good = await node.engine.train();
    const stored = await node.engine.store.loadArtifact(BUNDLE_ARTIFACT, good.version);
    // Claimed newer by position, so the poller wants them: bytes that are no bundle, and a bundle from a
    // newer Attune (its container format).
    const newerFormat = stored!.payload.slice();
    new DataView(newerFormat.buffer).setUint32(4, 2, true);
    const save = (payload: Uint8Array) =>
      node.engine.store.saveArtifact({
        name: BUNDLE_ARTIFACT,
        createdAt: Date.now(),
        meta: { ...(stored!.meta as object), position: good.position + 100 },
        payload,
      });
    const garbage = await save(new TextEncoder().encode('not a bundle'));
    const newer = await save(newerFormat);
    const loads = vi.spyOn(node.engine.store, 'loadArtifact');

    await node.engine.refreshBundle();
    expect(node.engine.servingBundle?.version).toBe(good.version);
    expect((await recommendOk(node.app, `user_id=${shop.groupA[0]}&n=3`)).model_version).toBe(good.version);
    const errors = node.lines.filter((l) => l.level === ERROR);
    expect(errors.map((l) => l.version)).toEqual([newer, garbage]);
    for (const line of errors) {
      expect(line.msg).toBe(
        `bundle version ${String(line.version)} cannot be loaded and will not be retried; ` +
          `version ${good.version} keeps serving`,
      );
      expect(line.err?.type).toBe('BundleDecodeError');
      expect(line.err?.stack).toMatch(/BundleDecodeError: cannot decode bundle/);
    }
    expect(errors[0]!.err?.message).toMatch(/unsupported artifact version 2/);
    expect(errors[1]!.err?.message).toMatch(/bad magic/);
    expect(await errorsCounted(node.engine, 'bundle-load')).toBe(2);

    // Later polls remember them as bad: no new fetch, no new error.
    expect(loads).toHaveBeenCalledTimes(2);
    await node.engine.refreshBundle();
    await node.engine.refreshBundle();
    expect(loads).toHaveBeenCalledTimes(2);
    expect(node.lines.filter((l) => l.level === ERROR)).toHaveLength(2);

    // A restart skips them too, logging why, and serves the good one.
    await node.close();
    const restarted = await openNode(dir, 'server');
    expect(restarted.engine.servingBundle?.version).toBe(good.version);
    expect(restarted.lines.filter((l) => l.level === ERROR).map((l) => l.version)).toEqual([newer, garbage]);
  });
});

describe('trainers take turns through the training lease', () => {
  it('two engines on one store training at once: one runs, the other is told who; no version is lost', async () => {
    const dir = await tempDir();
    const a = await openNode(dir, 'server A');
    const b = await openNode(dir, 'trainer B');
    await loadShop(a.app, shop);
    const results = await Promise.allSettled([a.engine.train(), b.engine.train()]);
    const ran = results.findIndex((r) => r.status === 'fulfilled');
    expect(ran).not.toBe(-1);
    const refused = results[1 - ran]!;
    expect(refused.status).toBe('rejected');
    const reason = (refused as PromiseRejectedResult).reason as unknown;
    expect(reason).toBeInstanceOf(TrainingLeaseHeldError);
    const winner = [a, b][ran]!;
    const loser = [a, b][1 - ran]!;
    expect((reason as Error).message).toMatch(
      new RegExp(
        `${ran === 0 ? 'server A' : 'trainer B'} \\(pid ${process.pid} .*since \\d{4}-\\d\\d-\\d\\dT`,
      ),
    );
    expect((await a.engine.listBundles()).map((v) => v.version)).toEqual([1]);

    // The lease is free once the run ends: the refused trainer runs now, under the next version.
    const second = await loser.engine.train();
    expect(second.version).toBe(2);
    await winner.engine.refreshBundle();
    expect(winner.engine.servingBundle?.version).toBe(2);
    expect((await a.engine.listBundles()).map((v) => v.version)).toEqual([2, 1]);
  });

  it('calls in one engine share its run', async () => {
    const node = await openNode(await tempDir(), 'server');
    await loadShop(node.app, shop);
    const [x, y] = await Promise.all([node.engine.train(), node.engine.train()]);
    expect(x).toEqual(y);
    expect((await node.engine.listBundles()).map((v) => v.version)).toEqual([1]);
  });

  it('POST /v1/admin/train answers 409 naming the trainer that holds the lease', async () => {
    const dir = await tempDir();
    const server = await openNode(dir, 'attune serve');
    const cli = await openNode(dir, 'attune train');
    await loadShop(server.app, shop);
    const run = await cli.engine.beginTraining();
    for (const url of ['/v1/admin/train', '/v1/admin/train?wait=true']) {
      const reply = await call<ErrorReply>(server.app, 'POST', url);
      expect(reply.status, reply.text).toBe(409);
      expect(reply.body.error.code).toBe('training_in_progress');
      expect(reply.body.error.message).toMatch(
        /attune train \(pid \d+ on .*\) has held the training lease since/,
      );
    }
    await run.done;
    const reply = await call<{ status: string; model: BundleInfo }>(
      server.app,
      'POST',
      '/v1/admin/train?wait=true',
    );
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ status: 'serving', model: { version: 2 } });
  });

  it('the schedule skips a tick quietly while another process trains, and trains once it is free', async () => {
    const dir = await tempDir();
    const server = await openNode(dir, 'attune serve', { retrainIntervalMs: 30 });
    // Taken before any event arrives: a tick after the first events could otherwise start a run first.
    const other = await server.engine.store.acquireLease('training', 'attune train (elsewhere)', 60_000);
    expect(other.acquired).toBe(true);
    await loadShop(server.app, shop);
    const resent = event(shop.groupA[0]!, 'a-01', 'product_viewed', { event_id: 'resent-1' });
    await ingest(server.app, [resent]);
    await until(
      () => server.lines.some((l) => l.msg.startsWith('scheduled training skipped')),
      'a skipped tick',
    );
    const skipped = server.lines.find((l) => l.msg.startsWith('scheduled training skipped'))!;
    expect(skipped).toMatchObject({ level: INFO, holder: 'attune train (elsewhere)' });
    expect(server.engine.servingBundle).toBeNull();
    expect(await errorsCounted(server.engine, 'training')).toBe(0);

    await server.engine.store.releaseLease('training', 'attune train (elsewhere)');
    await until(() => server.engine.servingBundle !== null, 'the scheduled run');
    expect(server.engine.servingBundle?.position).toBe(await server.engine.store.lastEventSeq());
    // Nothing new since, only a duplicate (which may spend a seq number): later ticks do not train again.
    const reply = await call<{ duplicates: number }>(server.app, 'POST', '/v1/events', resent);
    expect(reply.body.duplicates).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await server.engine.listBundles()).length).toBe(1);
  });

  it('a failed scheduled run is logged with its cause and stack, and counted', async () => {
    const node = await openNode(await tempDir(), 'attune serve', {
      retrainIntervalMs: 30,
      models: { ...defaultEngineConfig.models, popularity: { halfLifeDays: 'soon' as unknown as number } },
    });
    await loadShop(node.app, shop);
    await until(() => node.lines.some((l) => l.level === ERROR), 'a logged failure');
    const failure = node.lines.find((l) => l.level === ERROR)!;
    expect(failure.msg).toBe('training failed');
    expect(failure.err?.message).toMatch(/ParamsError: popularity: halfLifeDays must be/);
    expect(failure.err?.stack).toMatch(/\n\s+at /);
    expect(await errorsCounted(node.engine, 'training')).toBeGreaterThanOrEqual(1);
    expect(node.engine.servingBundle).toBeNull();
  });

  it('a run that loses its lease to a stall goes on, warns, and leaves the new holder alone', async () => {
    const dir = await tempDir();
    const node = await openNode(dir, 'attune serve', { trainingLeaseMs: 30 });
    await loadShop(node.app, shop);
    const run = await node.engine.beginTraining();
    // This thread stalls past the lease (no renewal can run), and another trainer takes the expired lease.
    const stalled = Date.now();
    while (Date.now() - stalled < 120) {
      // busy: the event loop is blocked, as by a long synchronous task
    }
    const thief = await node.engine.store.acquireLease('training', 'attune train (elsewhere)', 60_000);
    expect(thief.acquired).toBe(true);
    const info = await run.done;
    expect(node.lines.some((l) => l.level === WARN && l.msg.startsWith('training lease lost'))).toBe(true);
    // Its bundle is still the newest by position, so it serves; the other trainer's lease is untouched.
    expect(node.engine.servingBundle?.version).toBe(info.version);
    const attempt = await node.engine.store.acquireLease('training', 'someone', 60_000);
    expect(attempt.acquired === false && attempt.held.holder).toBe('attune train (elsewhere)');
  });
});
