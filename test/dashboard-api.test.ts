import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type {
  DecisionTimelineReply,
  EventsReply,
  ExperimentTimelineReply,
  ModelsReply,
  OverviewReply,
  ProjectionReply,
  UsersReply,
} from '../src/api/dashboard-schemas.js';
import { buildApp } from '../src/api/index.js';
import { Engine, engineConfig, type EngineConfig } from '../src/engine/index.js';
import { trainSegments } from '../src/segments/from-store.js';
import { DATABASE_FILE } from '../src/store/sqlite.js';
import { logIndexCatchUp } from '../src/store/sqlite-log-index.js';
import { prepareStatements } from '../src/store/sqlite-statements.js';
import { plantedShop as segmentShop, SHOP_ITEMS } from '../src/segments/test-shop.js';
import { deviceBannerPoint, plantedShop, type ErrorReply } from './helpers.js';

/*
 * The dashboard's data routes over real HTTP (a listening server, `fetch`), on an engine whose clock is
 * fixed, with events, served lists and decisions whose counts are known: what each route answers must be
 * exactly those counts, with a key of the admin scope only.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

interface Server {
  readonly engine: Engine;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly dir: string;
  readonly admin: string;
  readonly server: string;
  close(): Promise<void>;
}

async function openServer(now: () => number, overrides: Partial<EngineConfig> = {}): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), 'attune-dashboard-'));
  const engine = await Engine.open(
    engineConfig(`sqlite:${dir}`, { retrainIntervalMs: null, selection: 'fixed', holdout: 0, ...overrides }),
    undefined,
    { clock: now },
  );
  const mismatches: string[] = [];
  const app = buildApp({
    engine,
    validateReplies: (m) => mismatches.push(`${m.route} ${m.status}: ${m.problems.join('; ')}`),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const admin = (await engine.access.create({ scope: 'admin' })).key;
  const server = (await engine.access.create({ scope: 'server' })).key;
  return {
    engine,
    app,
    url: `http://127.0.0.1:${port}`,
    dir,
    admin,
    server,
    async close() {
      await app.close();
      await engine.close();
      await rm(dir, { recursive: true, force: true });
      if (mismatches.length > 0)
        throw new Error(`replies not matching their schemas:\n${mismatches.join('\n')}`);
    },
  };
}

async function request<T>(
  s: Server,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = s.admin,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${s.url}${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
}

const get = <T>(s: Server, path: string, key?: string | null) => request<T>(s, 'GET', path, undefined, key);

describe('dashboard data on a store with known events', () => {
  // Half past a minute, so that events 10 seconds apart share their minute.
  const NOW = Math.floor(Date.now() / MINUTE) * MINUTE - 2 * MINUTE + 30_000;
  let s: Server;
  /** The engine's clock: NOW until the last test moves it. */
  let clock = NOW;
  const at = (ms: number) => new Date(NOW - ms).toISOString();
  const events = [
    { event: 'product_viewed', user_id: 'u1', item_id: 'i1', timestamp: at(5 * MINUTE) },
    { event: 'product_clicked', user_id: 'u1', item_id: 'i2', timestamp: at(5 * MINUTE - 10_000) },
    { event: 'product_viewed', user_id: 'u2', item_id: 'i1', timestamp: at(30 * MINUTE) },
    {
      event: 'added_to_cart',
      user_id: 'u2',
      item_id: 'i3',
      timestamp: at(30 * MINUTE),
      properties: { request_id: 'L2' },
    },
    { event: 'purchased', user_id: 'u3', item_id: 'i3', timestamp: at(3 * HOUR) },
    // An impression carrying a list's request id is not a click on it.
    {
      event: 'impression',
      user_id: 'u3',
      item_id: 'i5',
      timestamp: at(2 * HOUR - 1000),
      properties: { request_id: 'L5' },
    },
    { event: 'clicked', user_id: 'u4', item_id: 'i4', timestamp: at(2 * DAY) },
    { event: 'product_viewed', user_id: 'u5', item_id: 'i1', timestamp: at(10 * DAY) },
    { event: 'product_viewed', user_id: 'u6', item_id: 'i1', timestamp: at(40 * DAY) },
  ];
  const list = (requestId: string, userId: string, ago: number, items: string[]) => ({
    requestId,
    userId,
    createdAt: NOW - ago,
    surface: 'home',
    model: 'popularity',
    modelVersion: 0,
    fallback: false,
    items: items.map((itemId, position) => ({ itemId, position, score: 1 - position / 10 })),
  });

  beforeAll(async () => {
    s = await openServer(() => clock);
    const posted = await request<{ accepted: number }>(s, 'POST', '/v1/events', { events });
    expect(posted.body.accepted).toBe(events.length);
    await s.engine.store.appendImpressions([
      // Clicked: a click event on a listed item after the list.
      list('L1', 'u1', 6 * MINUTE, ['i1', 'i2']),
      // Clicked: an event carrying its request id.
      list('L2', 'u2', 40 * MINUTE, ['i9']),
      // Not clicked: a purchase is no click, and it names no request id.
      list('L3', 'u3', 4 * HOUR, ['i3']),
      // Not clicked: only an impression names it.
      list('L5', 'u3', 2 * HOUR, ['i5']),
      // Clicked, two days later: in the last 7 days, not the last 24 hours.
      list('L4', 'u4', 3 * DAY, ['i4']),
      // Another user's click on the same item does not count.
      list('L6', 'u5', 3 * DAY, ['i4']),
    ]);
  });
  afterAll(() => s.close());

  it('overview: events per minute and per day, active users, click-through, totals', async () => {
    const reply = await get<OverviewReply>(s, '/v1/dashboard/overview');
    expect(reply.status).toBe(200);
    const o = reply.body;
    expect(o.as_of).toBe(new Date(NOW).toISOString());
    expect(o.events_per_minute).toHaveLength(60);
    expect(o.events_per_minute.at(-1)?.start).toBe(new Date(Math.floor(NOW / MINUTE) * MINUTE).toISOString());
    const perMinute = new Map(o.events_per_minute.map((p) => [p.start, p.count]));
    const minuteOf = (ago: number) => new Date(Math.floor((NOW - ago) / MINUTE) * MINUTE).toISOString();
    expect(perMinute.get(minuteOf(5 * MINUTE))).toBe(2);
    expect(perMinute.get(minuteOf(30 * MINUTE))).toBe(2);
    expect(o.events_per_minute.reduce((sum, p) => sum + p.count, 0)).toBe(4);
    expect(o.events_per_day).toHaveLength(30);
    expect(o.events_per_day.at(-1)?.start).toBe(new Date(Math.floor(NOW / DAY) * DAY).toISOString());
    const perDay = new Map(o.events_per_day.map((p) => [p.start, p.count]));
    const dayOf = (ago: number) => new Date(Math.floor((NOW - ago) / DAY) * DAY).toISOString();
    const expected = new Map<string, number>();
    for (const ago of [
      5 * MINUTE,
      5 * MINUTE - 10_000,
      30 * MINUTE,
      30 * MINUTE,
      3 * HOUR,
      2 * HOUR - 1000,
    ]) {
      expected.set(dayOf(ago), (expected.get(dayOf(ago)) ?? 0) + 1);
    }
    expected.set(dayOf(2 * DAY), (expected.get(dayOf(2 * DAY)) ?? 0) + 1);
    expected.set(dayOf(10 * DAY), 1);
    for (const [day, count] of expected) expect(perDay.get(day)).toBe(count);
    // The 40-day-old event is outside the 30 days.
    expect(o.events_per_day.reduce((sum, p) => sum + p.count, 0)).toBe(8);
    expect(o.active_users).toEqual({ last_hour: 2, last_day: 3, last_7_days: 4 });
    expect(o.click_through.as_of).toBe(o.as_of);
    expect(o.click_through.last_24_hours).toEqual({ lists: 4, clicked: 2, rate: 0.5 });
    expect(o.click_through.last_7_days).toEqual({ lists: 6, clicked: 3, rate: 0.5 });
    expect(o.totals).toEqual({ events: 9, users: 6, items: 5 });
    expect(o.model).toBeNull();
    expect(o.health).toEqual({ status: 'starting' });
    expect(o.training).toEqual({ state: 'idle' });
    expect(o.store).toBe('sqlite');
    expect(o.uptime_seconds).toBeGreaterThan(0);
  });

  it('overview counts what the activity tables index and the log tail beyond them alike', async () => {
    const before = (await get<OverviewReply>(s, '/v1/dashboard/overview')).body;
    // A second connection catches the derived tables up, as the store's background thread does.
    const db = new Database(join(s.dir, DATABASE_FILE));
    try {
      db.pragma('busy_timeout = 5000');
      logIndexCatchUp(db, prepareStatements(db))();
      expect(db.prepare('SELECT sum(events) AS n FROM event_minutes').get()).toEqual({ n: 9 });
    } finally {
      db.close();
    }
    const after = (await get<OverviewReply>(s, '/v1/dashboard/overview')).body;
    const { took_ms: _a, uptime_seconds: _b, ...same } = before;
    expect(after).toMatchObject(same);
  });

  it('events: newest first with positions, filters, paging and polling after a position', async () => {
    const all = await get<EventsReply>(s, '/v1/dashboard/events?limit=100');
    expect(all.status).toBe(200);
    expect(all.body.events).toHaveLength(9);
    const seqs = all.body.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(all.body.last_seq).toBe(seqs[0]);
    expect(all.body.next_before).toBeNull();
    expect(all.body.events.at(-1)).toMatchObject({ event: 'product_viewed', user_id: 'u1', item_id: 'i1' });

    const page1 = await get<EventsReply>(s, '/v1/dashboard/events?limit=4');
    expect(page1.body.events.map((e) => e.seq)).toEqual(seqs.slice(0, 4));
    const page2 = await get<EventsReply>(s, `/v1/dashboard/events?limit=4&before=${page1.body.next_before}`);
    expect(page2.body.events.map((e) => e.seq)).toEqual(seqs.slice(4, 8));
    const page3 = await get<EventsReply>(s, `/v1/dashboard/events?limit=4&before=${page2.body.next_before}`);
    expect(page3.body.events.map((e) => e.seq)).toEqual(seqs.slice(8));
    expect(page3.body.next_before).toBeNull();

    const viewed = await get<EventsReply>(s, '/v1/dashboard/events?event=product_viewed');
    expect(viewed.body.events.map((e) => e.user_id)).toEqual(['u6', 'u5', 'u2', 'u1']);
    const u3 = await get<EventsReply>(s, '/v1/dashboard/events?user_id=u3');
    expect(u3.body.events.map((e) => e.event)).toEqual(['impression', 'purchased']);
    expect(u3.body.events[0]?.properties).toEqual({ request_id: 'L5' });
    const i1 = await get<EventsReply>(s, '/v1/dashboard/events?item_id=i1');
    expect(i1.body.events.map((e) => e.user_id)).toEqual(['u6', 'u5', 'u2', 'u1']);
    const i1u2 = await get<EventsReply>(s, '/v1/dashboard/events?item_id=i1&user_id=u2');
    expect(i1u2.body.events.map((e) => e.event)).toEqual(['product_viewed']);
    const none = await get<EventsReply>(s, '/v1/dashboard/events?item_id=i1&event=purchased');
    expect(none.body.events).toEqual([]);

    // Polling: nothing after the last position, then exactly what arrived.
    const last = all.body.last_seq;
    expect((await get<EventsReply>(s, `/v1/dashboard/events?after=${last}`)).body.events).toEqual([]);
    await request(s, 'POST', '/v1/events', {
      event: 'product_viewed',
      user_id: 'u7',
      item_id: 'i2',
      timestamp: at(0),
    });
    const polled = await get<EventsReply>(s, `/v1/dashboard/events?after=${last}`);
    expect(polled.body.events.map((e) => [e.seq, e.user_id])).toEqual([[last + 1, 'u7']]);
    expect(polled.body.last_seq).toBe(last + 1);
    const i2 = await get<EventsReply>(s, `/v1/dashboard/events?item_id=i2&after=${last - 9}`);
    expect(i2.body.events.map((e) => e.user_id)).toEqual(['u7', 'u1']);
  });

  it('users: the most recently active first, by id prefix', async () => {
    const users = await get<UsersReply>(s, '/v1/dashboard/users?limit=3');
    expect(users.status).toBe(200);
    expect(users.body.users).toEqual([
      { user_id: 'u7', last_seen: at(0), events: 1 },
      { user_id: 'u1', last_seen: at(5 * MINUTE - 10_000), events: 2 },
      { user_id: 'u2', last_seen: at(30 * MINUTE), events: 2 },
    ]);
    const prefixed = await get<UsersReply>(s, '/v1/dashboard/users?prefix=u5');
    expect(prefixed.body.users).toEqual([{ user_id: 'u5', last_seen: at(10 * DAY), events: 1 }]);
    expect((await get<UsersReply>(s, '/v1/dashboard/users?prefix=x')).body.users).toEqual([]);
  });

  it('answers 400 naming the bad field, 401 without a key and 403 for a key below admin', async () => {
    const cases: [string, RegExp][] = [
      ['/v1/dashboard/events?limit=0', /limit/],
      ['/v1/dashboard/events?limit=501', /limit/],
      ['/v1/dashboard/events?before=abc', /before/],
      ['/v1/dashboard/users?limit=-1', /limit/],
      ['/v1/dashboard/segments/projection?limit=1', /limit/],
      ['/v1/dashboard/decision-points/p/timeline?bucket=week', /bucket/],
    ];
    for (const [path, field] of cases) {
      const reply = await get<ErrorReply>(s, path);
      expect(reply.status, path).toBe(400);
      expect(reply.body.error.code).toBe('invalid_request');
      expect(reply.body.error.message).toMatch(field);
    }
    const paths = [
      '/v1/dashboard/overview',
      '/v1/dashboard/events',
      '/v1/dashboard/users',
      '/v1/dashboard/models',
      '/v1/dashboard/experiments/x/timeline',
      '/v1/dashboard/segments/projection',
      '/v1/dashboard/decision-points/x/timeline',
    ];
    for (const path of paths) {
      expect((await get(s, path, null)).status, path).toBe(401);
      const forbidden = await get<ErrorReply>(s, path, s.server);
      expect(forbidden.status, path).toBe(403);
      expect(forbidden.body.error.message).toMatch(/admin scope/);
    }
  });

  it('answers 404 for an unknown experiment, decision point, or without segments', async () => {
    const experiment = await get<ErrorReply>(s, '/v1/dashboard/experiments/nope/timeline');
    expect(experiment.status).toBe(404);
    expect(experiment.body.error.message).toMatch(/no experiment "nope"/);
    const point = await get<ErrorReply>(s, '/v1/dashboard/decision-points/nope/timeline');
    expect(point.status).toBe(404);
    expect(point.body.error.message).toMatch(/no decision point "nope"/);
    const projection = await get<ErrorReply>(s, '/v1/dashboard/segments/projection');
    expect(projection.status).toBe(404);
    expect(projection.body.error.code).toBe('no_segments_model');
  });

  it('decision point timeline: decisions, rewards and exploration per hour, zero-filled', async () => {
    // Set up through the engine (the decision routes have tests of their own).
    const decisions = s.engine.decisions;
    await decisions.create(deviceBannerPoint('banner'));
    let explored = 0;
    let rewardSum = 0;
    for (let i = 0; i < 30; i++) {
      const decided = await decisions.decide('banner', {
        userId: `d${i}`,
        context: { device: i % 2 === 0 ? 'mobile' : 'desktop' },
        available: null,
        limits: {},
      });
      const best = Math.max(...decided.ranking.map((r) => r.probability));
      if (decided.propensity < best * (1 - 1e-9)) explored++;
      if (i % 3 === 0) {
        const value = i % 2;
        rewardSum += value;
        expect((await decisions.reward('banner', decided.id, value)).status).toBe('recorded');
      }
    }
    // Epsilon-greedy at 0.2 over two actions explores now and then, and not always.
    expect(explored).toBeGreaterThan(0);
    expect(explored).toBeLessThan(30);
    const reply = await get<DecisionTimelineReply>(
      s,
      '/v1/dashboard/decision-points/banner/timeline?limit=24',
    );
    expect(reply.status).toBe(200);
    const { buckets } = reply.body;
    expect(buckets).toHaveLength(24);
    expect(buckets.at(-1)?.start).toBe(new Date(Math.floor(NOW / HOUR) * HOUR).toISOString());
    expect(buckets.slice(0, -1).every((b) => b.decisions === 0 && b.exploration_rate === null)).toBe(true);
    expect(buckets.at(-1)).toMatchObject({
      decisions: 30,
      rewarded: 10,
      reward_sum: rewardSum,
      mean_reward: rewardSum / 10,
      explored,
      exploration_rate: explored / 30,
    });
    const daily = await get<DecisionTimelineReply>(
      s,
      '/v1/dashboard/decision-points/banner/timeline?bucket=day&limit=2',
    );
    expect(daily.body.buckets.map((b) => b.decisions)).toEqual([0, 30]);
    expect(daily.body.bucket).toBe('day');
  });

  it('overview: click-through is kept for 30 s, then answered from the last value while it refreshes', async () => {
    await s.engine.store.appendImpressions([list('L7', 'u7', 0, ['i2'])]);
    await request(s, 'POST', '/v1/events', {
      event: 'clicked',
      user_id: 'u7',
      item_id: 'i2',
      timestamp: at(0),
    });
    clock = NOW + 29_000;
    const kept = (await get<OverviewReply>(s, '/v1/dashboard/overview')).body.click_through;
    expect(kept.as_of).toBe(new Date(NOW).toISOString());
    expect(kept.last_24_hours.lists).toBe(4);
    clock = NOW + 31_000;
    const stale = (await get<OverviewReply>(s, '/v1/dashboard/overview')).body.click_through;
    expect(stale.as_of).toBe(new Date(NOW).toISOString());
    // The refresh runs on its worker; a later overview has it.
    let fresh = stale;
    for (let tries = 0; tries < 100 && fresh.as_of === stale.as_of; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      fresh = (await get<OverviewReply>(s, '/v1/dashboard/overview')).body.click_through;
    }
    expect(fresh.as_of).toBe(new Date(NOW + 31_000).toISOString());
    expect(fresh.last_24_hours).toEqual({ lists: 5, clicked: 3, rate: 0.6 });
  });
});

describe('dashboard models and experiment timeline on a trained engine', () => {
  let s: Server;
  beforeAll(async () => {
    s = await openServer(() => Date.now(), { selection: 'auto' });
    const shop = plantedShop({ usersPerGroup: 30 });
    expect((await request(s, 'POST', '/v1/items', { items: shop.items })).status).toBeLessThan(300);
    for (let i = 0; i < shop.events.length; i += 500) {
      await request(s, 'POST', '/v1/events', { events: shop.events.slice(i, i + 500) });
    }
  }, 60_000);
  afterAll(() => s.close());

  it('models: every stored version, the serving one marked, with what selection measured', async () => {
    const empty = await get<ModelsReply>(s, '/v1/dashboard/models');
    expect(empty.body).toEqual({ serving_version: null, training: { state: 'idle' }, versions: [] });
    for (let run = 0; run < 2; run++) {
      expect((await request(s, 'POST', '/v1/admin/train?wait=true')).status).toBe(200);
    }
    const reply = await get<ModelsReply>(s, '/v1/dashboard/models');
    expect(reply.status).toBe(200);
    const models = await get<{
      serving: { version: number; selection: { valNdcg: number | null; tried: unknown[] } | null };
      versions: { version: number; position: number }[];
    }>(s, '/v1/models');
    expect(reply.body.serving_version).toBe(models.body.serving.version);
    expect(reply.body.versions.map((v) => [v.version, v.position])).toEqual(
      models.body.versions.map((v) => [v.version, v.position]),
    );
    expect(reply.body.versions.filter((v) => v.serving).map((v) => v.version)).toEqual([
      models.body.serving.version,
    ]);
    const serving = reply.body.versions.find((v) => v.serving)!;
    const selection = models.body.serving.selection;
    expect(selection).not.toBeNull();
    expect(serving.validation?.ndcg_at_20).toBe(selection?.valNdcg);
    expect(serving.tried).toHaveLength(selection!.tried.length);
    if (serving.tried.length > 0)
      expect(serving.tried.filter((t) => t.chosen).length).toBeGreaterThanOrEqual(1);

    const overview = await get<OverviewReply>(s, '/v1/dashboard/overview');
    expect(overview.body.model?.version).toBe(models.body.serving.version);
    expect(overview.body.model?.validation?.ndcg_at_20).toBe(selection?.valNdcg);
    expect(overview.body.health.status).toBe('ready');
  }, 120_000);

  it('experiment timeline: the report’s daily series per metric and variant', async () => {
    const created = await request(s, 'POST', '/v1/experiments', {
      id: 'exp',
      variants: [
        { name: 'control', control: true },
        { name: 'pop', model: 'popularity' },
      ],
      start: true,
    });
    expect(created.status).toBe(201);
    for (let u = 0; u < 30; u++) {
      for (const group of ['ua', 'ub']) {
        const user = `${group}-${String(u).padStart(2, '0')}`;
        expect((await get(s, `/v1/recommendations?user_id=${user}`, s.server)).status).toBe(200);
      }
    }
    const timeline = await get<ExperimentTimelineReply>(s, '/v1/dashboard/experiments/exp/timeline');
    expect(timeline.status).toBe(200);
    const results = await get<{
      exposed: Record<string, number>;
      metrics: {
        metric: string;
        series: { users: Record<string, number>; lift: Record<string, { rel_lift: number } | null> }[];
      }[];
    }>(s, '/v1/experiments/exp/results');
    const t = timeline.body;
    expect(t.variants).toEqual(['control', 'pop']);
    expect(t.control).toBe('control');
    const lastExposure = t.exposure.at(-1)!;
    expect(lastExposure.variants.map((v) => v.users)).toEqual([
      results.body.exposed['control'] ?? 0,
      results.body.exposed['pop'] ?? 0,
    ]);
    expect(lastExposure.variants.reduce((sum, v) => sum + v.users, 0)).toBe(60);
    expect(t.metrics.map((m) => m.metric)).toEqual(results.body.metrics.map((m) => m.metric));
    t.metrics.forEach((metric, i) => {
      const series = results.body.metrics[i]!.series;
      expect(metric.days).toHaveLength(series.length);
      metric.days.forEach((day, d) => {
        const [control, treatment] = day.variants;
        expect(control?.rel_lift).toBeNull();
        expect(treatment?.rel_lift ?? null).toBe(series[d]!.lift['pop']?.rel_lift ?? null);
        expect(treatment?.users).toBe(series[d]!.users['pop']);
        for (const v of day.variants) {
          if (v.estimate === null) continue;
          expect(v.ci_low!).toBeLessThanOrEqual(v.estimate);
          expect(v.ci_high!).toBeGreaterThanOrEqual(v.estimate);
        }
      });
    });
  }, 120_000);
});

describe('dashboard segment projection', () => {
  let s: Server;
  const shop = segmentShop(Date.now());
  beforeAll(async () => {
    s = await openServer(() => Date.now());
    await s.engine.putItems(SHOP_ITEMS.map((item) => ({ item, createdAtGiven: true })));
    await s.engine.appendEvents(shop.events);
    await trainSegments(s.engine.store, s.engine.config.features, Date.now(), { trainedAt: Date.now() });
    await s.engine.refreshSegments();
  }, 60_000);
  afterAll(() => s.close());

  it('places recent users and the segment centres on two principal axes, in their segments', async () => {
    const reply = await get<ProjectionReply>(s, '/v1/dashboard/segments/projection?limit=90');
    expect(reply.status).toBe(200);
    const p = reply.body;
    expect(p.algorithm).toBe('kmeans');
    expect(p.points).toHaveLength(90);
    expect(p.centres).toHaveLength(3);
    expect(p.explained_variance[0]).toBeGreaterThanOrEqual(p.explained_variance[1]!);
    expect(p.explained_variance[0]! + p.explained_variance[1]!).toBeLessThanOrEqual(1 + 1e-12);
    // Each point's segment is the one the user route places the user in.
    for (const point of p.points.slice(0, 10)) {
      const placed = await s.engine.userSegment(point.user_id);
      expect('assignment' in placed && placed.assignment.segment.id).toBe(point.segment);
    }
    // The planted groups stay apart on the plot: most points lie nearest their own segment's centre.
    const nearest = (x: number, y: number) =>
      p.centres.reduce((best, c) =>
        Math.hypot(c.x - x, c.y - y) < Math.hypot(best.x - x, best.y - y) ? c : best,
      ).segment;
    const agree = p.points.filter((pt) => nearest(pt.x, pt.y) === pt.segment).length;
    expect(agree / p.points.length).toBeGreaterThan(0.9);
  });
});
