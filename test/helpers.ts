import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

import { buildApp, type HttpLimits } from '../src/api/index.js';
import { Engine, engineConfig, type EngineConfig, type EngineOptions } from '../src/engine/index.js';

// --- reply shapes (what the API returns, as the tests read it) ------------------------------------------

export interface ErrorReply {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

export interface EventError {
  readonly index: number;
  readonly field: string;
  readonly message: string;
}

export interface EventsReply {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly errors: EventError[];
}

export interface EventJson {
  readonly event_id: string;
  readonly event: string;
  readonly user_id: string;
  readonly item_id: string | null;
  readonly timestamp: string;
  readonly received_at: string;
  readonly context: Record<string, unknown>;
  readonly properties: Record<string, unknown>;
}

export interface UserEventsReply {
  readonly user_id: string;
  readonly events: EventJson[];
}

export interface ItemJson {
  readonly id: string;
  readonly categories: string[];
  readonly tags: string[];
  readonly price: number | null;
  readonly available: boolean;
  readonly created_at: string;
  readonly expires_at: string | null;
  readonly attributes: Record<string, unknown>;
  readonly updated_at: string;
}

export interface RecommendedItemJson {
  readonly item_id: string;
  readonly score: number;
  readonly reason: string;
  readonly reason_kind: string;
  readonly reason_item_id?: string;
}

export interface RecommendationsReply {
  readonly request_id: string;
  readonly user_id: string;
  readonly model: string;
  readonly model_version: number | null;
  readonly fallback: string | null;
  /** Whether the user is in the global holdout (popularity, never personalization). */
  readonly holdout: boolean;
  readonly experiments: { experiment: string; variant: string; control: boolean; served: boolean }[];
  readonly items: RecommendedItemJson[];
}

export interface SimilarReply {
  readonly request_id: string;
  readonly item_id: string;
  readonly model: string;
  readonly model_version: number | null;
  readonly fallback: string | null;
  readonly items: RecommendedItemJson[];
}

export interface BundleJson {
  readonly version: number;
  readonly primary_model: string;
  readonly users: number;
  readonly items: number;
  readonly interactions: number;
}

export interface TrainReply {
  readonly status: string;
  readonly model: BundleJson;
}

export interface ModelsReply {
  readonly serving: BundleJson | null;
  readonly training: { readonly state: string };
  readonly versions: { readonly version: number; readonly created_at: string; readonly bytes: number }[];
}

export interface ImpressionReply {
  readonly request_id: string;
  readonly user_id: string;
  readonly surface: string;
  readonly model: string;
  readonly model_version: number;
  readonly fallback: boolean;
  readonly items: { readonly item_id: string; readonly position: number; readonly score: number }[];
  readonly outcomes: EventJson[];
}

// --- a real engine and app on a temp SQLite store -------------------------------------------------------

export interface TestApp {
  readonly app: FastifyInstance;
  readonly engine: Engine;
  readonly dir: string;
  /** Closes app and engine; removes the data dir unless `keepData` (to reopen it, as after a restart). */
  close(options?: { readonly keepData?: boolean }): Promise<void>;
}

/**
 * An engine on a SQLite store in a temp dir (or in `dir`, to reopen one), no retrain schedule, and the
 * real Fastify app on it.
 */
export async function openTestApp(
  overrides: Partial<EngineConfig> = {},
  dir?: string,
  limits?: HttpLimits,
  options?: EngineOptions,
): Promise<TestApp> {
  const dataDir = dir ?? (await mkdtemp(join(tmpdir(), 'attune-api-')));
  const engine = await Engine.open(
    // Tests pin the serving model ('fixed', ALS) unless they test selection: fast, and the model is known.
    engineConfig(`sqlite:${dataDir}`, { retrainIntervalMs: null, selection: 'fixed', ...overrides }),
    undefined,
    options,
  );
  // Every 2xx reply is checked against its route's response schema (api/openapi.ts): the whole suite is
  // a conformance check of the OpenAPI document. A mismatch is a 500 at once and fails close() by name.
  const mismatches: string[] = [];
  const app = buildApp({
    engine,
    ...(limits ? { limits } : {}),
    validateReplies: (m) => mismatches.push(`${m.route} ${m.status}: ${m.problems.join('; ')}`),
  });
  await app.ready();
  return {
    app,
    engine,
    dir: dataDir,
    async close(options = {}) {
      await app.close();
      await engine.close();
      if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
      if (mismatches.length > 0) {
        throw new Error(`replies that do not match their schemas:\n${mismatches.join('\n')}`);
      }
    },
  };
}

export interface JsonResponse<T> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
}

/** One request through the whole HTTP layer; a JSON body is sent as JSON, a string as given. */
export async function call<T>(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const response = await app.inject({
    method,
    url,
    ...(payload !== undefined
      ? { payload, headers: { 'content-type': 'application/json', ...headers } }
      : { headers }),
  });
  const text = response.body;
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  return { status: response.statusCode, body: parsed as T, text };
}

export const get = <T>(app: FastifyInstance, url: string) => call<T>(app, 'GET', url);

export function postEvents(app: FastifyInstance, body: unknown): Promise<JsonResponse<EventsReply>> {
  return call<EventsReply>(app, 'POST', '/v1/events', body);
}

/** Posts events (in batches of ≤ 1,000) and fails unless every one was accepted. */
export async function ingest(app: FastifyInstance, events: readonly EventBody[]): Promise<void> {
  for (let start = 0; start < events.length; start += 1000) {
    const batch = events.slice(start, start + 1000);
    const reply = await postEvents(app, { events: batch });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.rejected, reply.text).toBe(0);
    expect(reply.body.accepted).toBe(batch.length);
  }
}

/** Bulk-puts items and fails unless every one was stored. */
export async function putItems(app: FastifyInstance, items: readonly ItemBody[]): Promise<void> {
  const reply = await call<{ stored: number; rejected: number }>(app, 'POST', '/v1/items', { items });
  expect(reply.status, reply.text).toBe(200);
  expect(reply.body).toMatchObject({ stored: items.length, rejected: 0 });
}

/** Trains through the API, waiting for the new version to serve; returns the version. */
export async function train(app: FastifyInstance): Promise<number> {
  const reply = await call<TrainReply>(app, 'POST', '/v1/admin/train?wait=true');
  expect(reply.status, reply.text).toBe(200);
  expect(reply.body.status).toBe('serving');
  return reply.body.model.version;
}

export function recommend(app: FastifyInstance, query: string): Promise<JsonResponse<RecommendationsReply>> {
  return get<RecommendationsReply>(app, `/v1/recommendations?${query}`);
}

/** Recommendations that must succeed (200). */
export async function recommendOk(app: FastifyInstance, query: string): Promise<RecommendationsReply> {
  const reply = await recommend(app, query);
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

export async function userEvents(app: FastifyInstance, userId: string, limit = 1000): Promise<EventJson[]> {
  const reply = await get<UserEventsReply>(
    app,
    `/v1/users/${encodeURIComponent(userId)}/events?limit=${limit}`,
  );
  expect(reply.status, reply.text).toBe(200);
  return reply.body.events;
}

// --- builders -------------------------------------------------------------------------------------------

export interface EventBody {
  readonly event: string;
  readonly user_id: string;
  readonly item_id?: string;
  readonly timestamp?: string | number;
  readonly event_id?: string;
  readonly context?: Record<string, unknown>;
  readonly properties?: Record<string, unknown>;
}

/** An event body as a client sends it; timestamps default to a minute ago. */
export function event(
  userId: string,
  itemId: string,
  name = 'product_viewed',
  extra: Partial<EventBody> = {},
): EventBody {
  return {
    event: name,
    user_id: userId,
    item_id: itemId,
    timestamp: new Date(Date.now() - 60_000).toISOString(),
    ...extra,
  };
}

export interface ItemBody {
  readonly id: string;
  readonly categories?: string[];
  readonly tags?: string[];
  readonly price?: number | null;
  readonly available?: boolean;
  readonly expires_at?: string | null;
  readonly attributes?: Record<string, unknown>;
}

/**
 * A shop with planted structure: two groups of users, each interacting only with its own item cluster.
 * Group A (`ua-…`) uses items `a-…` (category `outdoor`), group B (`ub-…`) items `b-…` (`kitchen`).
 * Item `x-j` costs `5 + 10·j`. Every user touches `perUser` items of the cluster in a spread pattern
 * (views, one add-to-cart, one purchase), so every item is used and the clusters co-occur densely.
 */
export interface PlantedShop {
  readonly groupA: readonly string[];
  readonly groupB: readonly string[];
  readonly itemsA: readonly string[];
  readonly itemsB: readonly string[];
  readonly items: readonly ItemBody[];
  readonly events: readonly EventBody[];
  /** Items each user interacted with. */
  readonly seen: ReadonlyMap<string, ReadonlySet<string>>;
  readonly price: ReadonlyMap<string, number>;
  readonly category: ReadonlyMap<string, string>;
}

export interface PlantedOptions {
  readonly usersPerGroup?: number;
  readonly itemsPerGroup?: number;
  readonly perUser?: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function plantedShop(options: PlantedOptions = {}): PlantedShop {
  const usersPerGroup = options.usersPerGroup ?? 20;
  const itemsPerGroup = options.itemsPerGroup ?? 15;
  const perUser = options.perUser ?? 6;
  const groups = [
    { user: 'ua', item: 'a', category: 'outdoor' },
    { user: 'ub', item: 'b', category: 'kitchen' },
  ] as const;
  const start = Date.now() - 3 * 24 * 3600_000;
  const items: ItemBody[] = [];
  const events: EventBody[] = [];
  const seen = new Map<string, Set<string>>();
  const price = new Map<string, number>();
  const category = new Map<string, string>();
  const users: string[][] = [];
  const clusterItems: string[][] = [];
  let clock = start;
  for (const group of groups) {
    const ids = Array.from({ length: itemsPerGroup }, (_, j) => `${group.item}-${pad(j)}`);
    clusterItems.push(ids);
    ids.forEach((id, j) => {
      price.set(id, 5 + 10 * j);
      category.set(id, group.category);
      items.push({ id, categories: [group.category], price: 5 + 10 * j, attributes: { group: group.item } });
    });
    const groupUsers = Array.from({ length: usersPerGroup }, (_, u) => `${group.user}-${pad(u)}`);
    users.push(groupUsers);
    groupUsers.forEach((userId, u) => {
      const mine = new Set<string>();
      for (let k = 0; mine.size < Math.min(perUser, itemsPerGroup); k++) {
        mine.add(ids[(u * 2 + k * 4 + Math.floor(k / itemsPerGroup)) % itemsPerGroup]!);
      }
      seen.set(userId, mine);
      [...mine].forEach((itemId, k) => {
        clock += 60_000;
        const name = k === 0 ? 'purchased' : k === 1 ? 'added_to_cart' : 'product_viewed';
        events.push({
          event: name,
          user_id: userId,
          item_id: itemId,
          timestamp: new Date(clock).toISOString(),
        });
      });
    });
  }
  return {
    groupA: users[0]!,
    groupB: users[1]!,
    itemsA: clusterItems[0]!,
    itemsB: clusterItems[1]!,
    items,
    events,
    seen,
    price,
    category,
  };
}

/** Loads a planted shop (catalog first, then events) through the API. */
export async function loadShop(app: FastifyInstance, shop: PlantedShop): Promise<void> {
  await putItems(app, shop.items);
  await ingest(app, shop.events);
}

export const ids = (items: readonly { readonly item_id: string }[]): string[] => items.map((i) => i.item_id);

/**
 * A two-action decision point on the device in the context, explicit rewards within 10 minutes: the body
 * of `POST /v1/decision-points` for tests that need one.
 */
export function deviceBannerPoint(id: string, actions: readonly [string, string] = ['a', 'b']) {
  return {
    id,
    actions: actions.map((action) => ({ id: action })),
    features: [{ source: 'context', name: 'device', type: 'category', values: ['mobile', 'desktop'] }],
    learner: { kind: 'epsilon_greedy', epsilon: 0.2, seed: 3 },
    default_action: actions[0],
    reward: { source: 'explicit', window: '10m' },
  };
}
