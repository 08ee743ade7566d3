import { randomBytes } from 'node:crypto';
import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';

import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { openSqliteStore } from '../../store/index.js';
import type { TrackedEvent } from '../types.js';
import type { EventStreamConfig, StreamLimits } from './config.js';
import { EventStreamConsumer } from './consumer.js';

/*
 * For tests that need a real NATS with JetStream: where it is, whether it answers, a stream of their own
 * per test (name and subjects no other test uses), deleted afterwards, and events to send through it. With
 * no server such suites are skipped and say so, unless ATTUNE_REQUIRE_SERVICES is set (CI): then they fail.
 */

export const TEST_NATS_URL = process.env.ATTUNE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** Small, so that tests running side by side do not reserve the server's whole max_file_store. */
export const TEST_LIMITS: Partial<StreamLimits> = { maxBytes: 64 * 1024 ** 2 };

let reachable: Promise<boolean> | undefined;

/** Whether the test server answers with JetStream enabled (asked once per test file). */
export function natsReachable(): Promise<boolean> {
  reachable ??= (async () => {
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({ servers: new URL(TEST_NATS_URL).host, timeout: 2_000, reconnect: false });
      await jetstreamManager(nc, { timeout: 2_000 });
      return true;
    } catch (error) {
      if (process.env.ATTUNE_REQUIRE_SERVICES) {
        throw new Error(`NATS is required (ATTUNE_REQUIRE_SERVICES) but did not answer: ${String(error)}`, {
          cause: error,
        });
      }
      console.warn(`NATS JetStream at ${TEST_NATS_URL} did not answer; skipping the event stream suites`);
      return false;
    } finally {
      await nc?.close().catch(() => undefined);
    }
  })();
  return reachable;
}

/** A config with a stream name and subjects no other test uses; `created` collects it for `deleteStreams`. */
export function testStreamConfig(created: string[]): EventStreamConfig {
  const id = randomBytes(5).toString('hex');
  const stream = `ATTUNE_TEST_${id.toUpperCase()}`;
  created.push(stream);
  return { url: TEST_NATS_URL, stream, subjectPrefix: `attune.test.${id}` };
}

/** Deletes the named streams (only those: other tests' streams are left alone). */
export async function deleteStreams(streams: readonly string[]): Promise<void> {
  if (streams.length === 0) return;
  const nc = await connect({ servers: new URL(TEST_NATS_URL).host, timeout: 2_000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000 });
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/**
 * `count` distinct events exercising every field: ids a header could not carry as they are (spaces, line
 * breaks, "~", non-ASCII), null and non-null item and request ids, every scalar type in context and
 * properties. `tag` makes the ids of one call differ from another's.
 */
export function makeEvents(count: number, tag: string): TrackedEvent[] {
  const names = ['product_viewed', 'Product Added', 'order_completed', 'search'];
  const odd = [' padded ', 'line\nbreak', 'tilde~id', 'ünïcödé ✓', 'tab\tid'];
  const events: TrackedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const base = Date.UTC(2026, 0, 1) + i * 1_013;
    events.push({
      eventId: i % 97 === 0 ? `${odd[(i / 97) % odd.length]}-${tag}-${i}` : `${tag}-${i}`,
      name: names[i % names.length] ?? 'view',
      userId: `user-${i % 311}`,
      itemId: i % 7 === 0 ? null : `item-${i % 53}`,
      timestamp: base,
      receivedAt: base + 17,
      context: i % 5 === 0 ? {} : { device: i % 2 === 0 ? 'mobile' : 'desktop', bot: false, ratio: i / 7 },
      properties: { price: (i % 100) + 0.99, qty: i % 4, coupon: i % 3 === 0 ? null : 'SPRING', ok: true },
      requestId: i % 4 === 0 ? `req-${i}` : null,
    });
  }
  return events;
}

/** Every event of a store, in log order. */
export async function storedEvents(store: {
  scanEvents(): AsyncIterable<TrackedEvent[]>;
}): Promise<TrackedEvent[]> {
  const all: TrackedEvent[] = [];
  for await (const batch of store.scanEvents()) all.push(...batch);
  return all;
}

/** Polls `check` until it holds, failing after `timeoutMs` with what it saw last. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A TCP proxy to the test server that a test can cut (stop listening, drop every connection: NATS is
 * unreachable for its clients) and restore on the same port, without touching the shared server.
 */
export interface NatsProxy {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startNatsProxy(): Promise<NatsProxy> {
  const target = new URL(TEST_NATS_URL);
  const sockets = new Set<Socket>();
  const listen = (port: number): Promise<Server> =>
    new Promise((resolve, reject) => {
      const server = createServer((client) => {
        const upstream = connectTcp(Number(target.port || 4222), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  let server: Server | null = await listen(0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  const port = address.port;
  const cut = async (): Promise<void> => {
    const closing = server;
    server = null;
    // close() waits for the open connections to end: stop listening, then drop them.
    const closed = closing === null ? null : new Promise<void>((resolve) => closing.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    cut,
    restore: async () => {
      server ??= await listen(port);
    },
    close: cut,
  };
}

/**
 * The body of the worker process the crash test kills: a consumer storing into `dataDir`'s store that, on
 * its `crashAt`-th batch, stores the events, says `stored-unacknowledged` on stdout and hangs without
 * acknowledging, until the parent kills it with SIGKILL. Settings come from the environment.
 */
export async function runHangingWorker(): Promise<void> {
  const config = JSON.parse(process.env.ATTUNE_TEST_STREAM_CONFIG ?? '') as EventStreamConfig;
  const crashAt = Number(process.env.ATTUNE_TEST_CRASH_AT);
  const store = openSqliteStore({
    dataDir: process.env.ATTUNE_TEST_DATA_DIR ?? '',
    backgroundCheckpoints: false,
  });
  let batches = 0;
  await EventStreamConsumer.open(
    config,
    async (_app, events) => {
      await store.appendEvents(events, { createMissingItems: false });
      batches += 1;
      if (batches === crashAt) {
        process.stdout.write('stored-unacknowledged\n');
        await new Promise<never>(() => undefined);
      }
    },
    { ackWaitMs: 2_000, limits: TEST_LIMITS },
  );
  process.stdout.write('consuming\n');
}
