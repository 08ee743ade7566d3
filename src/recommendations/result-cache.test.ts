import { describe, expect, it } from 'vitest';

import type { Item } from '../catalog/index.js';
import type { ModelBundle } from '../training/index.js';
import type { ServingProfile } from './profile.js';
import { ResultCache, type ServedList } from './result-cache.js';
import { compileRules, type Rules } from './rules.js';
import type { SharedList, SharedLists } from './shared-lists.js';
import type { CatalogView, RecommendationRequest } from './types.js';

const T0 = Date.UTC(2026, 5, 1);

/**
 * A catalog at the version given that holds every item but those in `gone`, each available and expiring
 * at its time in `expiries` (never when absent).
 */
function catalog(
  version = 1,
  gone: ReadonlySet<string> = new Set(),
  expiries: Readonly<Record<string, number>> = {},
): CatalogView {
  const get = (id: string): Item | undefined =>
    gone.has(id) ? undefined : ({ id, available: true, expiresAt: expiries[id] ?? null } as Item);
  return {
    version,
    get,
    isRecommendable: (itemId, now) => {
      const item = get(itemId);
      return item !== undefined && (item.expiresAt === null || now <= item.expiresAt);
    },
    newest: () => [],
  };
}

function request(overrides: Partial<RecommendationRequest> = {}): RecommendationRequest {
  return { requestId: 'r', userId: 'u1', n: 2, excludeSeen: true, filter: null, now: T0, ...overrides };
}

// Only identity matters to the cache: stand-ins for a user's profile and a bundle.
const profile = (): ServingProfile => ({}) as ServingProfile;
const bundle = {} as ModelBundle;

/** A compute function that counts its calls and returns a list naming the call. */
function computer(): { compute: () => ServedList; calls: () => number } {
  let calls = 0;
  return {
    compute: () => {
      calls += 1;
      return {
        userId: 'u1',
        model: 'als',
        modelVersion: 1,
        fallback: null,
        items: [
          { itemId: 'a', score: 2, reason: { kind: 'taste', text: `call ${calls}` } },
          { itemId: 'b', score: 1, reason: { kind: 'taste', text: `call ${calls}` } },
        ],
      };
    },
    calls: () => calls,
  };
}

describe('ResultCache', () => {
  it('serves the same profile and request shape again until the TTL, then computes afresh', () => {
    const cache = new ResultCache(10_000);
    const { compute, calls } = computer();
    const p = profile();
    const first = cache.serve(request(), p, bundle, catalog(), compute);
    expect(first.fresh).toBe(true);
    const again = cache.serve(request({ now: T0 + 4_999 }), p, bundle, catalog(), compute);
    expect(again).toEqual({ list: first.list, fresh: false });
    expect(calls()).toBe(1);
    // The TTL is spread over its second half, never past it.
    expect(cache.serve(request({ now: T0 + 10_000 }), p, bundle, catalog(), compute).fresh).toBe(true);
    expect(calls()).toBe(2);
  });

  it('computes afresh for a new profile, another bundle or a catalog write', () => {
    const cache = new ResultCache(10_000);
    const { compute, calls } = computer();
    const p = profile();
    cache.serve(request(), p, bundle, catalog(1), compute);
    // The user's history changed: buildProfile made a new profile object.
    expect(cache.serve(request(), profile(), bundle, catalog(1), compute).fresh).toBe(true);
    expect(cache.serve(request(), p, {} as ModelBundle, catalog(1), compute).fresh).toBe(true);
    expect(cache.serve(request(), p, {} as ModelBundle, catalog(2), compute).fresh).toBe(true);
    expect(calls()).toBe(4);
  });

  it('keeps each request shape apart: n, exclude_seen, variant model, holdout, rules, filter', () => {
    const cache = new ResultCache(10_000);
    const { compute, calls } = computer();
    const p = profile();
    const rules = {} as Rules;
    const shapes: Partial<RecommendationRequest>[] = [
      {},
      { n: 3 },
      { excludeSeen: false },
      { model: 'ease' },
      { personalized: false },
      { rules },
      { rules: {} as Rules },
      { filter: { categories: ['shoes'], predicates: [] } },
    ];
    for (const shape of shapes)
      expect(cache.serve(request(shape), p, bundle, catalog(), compute).fresh).toBe(true);
    // Each again (compiled rules are shared between equal requests: the same object is the same shape).
    for (const shape of shapes.slice(0, 6)) {
      expect(cache.serve(request(shape), p, bundle, catalog(), compute).fresh).toBe(false);
    }
    expect(
      cache.serve(
        request({ filter: { categories: ['shoes'], predicates: [] } }),
        p,
        bundle,
        catalog(),
        compute,
      ).fresh,
    ).toBe(false);
    expect(calls()).toBe(shapes.length);
  });

  it('never serves a kept list past the expiry of one of its items', () => {
    const cache = new ResultCache(10_000);
    const { compute, calls } = computer();
    const p = profile();
    // Expiry is the clock, not a catalog write: the version stays the same throughout.
    const expiring = catalog(1, new Set(), { a: T0 + 200, b: T0 + 100 });
    cache.serve(request(), p, bundle, expiring, compute);
    // At its expiry an item is still recommendable; a moment later it is not. A hit asks the catalog about
    // no item: when they expire was read once, when the list was kept.
    let asked = 0;
    const counting: CatalogView = {
      ...expiring,
      isRecommendable: (itemId, now) => (asked++, expiring.isRecommendable(itemId, now)),
      get: (itemId) => (asked++, expiring.get(itemId)),
    };
    expect(cache.serve(request({ now: T0 + 100 }), p, bundle, counting, compute).fresh).toBe(false);
    expect(asked).toBe(0);
    expect(cache.serve(request({ now: T0 + 100.5 }), p, bundle, expiring, compute).fresh).toBe(true);
    expect(calls()).toBe(2);
  });

  it('keeps no list with an item the catalog cannot recommend when it is computed', () => {
    const cache = new ResultCache(10_000);
    const { compute, calls } = computer();
    const p = profile();
    const without = catalog(1, new Set(['b']));
    expect(cache.serve(request(), p, bundle, without, compute).fresh).toBe(true);
    expect(cache.serve(request({ now: T0 + 1 }), p, bundle, without, compute).fresh).toBe(true);
    expect(calls()).toBe(2);
  });

  it('keeps at most a few shapes per profile, and nothing with a null TTL', () => {
    const cache = new ResultCache(10_000);
    const { compute, calls } = computer();
    const p = profile();
    for (let n = 1; n <= 20; n++) cache.serve(request({ n }), p, bundle, catalog(), compute);
    expect(cache.serve(request({ n: 20 }), p, bundle, catalog(), compute).fresh).toBe(false);
    expect(cache.serve(request({ n: 1 }), p, bundle, catalog(), compute).fresh).toBe(true);
    expect(calls()).toBe(21);

    const off = new ResultCache(null);
    const counted = computer();
    off.serve(request(), p, bundle, catalog(), counted.compute);
    expect(off.serve(request(), p, bundle, catalog(), counted.compute).fresh).toBe(true);
    expect(counted.calls()).toBe(2);
    expect(() => new ResultCache(0)).toThrow(/ttlMs/);
  });

  it('freezes the lists it keeps (what is derived from them is made once), and no others', () => {
    const kept = new ResultCache(10_000).serve(request(), profile(), bundle, catalog(), computer().compute);
    expect(Object.isFrozen(kept.list.items)).toBe(true);
    // Kept lists are frozen: nothing may change a list that later requests are served.
    expect(() => (kept.list.items as unknown[]).push('x')).toThrow(TypeError);
    const off = new ResultCache(null).serve(request(), profile(), bundle, catalog(), computer().compute);
    expect(Object.isFrozen(off.list.items)).toBe(false);
  });
});

/** The shared tier as a map (the Redis one is tested on a real server: `cluster/redis-lists.test.ts`). */
function mapLists(): SharedLists & { readonly entries: Map<string, SharedList>; reads: number } {
  const entries = new Map<string, SharedList>();
  return {
    entries,
    reads: 0,
    get(userId, key) {
      this.reads++;
      return Promise.resolve(entries.get(`${userId}/${key}`) ?? null);
    },
    set(userId, key, entry) {
      entries.set(`${userId}/${key}`, entry);
    },
    forgetUser(userId) {
      for (const key of entries.keys()) if (key.startsWith(`${userId}/`)) entries.delete(key);
      return Promise.resolve();
    },
  };
}

/** A profile as sharing reads it: its history's fingerprint and the user's row in the bundle. */
function contentProfile(history: string, userIndex = 0): ServingProfile {
  return {
    model: { userIndex, fresh: false },
    history: { fingerprint: history },
  } as unknown as ServingProfile;
}

const versioned = { info: { version: 4 } } as ModelBundle;
const sharedCatalog = (fingerprint: string, gone: ReadonlySet<string> = new Set()) => ({
  ...catalog(1, gone),
  fingerprint,
});

describe('ResultCache.serveShared', () => {
  it('serves another instance’s list for the same content, then from memory; computes when content differs', async () => {
    const lists = mapLists();
    const shared = { lists, scope: 'settings' };
    const a = new ResultCache(10_000);
    const b = new ResultCache(10_000);
    const { compute, calls } = computer();
    // Instance A computes and offers the list.
    const first = await a.serveShared(
      request(),
      contentProfile('h1'),
      versioned,
      sharedCatalog('c1'),
      compute,
      shared,
    );
    expect(first.source).toBe('computed');
    expect(lists.entries.size).toBe(1);
    // Instance B: its own profile object and catalog, the same content.
    const pb = contentProfile('h1');
    const second = await b.serveShared(
      request({ now: T0 + 10 }),
      pb,
      versioned,
      sharedCatalog('c1'),
      compute,
      shared,
    );
    expect(second).toEqual({ list: first.list, source: 'shared' });
    const third = await b.serveShared(
      request({ now: T0 + 20 }),
      pb,
      versioned,
      sharedCatalog('c1'),
      compute,
      shared,
    );
    expect(third.source).toBe('memory');
    expect(calls()).toBe(1);

    // Anything the list is computed from, changed: another key, so computed.
    const changed: [ServingProfile, ModelBundle, string, Partial<RecommendationRequest>, string][] = [
      [contentProfile('h2'), versioned, 'c1', {}, 'settings'],
      [contentProfile('h1', -1), versioned, 'c1', {}, 'settings'],
      [contentProfile('h1'), { info: { version: 5 } } as ModelBundle, 'c1', {}, 'settings'],
      [contentProfile('h1'), versioned, 'c2', {}, 'settings'],
      [contentProfile('h1'), versioned, 'c1', { n: 3 }, 'settings'],
      [contentProfile('h1'), versioned, 'c1', { rules: compileRules({ diversity: 0.5 }) }, 'settings'],
      [contentProfile('h1'), versioned, 'c1', { personalized: false }, 'settings'],
      [contentProfile('h1'), versioned, 'c1', {}, 'other settings'],
    ];
    for (const [p, bundle, fingerprint, shape, scope] of changed) {
      const fresh = new ResultCache(10_000);
      const served = await fresh.serveShared(request(shape), p, bundle, sharedCatalog(fingerprint), compute, {
        lists,
        scope,
      });
      expect(served.source).toBe('computed');
    }
    expect(calls()).toBe(1 + changed.length);
  });

  it('never serves a shared list past its expiry or with an item no longer recommendable', async () => {
    const lists = mapLists();
    const shared = { lists, scope: '' };
    const { compute, calls } = computer();
    await new ResultCache(10_000).serveShared(
      request(),
      contentProfile('h'),
      versioned,
      sharedCatalog('c'),
      compute,
      shared,
    );
    const [entry] = lists.entries.values();
    const late = await new ResultCache(10_000).serveShared(
      request({ now: entry!.expiresAt }),
      contentProfile('h'),
      versioned,
      sharedCatalog('c'),
      compute,
      shared,
    );
    expect(late.source).toBe('computed');
    const gone = await new ResultCache(10_000).serveShared(
      request({ now: T0 + 1 }),
      contentProfile('h'),
      versioned,
      sharedCatalog('c', new Set(['a'])),
      compute,
      shared,
    );
    expect(gone.source).toBe('computed');
    expect(calls()).toBe(3);
  });

  it('shares nothing for rules it cannot key by content, and reads nothing without a TTL', async () => {
    const lists = mapLists();
    const { compute } = computer();
    const handMade = { ...compileRules({ diversity: 0.5 }) } as Rules;
    await new ResultCache(10_000).serveShared(
      request({ rules: handMade }),
      contentProfile('h'),
      versioned,
      sharedCatalog('c'),
      compute,
      { lists, scope: '' },
    );
    await new ResultCache(null).serveShared(
      request(),
      contentProfile('h'),
      versioned,
      sharedCatalog('c'),
      compute,
      { lists, scope: '' },
    );
    expect(lists.entries.size).toBe(0);
    expect(lists.reads).toBe(0);
  });
});
