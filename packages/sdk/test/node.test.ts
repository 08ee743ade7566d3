import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { call, deviceBannerPoint, loadShop, plantedShop } from '../../../test/helpers.js';
import { AttuneError, createClient, createTracker, type Client } from '../src/index.js';
import { createKey, startEngine, startProxy, type Proxy, type RunningEngine } from './servers.js';

const shop = plantedShop({ usersPerGroup: 10, itemsPerGroup: 10 });
let engine: RunningEngine;
let ingestKey: string;
let serverKey: string;
let proxy: Proxy;
const errors: AttuneError[] = [];
const fast = { retryDelayMs: 5, maxRetryDelayMs: 2000, onError: (e: AttuneError) => errors.push(e) };

beforeAll(async () => {
  engine = await startEngine(async (t) => {
    await loadShop(t.app, shop);
    await t.engine.train();
    expect((await call(t.app, 'POST', '/v1/decision-points', deviceBannerPoint('banner'))).status).toBe(201);
    const experiment = await call(t.app, 'POST', '/v1/experiments', {
      id: 'layout',
      start: true,
      variants: [{ name: 'control' }, { name: 'grid', config: { columns: 4 } }],
    });
    expect(experiment.status, experiment.text).toBe(201);
  });
  // Keys exist from here on: the engine no longer answers keyless loopback requests.
  ingestKey = await createKey(engine.t, 'ingest');
  serverKey = await createKey(engine.t, 'server');
  proxy = await startProxy(engine.url);
});

afterAll(async () => {
  await proxy.close();
  await engine.close();
});

afterEach(() => {
  errors.length = 0;
  proxy.seen.length = 0;
  proxy.plan();
});

const eventPosts = () => proxy.seen.filter((r) => r.method === 'POST' && r.url === '/v1/events');
const storedEvents = (userId: string) => engine.t.engine.userEvents(userId, 1000);

describe('tracking with an ingest key', () => {
  it('sends N events in ceil(N / batchSize) requests, each event once, with its client-made id', async () => {
    // A minute's interval: only a full batch or close() sends anything here.
    const tracker = createTracker({
      host: proxy.url,
      writeKey: ingestKey,
      batchSize: 10,
      flushIntervalMs: 60_000,
      ...fast,
    });
    const ids = Array.from({ length: 25 }, (_, i) =>
      tracker.track('product_viewed', { userId: 'batch-user', itemId: `a-0${i % 10}`, properties: { i } }),
    );
    // The two full batches leave at once; the last five wait.
    await expect.poll(() => eventPosts().length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(eventPosts()).toHaveLength(2);
    const result = await tracker.close();
    expect(eventPosts()).toHaveLength(3);
    expect(eventPosts().map((r) => (JSON.parse(r.body) as { events: unknown[] }).events.length)).toEqual([
      10, 10, 5,
    ]);
    const stored = await storedEvents('batch-user');
    expect(stored.map((e) => e.eventId).sort()).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(25);
    expect(result.failed).toBe(0);
    expect(errors).toEqual([]);
    // Sent as a Bearer ingest key.
    expect(eventPosts()[0]!.headers.authorization).toBe(`Bearer ${ingestKey}`);
  });

  it('sends a partial batch after flushIntervalMs without a flush call', async () => {
    const tracker = createTracker({ host: proxy.url, writeKey: ingestKey, flushIntervalMs: 50, ...fast });
    tracker.track('clicked', { userId: 'interval-user', itemId: 'a-01' });
    tracker.track('clicked', { userId: 'interval-user', itemId: 'a-02' });
    expect(eventPosts()).toHaveLength(0);
    await expect.poll(async () => (await storedEvents('interval-user')).length, { timeout: 3000 }).toBe(2);
    expect(eventPosts()).toHaveLength(1);
    await tracker.close();
  });

  it('identify sets the current user and sends traits and consent; page sends page_viewed with the URL', async () => {
    const tracker = createTracker({ host: proxy.url, writeKey: ingestKey, ...fast });
    expect(() => tracker.track('clicked')).toThrow(/no user/);
    tracker.identify('page-user', { plan: 'pro', age: 31 }, { consent: 'analytics' });
    expect(tracker.userId).toBe('page-user');
    const id = tracker.page({
      url: 'https://shop.example/p/a-03?ref=mail',
      title: 'Tent',
      referrer: 'https://mail.example/',
      itemId: 'a-03',
    });
    await tracker.close();
    tracker.reset();
    expect(tracker.userId).toBeNull();
    expect(() => tracker.track('clicked')).toThrow(/no user/);
    const user = await engine.t.engine.getUser('page-user');
    expect(user?.traits).toEqual({ plan: 'pro', age: 31 });
    expect(await engine.t.engine.consentOf('page-user')).toBe('analytics');
    const [viewed] = await storedEvents('page-user');
    expect(viewed).toMatchObject({
      eventId: id,
      name: 'page_viewed',
      itemId: 'a-03',
      properties: {
        url: 'https://shop.example/p/a-03?ref=mail',
        path: '/p/a-03',
        title: 'Tent',
        referrer: 'https://mail.example/',
      },
    });
  });

  it('reports each event the engine refuses to onError with its field, and stores the rest', async () => {
    const tracker = createTracker({ host: proxy.url, writeKey: ingestKey, ...fast });
    tracker.track('clicked', { userId: 'reject-user', itemId: 'a-01' });
    const bad = tracker.track('x'.repeat(201), { userId: 'reject-user' });
    tracker.track('clicked', { userId: 'reject-user', itemId: '..' });
    const result = await tracker.close();
    expect(result).toEqual({ accepted: 1, duplicates: 0, rejected: 2, failed: 0 });
    expect(errors.map((e) => [e.code, e.field, e.events[0]?.event_id === bad])).toEqual([
      ['event_rejected', 'event', true],
      ['event_rejected', 'item_id', false],
    ]);
    expect(errors[0]!.message).toMatch(/longer than 200/);
    expect((await storedEvents('reject-user')).map((e) => e.itemId)).toEqual(['a-01']);
  });
});

describe('retries', () => {
  it('retries a batch through 503s and stores it once', async () => {
    const tracker = createTracker({ host: proxy.url, writeKey: ingestKey, ...fast });
    proxy.plan({ status: 503 }, { status: 503 });
    for (let i = 0; i < 5; i++) tracker.track('clicked', { userId: 'retry-503', itemId: `b-0${i}` });
    const result = await tracker.flush();
    expect(eventPosts()).toHaveLength(3);
    // The same body each time: the same event ids.
    expect(new Set(eventPosts().map((r) => r.body)).size).toBe(1);
    expect(result).toMatchObject({ accepted: 5, failed: 0 });
    expect(await storedEvents('retry-503')).toHaveLength(5);
    await tracker.close();
  });

  it('waits as long as a 429 Retry-After says', async () => {
    const tracker = createTracker({ host: proxy.url, writeKey: ingestKey, ...fast });
    proxy.plan({
      status: 429,
      headers: { 'retry-after': '1' },
      body: { error: { code: 'rate_limited', message: 'slow down' } },
    });
    tracker.track('clicked', { userId: 'retry-429', itemId: 'b-01' });
    await tracker.flush();
    const [first, second] = eventPosts();
    expect(second).toBeDefined();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    expect(await storedEvents('retry-429')).toHaveLength(1);
    await tracker.close();
  });

  it('a batch whose reply was lost is sent again and stored once (the engine dedupes by event_id)', async () => {
    const tracker = createTracker({ host: proxy.url, writeKey: ingestKey, ...fast });
    proxy.plan('lose-reply');
    for (let i = 0; i < 4; i++) tracker.track('purchased', { userId: 'lost-reply', itemId: `b-0${i}` });
    const result = await tracker.flush();
    expect(eventPosts()).toHaveLength(2);
    // The retry's reply: all four were already there.
    expect(result).toEqual({ accepted: 0, duplicates: 4, rejected: 0, failed: 0 });
    expect(await storedEvents('lost-reply')).toHaveLength(4);
    await tracker.close();
  });

  it('keeps a batch that could not be delivered and sends it on the next flush', async () => {
    const tracker = createTracker({ host: proxy.url, writeKey: ingestKey, ...fast, maxRetries: 1 });
    proxy.plan('drop', 'drop');
    tracker.track('clicked', { userId: 'kept-user', itemId: 'b-01' });
    tracker.track('clicked', { userId: 'kept-user', itemId: 'b-02' });
    expect(await tracker.flush()).toMatchObject({ accepted: 0, failed: 2 });
    expect(errors.map((e) => [e.code, e.retryable, e.events.length])).toEqual([['network_error', true, 2]]);
    expect(await storedEvents('kept-user')).toHaveLength(0);
    expect(await tracker.flush()).toMatchObject({ accepted: 2, failed: 0 });
    expect(await storedEvents('kept-user')).toHaveLength(2);
    await tracker.close();
  });

  it('does not retry a refusal (401): the batch is dropped and reported', async () => {
    const tracker = createTracker({ host: proxy.url, writeKey: 'attune_ingest_not-a-key', ...fast });
    tracker.track('clicked', { userId: 'bad-key', itemId: 'b-01' });
    expect(await tracker.close()).toMatchObject({ failed: 1 });
    expect(eventPosts()).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 401, code: 'unauthorized', retryable: false });
    expect(errors[0]!.events).toHaveLength(1);
    // Nothing left to send.
    expect(await tracker.flush()).toEqual({ accepted: 0, duplicates: 0, rejected: 0, failed: 0 });
  });
});

describe('the server client', () => {
  let client: Client;
  beforeAll(() => {
    client = createClient({ host: proxy.url, apiKey: serverKey, ...fast });
  });
  afterAll(() => client.close());

  it('recommendations: a typed list from the trained model, with query options', async () => {
    const user = shop.groupA[0]!;
    const reply = await client.recommendations(user, { n: 3, category: ['outdoor'], exclude_seen: true });
    expect(reply.user_id).toBe(user);
    expect(reply.items).toHaveLength(3);
    for (const item of reply.items) {
      expect(shop.category.get(item.item_id)).toBe('outdoor');
      expect(shop.seen.get(user)!.has(item.item_id)).toBe(false);
      expect(typeof item.score).toBe('number');
    }
    expect(proxy.seen[0]!.headers.authorization).toBe(`Bearer ${serverKey}`);
    expect(proxy.seen[0]!.url).toMatch(/n=3&category=outdoor&exclude_seen=true$/);
  });

  it('similar: items like one item', async () => {
    const reply = await client.similar('a-01', { n: 4 });
    expect(reply.item_id).toBe('a-01');
    expect(reply.items.length).toBeGreaterThan(0);
    expect(reply.items.map((i) => i.item_id)).not.toContain('a-01');
  });

  it('decide and reward: a decision from the point, then its reward recorded', async () => {
    const decision = await client.decide('banner', 'ua-00', { context: { device: 'mobile' } });
    expect(['a', 'b']).toContain(decision.action.id);
    expect(decision.point).toBe('banner');
    const reward = await client.reward('banner', decision.decision_id, 1);
    expect(reward).toEqual({ status: 'recorded', decision_id: decision.decision_id, reward: 1 });
    // A second reward is refused by the engine: a typed error, not retried.
    const again = await client.reward('banner', decision.decision_id, 1).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(AttuneError);
    expect(again).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('decide is retried on 503 (not processed) but not on 500 (it may have been made)', async () => {
    proxy.plan({ status: 503 });
    await client.decide('banner', 'ua-01', { context: { device: 'desktop' } });
    expect(proxy.seen.filter((r) => r.url === '/v1/decisions/banner')).toHaveLength(2);
    proxy.seen.length = 0;
    proxy.plan({ status: 500 });
    await expect(client.decide('banner', 'ua-01')).rejects.toMatchObject({ status: 500 });
    expect(proxy.seen).toHaveLength(1);
  });

  it('assignments and exposure: the user’s variant, and an exposure under that same variant', async () => {
    let user: string | undefined;
    for (const candidate of shop.groupB) {
      const reply = await client.assignments(candidate);
      if (!reply.holdout) {
        user = candidate;
        expect(reply.assignments.map((a) => a.experiment)).toEqual(['layout']);
        break;
      }
    }
    expect(user).toBeDefined();
    const variant = (await client.assignments(user!)).assignments[0]!.variant;
    const exposure = await client.exposure(user!, 'layout');
    expect(exposure).toMatchObject({ user_id: user, experiment: 'layout', variant });
  });

  it('identify sends traits now and returns the stored user', async () => {
    const reply = await client.identify('server-user', { tier: 'gold' }, { consent: 'full' });
    expect(reply.user).toMatchObject({ id: 'server-user', traits: { tier: 'gold' }, consent: 'full' });
  });

  it('tracks too, with a user per event', async () => {
    const id = client.track('purchased', { userId: 'server-user', itemId: 'a-05' });
    client.page({ userId: 'server-user', url: 'https://shop.example/cart' });
    await client.flush();
    const stored = await storedEvents('server-user');
    expect(stored.map((e) => e.name).sort()).toEqual(['page_viewed', 'purchased']);
    expect(stored.find((e) => e.name === 'purchased')!.eventId).toBe(id);
  });

  it('an ingest key cannot read: the server methods reject with 403', async () => {
    const browserKeyClient = createClient({ host: engine.url, apiKey: ingestKey, ...fast });
    await expect(browserKeyClient.recommendations('ua-00')).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
    });
    await browserKeyClient.close();
  });
});

describe('what a page-hide beacon sends (POST /v1/events, text/plain, the key in the body)', () => {
  const beacon = (body: string) =>
    fetch(`${engine.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body,
    });
  const events = (userId: string) => [
    { event: 'clicked', user_id: userId, item_id: 'a-01', event_id: `${userId}-1` },
  ];

  it('takes an ingest key as write_key and stores the events', async () => {
    const reply = await beacon(JSON.stringify({ write_key: ingestKey, events: events('beacon-user') }));
    expect(reply.status).toBe(200);
    expect(await reply.json()).toMatchObject({ accepted: 1, rejected: 0 });
    expect(await storedEvents('beacon-user')).toHaveLength(1);
  });

  it('refuses a server key there, a body without a key, an unknown key and a body that is not JSON', async () => {
    const server = await beacon(JSON.stringify({ write_key: serverKey, events: events('beacon-refused') }));
    expect(server.status).toBe(401);
    expect(((await server.json()) as { error: { message: string } }).error.message).toMatch(
      /ingest keys only/,
    );
    expect((await beacon(JSON.stringify({ events: events('beacon-refused') }))).status).toBe(401);
    expect(
      (await beacon(JSON.stringify({ write_key: 'attune_ingest_nope', events: events('beacon-refused') })))
        .status,
    ).toBe(401);
    const notJson = await beacon('{"write_key": ');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toMatch(
      /not valid JSON/,
    );
    expect(await storedEvents('beacon-refused')).toHaveLength(0);
  });
});

describe('a batch over the engine’s body limit', () => {
  it('is split until its parts fit (413), and every event is stored', async () => {
    const tracker = createTracker({ host: proxy.url, writeKey: ingestKey, ...fast });
    const big = 'x'.repeat(400_000);
    for (let i = 0; i < 3; i++) {
      tracker.track('clicked', { userId: 'big-user', itemId: `a-0${i}`, properties: { note: big } });
    }
    const result = await tracker.close();
    expect(result).toEqual({ accepted: 3, duplicates: 0, rejected: 0, failed: 0 });
    // 3 events (1.2 MB: 413), then halves: 2 (0.8 MB) and the last one.
    expect(eventPosts().map((r) => [(JSON.parse(r.body) as { events: unknown[] }).events.length])).toEqual([
      [3],
      [2],
      [1],
    ]);
    expect(await storedEvents('big-user')).toHaveLength(3);
    expect(errors).toEqual([]);
  });
});
