import { createConnection, createServer, type Server, type Socket } from 'node:net';

import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { ClusterNotice } from './bus.js';
import { RedisClusterBus } from './redis-bus.js';
import {
  adminConnection,
  CLOSED_REDIS_URL,
  killClientsNamed,
  redisReachable,
  TEST_REDIS_URL,
  testPrefix,
  until,
} from './redis.testing.js';

const available = await redisReachable();

/**
 * A TCP relay to the test Redis that can be taken down and brought back on the same port: Redis going away
 * and returning as an instance sees it, without touching the shared server.
 */
class Relay {
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  constructor(readonly port: number) {}

  static async freePort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    return port;
  }

  async up(): Promise<void> {
    const target = new URL(TEST_REDIS_URL);
    this.#server = createServer((client) => {
      const upstream = createConnection(Number(target.port || 6379), target.hostname);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.#sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#sockets) socket.destroy();
    if (server !== null) await new Promise((resolve) => server.close(resolve));
  }
}

describe.skipIf(!available)('RedisClusterBus', () => {
  let admin: Redis;
  const open: RedisClusterBus[] = [];
  const bus = (prefix: string, instance: string, url = TEST_REDIS_URL) => {
    const made = new RedisClusterBus({ redisUrl: url, prefix, instance });
    open.push(made);
    return made;
  };
  /** Two connected buses of one deployment, each with the notices it was given. */
  const pair = async () => {
    const prefix = testPrefix();
    const a = bus(prefix, 'a');
    const b = bus(prefix, 'b');
    const toA: ClusterNotice[] = [];
    const toB: ClusterNotice[] = [];
    a.subscribe((notice) => toA.push(notice));
    b.subscribe((notice) => toB.push(notice));
    expect(await a.ready(5_000)).toBe(true);
    expect(await b.ready(5_000)).toBe(true);
    return { prefix, a, b, toA, toB };
  };

  beforeAll(() => {
    admin = adminConnection();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((made) => made.close()));
  });
  afterAll(async () => {
    await admin.quit();
  });

  it("delivers each bus's messages to the other and never back to itself", async () => {
    const { a, b, toA, toB } = await pair();
    a.publish({ type: 'events', app: 'shop', users: ['u1'], items: ['i1', 'i2'] });
    a.publish({ type: 'bundle', app: 'shop', version: 12 });
    b.publish({ type: 'consent', app: 'shop', user: 'u9' });
    await until(() => toB.length === 2 && toA.length === 1, 'both messages');
    expect(toB).toEqual([
      { v: 1, sender: 'a', type: 'events', app: 'shop', users: ['u1'], items: ['i1', 'i2'] },
      { v: 1, sender: 'a', type: 'bundle', app: 'shop', version: 12 },
    ]);
    expect(toA).toEqual([{ v: 1, sender: 'b', type: 'consent', app: 'shop', user: 'u9' }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(toA).toHaveLength(1); // nothing of a's own came back
    expect(a.status()).toMatchObject({
      backend: 'redis',
      connected: true,
      published: 2,
      received: 1,
      dropped: 0,
    });
    expect(b.status()).toMatchObject({ published: 1, received: 2, invalid: 0, resyncs: 0 });
  });

  it('keeps deployments apart by prefix', async () => {
    const { a, toA } = await pair();
    const stranger = bus(testPrefix(), 'c');
    expect(await stranger.ready(5_000)).toBe(true);
    stranger.publish({ type: 'erased', app: 'shop', user: 'u1' });
    a.publish({ type: 'erased', app: 'shop', user: 'u2' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(toA).toEqual([]);
    expect(a.status().received).toBe(0);
  });

  it('ignores and counts what it cannot read on its channel', async () => {
    const { b, toB } = await pair();
    const garbage = [
      'not json',
      '{"v":2,"sender":"x","type":"erased","app":"shop","user":"u"}',
      '{"v":1,"sender":"x","type":"teleport","app":"shop"}',
      '{"v":1,"sender":"x","type":"events","app":"shop","users":[1],"items":[]}',
    ];
    for (const text of garbage) await admin.publish(b.channel, text);
    await admin.publish(b.channel, '{"v":1,"sender":"x","type":"erased","app":"shop","user":"u7"}');
    await until(() => toB.length === 1, 'the one readable message');
    expect(toB).toEqual([{ v: 1, sender: 'x', type: 'erased', app: 'shop', user: 'u7' }]);
    expect(b.status()).toMatchObject({ invalid: 4, received: 1, connected: true });
  });

  it('with Redis unreachable, publishing returns at once and counts drops; the bus stays quiet', async () => {
    const down = bus(testPrefix(), 'down', CLOSED_REDIS_URL);
    const seen: ClusterNotice[] = [];
    down.subscribe((notice) => seen.push(notice));
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) down.publish({ type: 'erased', app: 'shop', user: `u${i}` });
    const elapsed = performance.now() - started;
    console.log(`10,000 publishes with Redis down: ${elapsed.toFixed(1)} ms`);
    expect(elapsed).toBeLessThan(1_000); // 100 µs each at most
    expect(down.status()).toMatchObject({ connected: false, published: 0, dropped: 10_000 });
    expect(await down.ready(300)).toBe(false);
    expect(down.status().lastError).toMatch(/ECONNREFUSED/);
    expect(seen).toEqual([]);
    const closing = performance.now();
    await down.close();
    expect(performance.now() - closing).toBeLessThan(500);
  });

  it('resubscribes after its subscription is killed and tells its listeners to resync', async () => {
    const { a, b, toB } = await pair();
    expect(await killClientsNamed(admin, b.connectionNames.subscriber)).toBe(1);
    await until(() => toB.some((notice) => notice.type === 'resync'), 'the resync');
    expect(toB).toEqual([{ type: 'resync', reason: 'resubscribed', sender: 'b' }]);
    expect(b.status()).toMatchObject({ connected: true, resyncs: 1 });
    a.publish({ type: 'catalog', app: 'shop', items: ['i3'] });
    await until(() => toB.length === 2, 'a message after the resubscription');
    expect(toB[1]).toMatchObject({ type: 'catalog', sender: 'a' });
    expect(a.status().resyncs).toBe(0);
  });

  it('after dropping messages, tells the others to resync once it can publish again', async () => {
    const { a, toB } = await pair();
    expect(await killClientsNamed(admin, a.connectionNames.publisher)).toBe(1);
    // The publisher reconnects within ~50 ms: publish until one is dropped meanwhile.
    await until(
      () => {
        a.publish({ type: 'erased', app: 'shop', user: 'u1' });
        return a.status().dropped > 0;
      },
      'a dropped publish',
      2_000,
    );
    await until(() => toB.some((notice) => notice.type === 'resync'), 'the peer resync');
    expect(toB.filter((notice) => notice.type === 'resync')).toEqual([
      { type: 'resync', reason: 'peer-dropped', sender: 'a' },
    ]);
  });

  it('rides out Redis going away and coming back: drops meanwhile, then resubscribes, resyncs, delivers', async () => {
    const relay = new Relay(await Relay.freePort());
    try {
      const prefix = testPrefix();
      const steady = bus(prefix, 'steady');
      // Starts while its Redis is down: it serves (drops) and catches up with a resync once Redis is there.
      const flaky = bus(prefix, 'flaky', `redis://127.0.0.1:${relay.port}`);
      const toSteady: ClusterNotice[] = [];
      const toFlaky: ClusterNotice[] = [];
      steady.subscribe((notice) => toSteady.push(notice));
      flaky.subscribe((notice) => toFlaky.push(notice));
      expect(await steady.ready(5_000)).toBe(true);
      flaky.publish({ type: 'erased', app: 'shop', user: 'u1' });
      expect(flaky.status()).toMatchObject({ connected: false, dropped: 1 });

      await relay.up();
      expect(await flaky.ready(5_000)).toBe(true);
      await until(() => toFlaky.length === 1 && toSteady.length === 1, 'both resyncs');
      expect(toFlaky).toEqual([{ type: 'resync', reason: 'resubscribed', sender: 'flaky' }]);
      expect(toSteady).toEqual([{ type: 'resync', reason: 'peer-dropped', sender: 'flaky' }]);
      steady.publish({ type: 'bundle', app: 'shop', version: 2 });
      await until(() => toFlaky.length === 2, 'a message through the relay');

      await relay.down();
      await until(() => !flaky.status().connected, 'the bus to notice');
      flaky.publish({ type: 'erased', app: 'shop', user: 'u2' });
      expect(flaky.status().dropped).toBe(2);
      steady.publish({ type: 'bundle', app: 'shop', version: 3 }); // missed by flaky: it is away

      await relay.up();
      await until(() => toFlaky.length === 3 && toSteady.length === 2, 'the resyncs after the outage');
      expect(toFlaky.map((notice) => notice.type)).toEqual(['resync', 'bundle', 'resync']);
      expect(toSteady.map((notice) => notice.type)).toEqual(['resync', 'resync']);
      expect(flaky.status()).toMatchObject({ connected: true, resyncs: 2, published: 0, dropped: 2 });
    } finally {
      await relay.down();
    }
  });

  it('carries a message from one instance to another in well under a second', async () => {
    const { a, b } = await pair();
    // Timed at the listener, not by polling, so the figure is the bus's own latency.
    let arrived: ((at: number) => void) | undefined;
    b.subscribe(() => arrived?.(performance.now()));
    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) {
      let timer: NodeJS.Timeout | undefined;
      const received = new Promise<number>((resolve, reject) => {
        arrived = resolve;
        timer = setTimeout(() => reject(new Error(`message ${i} took over a second`)), 1_000);
      });
      const started = performance.now();
      a.publish({ type: 'bundle', app: 'shop', version: i + 1 });
      const at = await received;
      clearTimeout(timer);
      latencies.push(at - started);
    }
    latencies.sort((x, y) => x - y);
    const median = latencies[100]!;
    const p99 = latencies[197]!;
    console.log(
      `publish → receive over Redis, 200 messages: median ${median.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
    );
    expect(latencies[199]).toBeLessThan(1_000);
  });
});
