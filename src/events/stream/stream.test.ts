import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';

import { openSqliteStore, type SqliteStore } from '../../store/index.js';
import type { TrackedEvent } from '../types.js';
import type { EventStreamConfig } from './config.js';
import { encodeEvent } from './codec.js';
import { CONSUMER_NAME } from './connection.js';
import { EventStreamConsumer, type EventSink, type StreamLogger } from './consumer.js';
import { EventStreamUnavailableError } from './errors.js';
import { EventStreamPublisher } from './publisher.js';
import {
  deleteStreams,
  makeEvents,
  natsReachable,
  startNatsProxy,
  storedEvents,
  TEST_LIMITS,
  TEST_NATS_URL,
  testStreamConfig,
  waitFor,
} from './stream.testing.js';

const available = await natsReachable();
const streams: string[] = [];
const dirs: string[] = [];
const stores: SqliteStore[] = [];

afterAll(async () => {
  for (const store of stores) await store.close().catch(() => undefined);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (available) await deleteStreams(streams);
});

function tempStore(): { store: SqliteStore; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'attune-stream-'));
  dirs.push(dataDir);
  const store = openSqliteStore({ dataDir });
  stores.push(store);
  return { store, dataDir };
}

/** Stores each app's events in its own store, as the worker does (one store per app). */
function storeSink(byApp: ReadonlyMap<string, SqliteStore>): EventSink {
  return async (app, events) => {
    const store = byApp.get(app);
    if (store === undefined) throw new Error(`no store for app ${app}`);
    await store.appendEvents(events, { createMissingItems: false });
  };
}

/** Publishes in batches of 500 (as the API would), all batches at once. */
async function publishAll(
  publisher: EventStreamPublisher,
  app: string,
  events: readonly TrackedEvent[],
): Promise<{ persisted: number; duplicates: string[] }> {
  const batches: TrackedEvent[][] = [];
  for (let i = 0; i < events.length; i += 500) batches.push(events.slice(i, i + 500));
  const results = await Promise.all(batches.map((batch) => publisher.publish(app, batch)));
  return {
    persisted: results.reduce((sum, result) => sum + result.persisted, 0),
    duplicates: results.flatMap((result) => result.duplicates),
  };
}

/** The store holds exactly these events, each once, every field as published. */
async function expectStoredExactly(store: SqliteStore, events: readonly TrackedEvent[]): Promise<void> {
  expect(await store.countEvents()).toBe(events.length);
  const stored = await storedEvents(store);
  const byId = new Map(stored.map((event) => [event.eventId, event]));
  expect(byId.size).toBe(events.length);
  for (const event of events) expect(byId.get(event.eventId)).toEqual(event);
}

const quiet: StreamLogger = { warn: () => undefined };

describe.skipIf(!available)('event stream on NATS JetStream', () => {
  it('carries 10,000 events from two publishers into the stores once each, and drops a republished batch', async () => {
    const config = testStreamConfig(streams);
    const shop = tempStore().store;
    const news = tempStore().store;
    const shopEvents = makeEvents(6_000, 'shop');
    const newsEvents = makeEvents(4_000, 'news');
    const [first, second] = await Promise.all([
      EventStreamPublisher.open(config, { limits: TEST_LIMITS }),
      EventStreamPublisher.open(config, { limits: TEST_LIMITS }),
    ]);
    try {
      // Warm-up (connection, JIT) outside the timing; these events are part of the 10,000.
      await first.publish('shop', shopEvents.slice(0, 500));
      const started = performance.now();
      const [a, b, c] = await Promise.all([
        publishAll(first, 'shop', shopEvents.slice(500, 3_500)),
        publishAll(second, 'shop', shopEvents.slice(3_500)),
        publishAll(second, 'news', newsEvents.slice(0, 3_500)),
      ]);
      const seconds = (performance.now() - started) / 1000;
      const oneBatch = performance.now();
      const d = await first.publish('news', newsEvents.slice(3_500));
      const batchMs = performance.now() - oneBatch;
      console.info(
        `event stream: 9,000 events through two publishers in ${(seconds * 1000).toFixed(0)} ms ` +
          `(${Math.round(9_000 / seconds)} events/s); one batch of 500 alone in ${batchMs.toFixed(1)} ms`,
      );
      expect(a.persisted + b.persisted + c.persisted + d.persisted).toBe(9_500);
      expect([...a.duplicates, ...b.duplicates, ...c.duplicates, ...d.duplicates]).toEqual([]);
      // Nobody consumes yet: all of it is waiting, a message per batch of 500.
      expect(await first.lag()).toEqual({
        pending: 20,
        ackPending: 0,
        redelivered: 0,
        consumerExists: false,
      });

      const consuming = performance.now();
      const consumer = await EventStreamConsumer.open(
        config,
        storeSink(
          new Map([
            ['shop', shop],
            ['news', news],
          ]),
        ),
        { limits: TEST_LIMITS, logger: quiet },
      );
      try {
        await waitFor(
          'every event stored',
          async () => (await shop.countEvents()) + (await news.countEvents()) === 10_000,
        );
        console.info(
          `event stream: 10,000 events consumed into two SQLite stores in ` +
            `${(performance.now() - consuming).toFixed(0)} ms (${consumer.stats().batches} sink calls)`,
        );
        await waitFor('the stream drained', async () => {
          const lag = await consumer.lag();
          return lag.pending === 0 && lag.ackPending === 0;
        });
        expect(consumer.stats()).toMatchObject({ stored: 10_000, failures: 0, malformed: 0, redelivered: 0 });
        // Batches, not single events: what was waiting, up to 500 per sink call.
        expect(consumer.stats().batches).toBeLessThan(10_000 / 10);
        await expectStoredExactly(shop, shopEvents);
        await expectStoredExactly(news, newsEvents);

        // The same events again, within the duplicate window: acknowledged, but as duplicates, not stored.
        const again = await Promise.all([
          publishAll(first, 'shop', shopEvents),
          publishAll(second, 'news', newsEvents),
        ]);
        expect(again.map((result) => result.persisted)).toEqual([0, 0]);
        expect(again.flatMap((result) => result.duplicates).sort()).toEqual(
          [...shopEvents, ...newsEvents].map((event) => event.eventId).sort(),
        );
        expect(first.stats().duplicates + second.stats().duplicates).toBe(10_000);
        expect(await consumer.lag()).toMatchObject({ pending: 0, ackPending: 0 });
        expect(consumer.stats().received).toBe(20);
        expect(await shop.countEvents()).toBe(6_000);
        expect(await news.countEvents()).toBe(4_000);
      } finally {
        await consumer.close();
      }
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  }, 60_000);

  it('stores events once when they reach the store twice (past the duplicate window)', async () => {
    // A second stream stands for "after the window": the stream no longer knows the ids, the store does.
    const store = tempStore().store;
    const events = makeEvents(2_000, 'twice');
    for (let round = 0; round < 2; round++) {
      const config = testStreamConfig(streams);
      const publisher = await EventStreamPublisher.open(config, { limits: TEST_LIMITS });
      const consumer = await EventStreamConsumer.open(config, storeSink(new Map([['shop', store]])), {
        limits: TEST_LIMITS,
        logger: quiet,
      });
      try {
        expect((await publishAll(publisher, 'shop', events)).persisted).toBe(2_000);
        await waitFor('the batch consumed', () => consumer.stats().stored === 2_000);
      } finally {
        await Promise.all([consumer.close(), publisher.close()]);
      }
    }
    await expectStoredExactly(store, events);
  }, 60_000);

  it('hands over to a new consumer when one is closed mid-way, each event stored once', async () => {
    const config = testStreamConfig(streams);
    const store = tempStore().store;
    const events = makeEvents(5_000, 'handover');
    const publisher = await EventStreamPublisher.open(config, { limits: TEST_LIMITS });
    try {
      await publishAll(publisher, 'shop', events);
    } finally {
      await publisher.close();
    }
    // An ack wait far beyond the test's timeout: the rest must come back because close() returned it, not
    // because the stream gave up waiting.
    const options = { ackWaitMs: 600_000, limits: TEST_LIMITS, logger: quiet } as const;
    let calls = 0;
    let closing: Promise<void> | undefined;
    const first: EventStreamConsumer = await EventStreamConsumer.open(
      config,
      async (_app, batch) => {
        await store.appendEvents(batch, { createMissingItems: false });
        calls += 1;
        if (calls === 2) closing = first.close();
      },
      options,
    );
    await waitFor('the first consumer closing', () => closing !== undefined);
    await closing;
    const byFirst = first.stats().stored;
    expect(byFirst).toBeGreaterThan(0);
    expect(byFirst).toBeLessThan(5_000);
    expect(await store.countEvents()).toBe(byFirst);

    const second = await EventStreamConsumer.open(config, storeSink(new Map([['shop', store]])), options);
    try {
      await waitFor('the rest stored', async () => (await store.countEvents()) === 5_000);
      await waitFor('the stream drained', async () => (await second.lag()).ackPending === 0);
      // What the first acknowledged never came back; what it held unstarted did.
      expect(second.stats().stored).toBe(5_000 - byFirst);
      await expectStoredExactly(store, events);
    } finally {
      await second.close();
    }
  }, 60_000);

  it('redelivers the batch of a worker killed after storing it, without storing it twice', async () => {
    const config = testStreamConfig(streams);
    const dataDir = mkdtempSync(join(tmpdir(), 'attune-stream-crash-'));
    dirs.push(dataDir);
    openSqliteStore({ dataDir }).close(); // create the schema before two processes open it
    const events = makeEvents(3_000, 'crash');
    const publisher = await EventStreamPublisher.open(config, { limits: TEST_LIMITS });
    try {
      await publishAll(publisher, 'shop', events);
    } finally {
      await publisher.close();
    }

    const worker = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import(${JSON.stringify(fileURLToPath(new URL('./stream.testing.ts', import.meta.url)))})` +
          '.then((m) => m.runHangingWorker())',
      ],
      {
        env: {
          ...process.env,
          ATTUNE_TEST_STREAM_CONFIG: JSON.stringify(config),
          ATTUNE_TEST_DATA_DIR: dataDir,
          ATTUNE_TEST_CRASH_AT: '2',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      worker.on('exit', (_code, signal) => resolve(signal)),
    );
    try {
      await waitFor(
        'the worker storing a batch it never acknowledges',
        () => output.includes('stored-unacknowledged'),
        40_000,
      );
    } catch (error) {
      throw new Error(`${String(error)}; the worker said: ${output}`, { cause: error });
    } finally {
      worker.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const store = openSqliteStore({ dataDir });
    stores.push(store);
    const beforeTakeover = await store.countEvents();
    expect(beforeTakeover).toBeGreaterThan(0);
    expect(beforeTakeover).toBeLessThan(3_000);
    const consumer = await EventStreamConsumer.open(config, storeSink(new Map([['shop', store]])), {
      ackWaitMs: 2_000,
      limits: TEST_LIMITS,
      logger: quiet,
    });
    try {
      await waitFor('every event stored', async () => (await store.countEvents()) === 3_000);
      await waitFor('the stream drained', async () => {
        const lag = await consumer.lag();
        return lag.pending === 0 && lag.ackPending === 0;
      });
      // The killed worker's batches came back (its stored-but-unacknowledged one among them) and were
      // stored once: the store skipped the ids it had.
      expect(consumer.stats().redelivered).toBeGreaterThan(0);
      await expectStoredExactly(store, events);
    } finally {
      await consumer.close();
    }
  }, 60_000);

  it('redelivers a batch the sink rejected and stores it once', async () => {
    const config = testStreamConfig(streams);
    const store = tempStore().store;
    const events = makeEvents(1_500, 'retry');
    const warnings: string[] = [];
    let failed = 0;
    const consumer = await EventStreamConsumer.open(
      config,
      async (_app, batch) => {
        if (failed === 0) {
          failed = batch.length;
          throw new Error('the database is down');
        }
        await store.appendEvents(batch, { createMissingItems: false });
      },
      {
        retryDelayMs: 100,
        limits: TEST_LIMITS,
        logger: { warn: (_details, message) => warnings.push(message) },
      },
    );
    const publisher = await EventStreamPublisher.open(config, { limits: TEST_LIMITS });
    try {
      await publishAll(publisher, 'shop', events);
      await waitFor('every event stored', async () => (await store.countEvents()) === 1_500);
      await waitFor('the stream drained', async () => (await consumer.lag()).ackPending === 0);
      // The first sink call held one message (a batch of 500), delivered again.
      expect(failed).toBe(500);
      expect(consumer.stats()).toMatchObject({ failures: 1, stored: 1_500, redelivered: 1 });
      expect(warnings).toEqual(['event stream: storing a batch failed; it will be delivered again']);
      await expectStoredExactly(store, events);
    } finally {
      await Promise.all([consumer.close(), publisher.close()]);
    }
  });

  it('publishes a batch as messages that fit, reports repeats within it as duplicates, and reads what earlier builds sent', async () => {
    const config = testStreamConfig(streams);
    const store = tempStore().store;
    // Messages of at most 64 KiB: 1,200 events of ~0.6 KB each cannot go as the usual 500 per message.
    const limits = { ...TEST_LIMITS, maxMessageBytes: 64 * 1024 };
    const publisher = await EventStreamPublisher.open(config, { limits });
    const nc = await connect({ servers: new URL(TEST_NATS_URL).host });
    try {
      const events = makeEvents(1_200, 'split').map((event) => ({
        ...event,
        properties: { ...event.properties, note: 'x'.repeat(400) },
      }));
      const result = await publisher.publish('shop', [...events, events[3]!, events[7]!]);
      expect(result).toEqual({ persisted: 1_200, duplicates: [events[3]!.eventId, events[7]!.eventId] });
      const { messages } = await (
        await jetstreamManager(nc)
      ).streams
        .info(config.stream)
        .then((i) => i.state);
      expect(messages).toBeGreaterThanOrEqual(Math.ceil((1_200 * 600) / (64 * 1024)));
      // One event per message, format 1: what a build before batches left in the stream.
      const old = makeEvents(3, 'format-1');
      for (const event of old)
        await jetstream(nc).publish(`${config.subjectPrefix}.shop`, encodeEvent(event));
      const consumer = await EventStreamConsumer.open(config, storeSink(new Map([['shop', store]])), {
        limits,
        logger: quiet,
      });
      try {
        await waitFor('every event stored', async () => (await store.countEvents()) === 1_203);
        await expectStoredExactly(store, [...events, ...old]);
      } finally {
        await consumer.close();
      }
    } finally {
      await Promise.all([publisher.close(), nc.close()]);
    }
  });

  it('splits batches to what an existing stream takes when it takes less than the configured limit', async () => {
    const config = testStreamConfig(streams);
    const store = tempStore().store;
    const nc = await connect({ servers: new URL(TEST_NATS_URL).host });
    try {
      // An operator's stream, made before Attune starts: messages of at most 64 KiB, where the
      // publisher's own limit (the default, 1 MiB) would send 500 events of ~0.6 KB in one.
      await (
        await jetstreamManager(nc)
      ).streams.add({
        name: config.stream,
        subjects: [`${config.subjectPrefix}.>`],
        max_msg_size: 64 * 1024,
        max_bytes: 64 * 1024 ** 2,
      });
      const publisher = await EventStreamPublisher.open(config, { limits: TEST_LIMITS });
      const consumer = await EventStreamConsumer.open(config, storeSink(new Map([['shop', store]])), {
        limits: TEST_LIMITS,
        logger: quiet,
      });
      try {
        const events = makeEvents(1_200, 'operator-stream').map((event) => ({
          ...event,
          properties: { ...event.properties, note: 'x'.repeat(400) },
        }));
        expect(await publisher.publish('shop', events)).toEqual({ persisted: 1_200, duplicates: [] });
        await waitFor('every event stored', async () => (await store.countEvents()) === 1_200);
        await expectStoredExactly(store, events);
      } finally {
        await Promise.all([consumer.close(), publisher.close()]);
      }
    } finally {
      await nc.close();
    }
  });

  it('removes a message that is not an event and stores the rest', async () => {
    const config = testStreamConfig(streams);
    const store = tempStore().store;
    const publisher = await EventStreamPublisher.open(config, { limits: TEST_LIMITS });
    const nc = await connect({ servers: new URL(TEST_NATS_URL).host });
    const warnings: Record<string, unknown>[] = [];
    try {
      const js = jetstream(nc);
      await js.publish(`${config.subjectPrefix}.shop`, '{"not":"an event"}');
      await js.publish(`${config.subjectPrefix}.Not_An_App`, '[]');
      const events = makeEvents(100, 'after-garbage');
      await publisher.publish('shop', events);
      const consumer = await EventStreamConsumer.open(config, storeSink(new Map([['shop', store]])), {
        limits: TEST_LIMITS,
        logger: { warn: (details) => warnings.push(details) },
      });
      try {
        await waitFor('the events stored', async () => (await store.countEvents()) === 100);
        await waitFor('the stream empty', async () => (await consumer.lag()).ackPending === 0);
        expect(consumer.stats()).toMatchObject({ malformed: 2, stored: 100 });
        expect(warnings.map((warning) => warning.subject)).toEqual([
          `${config.subjectPrefix}.shop`,
          `${config.subjectPrefix}.Not_An_App`,
        ]);
        await expectStoredExactly(store, events);
      } finally {
        await consumer.close();
      }
    } finally {
      await Promise.all([publisher.close(), nc.close()]);
    }
  });

  it('sets its consumer up again when it is deleted', async () => {
    const config = testStreamConfig(streams);
    const store = tempStore().store;
    const publisher = await EventStreamPublisher.open(config, { limits: TEST_LIMITS });
    const warnings: string[] = [];
    const consumer = await EventStreamConsumer.open(config, storeSink(new Map([['shop', store]])), {
      limits: TEST_LIMITS,
      logger: { warn: (_details, message) => warnings.push(message) },
    });
    const nc = await connect({ servers: new URL(TEST_NATS_URL).host });
    try {
      const before = makeEvents(200, 'before-delete');
      await publisher.publish('shop', before);
      await waitFor('the first events stored', async () => (await store.countEvents()) === 200);
      await (await jetstreamManager(nc)).consumers.delete(config.stream, CONSUMER_NAME);
      const after = makeEvents(200, 'after-delete');
      await publisher.publish('shop', after);
      await waitFor('the later events stored', async () => (await store.countEvents()) === 400, 30_000);
      expect(warnings).toContain('event stream: pulling failed; setting the consumer up again');
      expect((await consumer.lag()).consumerExists).toBe(true);
      await expectStoredExactly(store, [...before, ...after]);
    } finally {
      await Promise.all([consumer.close(), publisher.close(), nc.close()]);
    }
  }, 45_000);

  it('fails a publish at once with EventStreamUnavailableError when the stream is gone, then recreates it', async () => {
    const config = testStreamConfig(streams);
    const publisher = await EventStreamPublisher.open(config, { limits: TEST_LIMITS });
    const nc = await connect({ servers: new URL(TEST_NATS_URL).host });
    try {
      await (await jetstreamManager(nc)).streams.delete(config.stream);
      const started = performance.now();
      await expect(publisher.publish('shop', makeEvents(10, 'gone'))).rejects.toThrow(
        EventStreamUnavailableError,
      );
      // Not the publish timeout (5 s): the server said at once that no stream captures the subject.
      expect(performance.now() - started).toBeLessThan(2_000);
      await waitFor('the stream recreated', async () => {
        try {
          return (await publisher.publish('shop', makeEvents(10, 'back'))).persisted === 10;
        } catch {
          return false;
        }
      });
      expect(publisher.stats().persisted).toBe(10);
    } finally {
      await Promise.all([publisher.close(), nc.close()]);
    }
  });

  it('fails fast while NATS is unreachable and works again once it is back, without a restart', async () => {
    const proxy = await startNatsProxy();
    const config = { ...testStreamConfig(streams), url: proxy.url };
    const store = tempStore().store;
    const publisher = await EventStreamPublisher.open(config, { limits: TEST_LIMITS });
    const consumer = await EventStreamConsumer.open(config, storeSink(new Map([['shop', store]])), {
      limits: TEST_LIMITS,
      logger: quiet,
    });
    try {
      await publisher.publish('shop', makeEvents(100, 'up'));
      // Stored before the cut: messages the server had sent when the connection dropped would come back
      // only after ackWaitMs (30 s), which is the documented cost of a lost delivery, not what this tests.
      await waitFor('the first events stored', async () => (await store.countEvents()) === 100);
      await proxy.cut();
      await waitFor('the publisher noticing', () => !publisher.connected);
      const started = performance.now();
      await expect(publisher.publish('shop', makeEvents(100, 'down'))).rejects.toThrow(
        /^The event stream is unavailable \(not connected to NATS; reconnecting\)/,
      );
      expect(performance.now() - started).toBeLessThan(100);

      await proxy.restore();
      await waitFor('the publisher reconnecting', () => publisher.connected);
      const after = makeEvents(100, 'back');
      expect((await publisher.publish('shop', after)).persisted).toBe(100);
      await waitFor('the consumer storing again', async () => (await store.countEvents()) === 200);
      await expectStoredExactly(store, [...makeEvents(100, 'up'), ...after]);

      // A consumer closing while NATS is gone still returns, after a bounded wait for its pull request.
      await proxy.cut();
      const closing = performance.now();
      await consumer.close();
      expect(performance.now() - closing).toBeLessThan(10_000);
    } finally {
      await Promise.all([consumer.close(), publisher.close()]);
      await proxy.close();
    }
  }, 60_000);

  it('rejects bad input naming the field', async () => {
    const config = testStreamConfig(streams);
    const publisher = await EventStreamPublisher.open(config, { limits: TEST_LIMITS });
    try {
      await expect(publisher.publish('Bad.App', makeEvents(1, 'x'))).rejects.toThrow(/^app: /);
      expect(await publisher.publish('shop', [])).toEqual({ persisted: 0, duplicates: [] });
      await expect(EventStreamConsumer.open(config, async () => undefined, { batchSize: 0 })).rejects.toThrow(
        /^batchSize: /,
      );
      await expect(
        EventStreamConsumer.open(config, async () => undefined, { batchSize: 500, maxAckPending: 100 }),
      ).rejects.toThrow(/^maxAckPending: /);
      const clash: EventStreamConfig = { ...config, subjectPrefix: `${config.subjectPrefix}.other` };
      await expect(EventStreamPublisher.open(clash, { limits: TEST_LIMITS })).rejects.toThrow(
        /^stream: the existing stream/,
      );
    } finally {
      await publisher.close();
    }
    await expect(publisher.publish('shop', makeEvents(1, 'closed'))).rejects.toThrow(
      EventStreamUnavailableError,
    );
  });
});

describe('event stream without a server', () => {
  it('rejects within the connect timeout with EventStreamUnavailableError', async () => {
    const config = {
      url: 'nats://127.0.0.1:4299',
      stream: 'ATTUNE_UNREACHABLE',
      subjectPrefix: 'attune.unreachable',
    };
    const started = performance.now();
    const opening = EventStreamPublisher.open(config, { connectTimeoutMs: 1_000 });
    await expect(opening).rejects.toThrow(EventStreamUnavailableError);
    await expect(opening).rejects.toThrow(/cannot connect to NATS at 127\.0\.0\.1:4299/);
    expect(performance.now() - started).toBeLessThan(5_000);
    await expect(
      EventStreamConsumer.open(config, async () => undefined, { connectTimeoutMs: 1_000 }),
    ).rejects.toThrow(EventStreamUnavailableError);
  });

  it('never repeats the credentials of the URL', async () => {
    const config = { url: 'nats://attune:hunter2@127.0.0.1:4299', stream: 'S', subjectPrefix: 'a.b' };
    const error = await EventStreamPublisher.open(config, { connectTimeoutMs: 1_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EventStreamUnavailableError);
    expect(String((error as Error).message)).not.toContain('hunter2');
  });
});
