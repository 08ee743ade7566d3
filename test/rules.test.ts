import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { CatalogIndex, matchesItem, type Item } from '../src/catalog/index.js';
import {
  compileRules,
  defaultStages,
  diversify,
  mergeRulesSpecs,
  runPipeline,
  RulesError,
  type RecommendationRequest,
  type Rules,
  type RulesSpec,
  type ServingProfile,
} from '../src/recommendations/index.js';
import type { TrackedEvent } from '../src/events/index.js';
import { ModelBundle } from '../src/training/index.js';
import { fixedBundle, profileOf, tracked } from './fixed-scores.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15);

interface World {
  readonly items: Item[];
  readonly scores: number[];
  readonly seen: Map<string, number>;
  readonly purchased: Set<string>;
  readonly rejected: Set<string>;
}

const CATEGORIES = ['a', 'b', 'c', 'd'];
const TAGS = ['sale', 'clearance', 'new'];

const itemArb = (id: string): fc.Arbitrary<Item> =>
  fc
    .record({
      categories: fc.subarray(CATEGORIES, { minLength: 0, maxLength: 2 }),
      tags: fc.subarray(TAGS),
      price: fc.option(fc.integer({ min: 1, max: 100 }), { freq: 6 }),
      // One item in ten is out of stock.
      unavailable: fc.integer({ min: 0, max: 9 }),
      ageDays: fc.integer({ min: 0, max: 60 }),
      brand: fc.constantFrom('acme', 'zed'),
    })
    .map((r) => ({
      id,
      categories: r.categories,
      tags: r.tags,
      price: r.price,
      available: r.unavailable !== 0,
      createdAt: NOW - r.ageDays * DAY,
      expiresAt: null,
      attributes: { brand: r.brand },
      updatedAt: NOW,
    }));

const worldArb: fc.Arbitrary<World> = fc.integer({ min: 3, max: 30 }).chain((m) => {
  const ids = Array.from({ length: m }, (_, i) => `i${i}`);
  return fc
    .record({
      items: fc.tuple(...ids.map(itemArb)),
      scores: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: m, maxLength: m }),
      seen: fc.array(fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 0, max: 10 })), { maxLength: m }),
      purchased: fc.subarray(ids, { maxLength: Math.min(5, m) }),
      rejected: fc.subarray(ids, { maxLength: Math.min(3, m) }),
    })
    .map((r) => {
      const seen = new Map(r.seen.map(([id, days]) => [id, NOW - days * DAY]));
      const purchased = new Set(r.purchased);
      for (const id of purchased) if (!seen.has(id)) seen.set(id, NOW - 3 * DAY);
      const rejected = new Set(r.rejected);
      for (const id of rejected) if (!seen.has(id)) seen.set(id, NOW - DAY);
      return { items: [...r.items], scores: r.scores, seen, purchased, rejected };
    });
});

const FILTERS = [
  'price<50',
  'price>=20',
  'category=a',
  'category=b',
  'tags=sale',
  'tags!=clearance',
  'available=true',
  'brand=acme',
  'brand!=zed',
  'not purchased',
];
const ADJUST = ['brand=acme', 'tags=sale', 'category=c', 'price<30', 'tags=clearance'];
const RESHOW = [
  'never',
  'always',
  'seen_after_days:1',
  'purchased_never',
  'seen_after_days:2,purchased_after_days:5',
  'seen_always,purchased_never',
];

interface Case {
  readonly world: World;
  readonly spec: RulesSpec;
  readonly n: number;
  readonly excludeSeen: boolean;
}

const caseArb = (options: { readonly diversity: boolean; readonly boosts: boolean }): fc.Arbitrary<Case> =>
  worldArb.chain((world) => {
    const ids = world.items.map((item) => item.id);
    return fc
      .record({
        filter: fc.subarray(FILTERS, { maxLength: 2 }),
        boost: options.boosts
          ? fc.array(fc.tuple(fc.constantFrom(...ADJUST), fc.constantFrom('', ':1.5', ':3', ':+0.2')), {
              maxLength: 2,
            })
          : fc.constant<[string, string][]>([]),
        bury: fc.array(
          fc.tuple(fc.constantFrom(...ADJUST), fc.constantFrom('', ':0', ':0.5', ':0.9', ':-0.1')),
          {
            maxLength: 2,
          },
        ),
        pins: fc.uniqueArray(fc.tuple(fc.constantFrom(...ids, 'ghost'), fc.integer({ min: 0, max: 12 })), {
          maxLength: 3,
          selector: ([id]) => id,
        }),
        exclude: fc.subarray(ids, { maxLength: Math.min(4, ids.length) }),
        reshow: fc.option(fc.constantFrom(...RESHOW), { nil: undefined }),
        diversity: options.diversity ? fc.double({ min: 0, max: 1, noNaN: true }) : fc.constant(0),
        n: fc.integer({ min: 1, max: 12 }),
        excludeSeen: fc.boolean(),
      })
      .map((r) => {
        const slots = new Set<number>();
        const pins = r.pins.filter(([, slot]) => !slots.has(slot) && slots.add(slot));
        const spec: RulesSpec = {
          filter: r.filter,
          boost: r.boost.map(([e, f]) => e + f),
          bury: r.bury.map(([e, f]) => e + f),
          pin: pins.map(([id, slot]) => `${id}:${slot}`),
          exclude: r.exclude,
          ...(r.reshow !== undefined ? { reshow: r.reshow } : {}),
          diversity: r.diversity,
        };
        return { world, spec, n: r.n, excludeSeen: r.excludeSeen };
      });
  });

/** The world's user as events (a view, purchase or dismissal at each seen time), built as serving builds it. */
function worldProfile(world: World, bundle: ModelBundle): ServingProfile {
  const events: TrackedEvent[] = [];
  for (const [itemId, at] of world.seen) {
    if (world.purchased.has(itemId)) events.push(tracked('purchased', itemId, at));
    if (world.rejected.has(itemId)) events.push(tracked('dismissed', itemId, at));
    if (!world.purchased.has(itemId) && !world.rejected.has(itemId))
      events.push(tracked('product_viewed', itemId, at));
  }
  return profileOf(bundle, events);
}

function run(c: Case) {
  const { world } = c;
  const rules = compileRules(c.spec);
  const itemIds = world.items.map((item) => item.id);
  const bundle = fixedBundle(itemIds, world.scores, NOW);
  const catalog = new CatalogIndex(world.items);
  const request: RecommendationRequest = {
    requestId: 'r',
    userId: 'u',
    n: c.n,
    excludeSeen: c.excludeSeen,
    filter: rules.filter,
    now: NOW,
    rules,
  };
  const result = runPipeline(defaultStages, request, worldProfile(world, bundle), bundle, catalog);
  return { rules, result, catalog };
}

/** The oracle: whether the rules allow an unpinned item, written from the documented semantics. */
function allowedByOracle(c: Case, rules: Rules, item: Item): boolean {
  const { world } = c;
  if (!item.available) return false;
  if (world.rejected.has(item.id) || rules.exclude.has(item.id)) return false;
  if (rules.filter && !matchesItem(item, rules.filter)) return false;
  const bought = world.purchased.has(item.id);
  if (rules.notPurchased && bought) return false;
  const last = world.seen.get(item.id);
  if (last === undefined) return true;
  if (!rules.reshow) return !c.excludeSeen;
  const policy = bought ? rules.reshow.purchased : rules.reshow.seen;
  if (policy.kind === 'never') return false;
  if (policy.kind === 'always') return true;
  return NOW - last >= policy.ms;
}

function validPins(c: Case, rules: Rules, catalog: CatalogIndex) {
  return rules.pins.filter(
    (pin) =>
      pin.slot < c.n &&
      !rules.exclude.has(pin.itemId) &&
      !c.world.rejected.has(pin.itemId) &&
      catalog.isRecommendable(pin.itemId, NOW),
  );
}

function multiplierOf(rules: Rules, item: Item): { boosted: boolean; buried: boolean } {
  let boosted = false;
  let buried = false;
  for (const a of rules.adjustments) {
    if (!matchesItem(item, a.filter)) continue;
    if (a.kind === 'boost') boosted = true;
    else if (a.scale < 1 || a.add < 0) buried = true;
  }
  return { boosted, buried };
}

describe('business rules, property-based (fast-check) over random rule sets and catalogs', () => {
  it('n respected, no duplicates, excluded ids never appear, filters and re-show obeyed exactly, pins on their slots', () => {
    fc.assert(
      fc.property(caseArb({ diversity: true, boosts: true }), (c) => {
        const { rules, result, catalog } = run(c);
        const list = result.items.map((item) => item.itemId);
        expect(list.length).toBeLessThanOrEqual(c.n);
        expect(new Set(list).size).toBe(list.length);
        const pins = validPins(c, rules, catalog);
        const pinned = new Set(pins.map((pin) => pin.itemId));
        for (const id of list) {
          expect(rules.exclude.has(id)).toBe(false);
          expect(c.world.rejected.has(id)).toBe(false);
          if (!pinned.has(id)) expect(allowedByOracle(c, rules, catalog.get(id)!), id).toBe(true);
        }
        // A pin sits exactly on its slot; only when too few other items exist to fill the slots before it
        // does it move up, right after them and the earlier pins.
        const others = list.filter((id) => !pinned.has(id)).length;
        pins.forEach((pin, before) => {
          expect(list.indexOf(pin.itemId), `${pin.itemId}:${pin.slot} in ${list.join(',')}`).toBe(
            Math.min(pin.slot, others + before),
          );
          const item = result.items.find((i) => i.itemId === pin.itemId)!;
          expect(item.reason.text).toBe('Pinned by rule');
        });
        // Every allowed item and valid pin is shown, up to n: the filters remove exactly what they say.
        const eligible = new Set(pinned);
        for (const item of c.world.items) if (allowedByOracle(c, rules, item)) eligible.add(item.id);
        expect(list.length).toBe(Math.min(c.n, eligible.size));
      }),
      { numRuns: 400 },
    );
  });

  it('a buried item never ranks above an equally scored unburied one', () => {
    let compared = 0;
    fc.assert(
      fc.property(caseArb({ diversity: false, boosts: false }), (c) => {
        const { rules, result, catalog } = run(c);
        const list = result.items.map((item) => item.itemId);
        const pinned = new Set(validPins(c, rules, catalog).map((pin) => pin.itemId));
        const scoreOf = new Map(c.world.items.map((item, i) => [item.id, c.world.scores[i]!]));
        const candidates = c.world.items.filter(
          (item) => !pinned.has(item.id) && allowedByOracle(c, rules, item),
        );
        for (const a of candidates) {
          if (!multiplierOf(rules, a).buried) continue;
          const at = list.indexOf(a.id);
          if (at < 0) continue;
          for (const b of candidates) {
            if (b === a || scoreOf.get(b.id) !== scoreOf.get(a.id) || multiplierOf(rules, b).buried) continue;
            const bt = list.indexOf(b.id);
            expect(bt, `${b.id} (unburied) vs ${a.id} (buried): ${list.join(',')}`).toBeGreaterThanOrEqual(0);
            expect(bt).toBeLessThan(at);
            compared++;
          }
        }
      }),
      { numRuns: 400 },
    );
    // The property was exercised: runs with a buried item and an equally scored unburied one are common.
    expect(compared).toBeGreaterThan(20);
  });

  it('without rules, the list is the model order (rules change nothing they do not name)', () => {
    fc.assert(
      fc.property(worldArb, fc.integer({ min: 1, max: 10 }), (world, n) => {
        const c: Case = { world, spec: {}, n, excludeSeen: true };
        const { result } = run(c);
        const scores = new Map(world.items.map((item, i) => [item.id, world.scores[i]!]));
        const listed = result.items.map((item) => scores.get(item.itemId)!);
        expect(listed).toEqual([...listed].sort((x, y) => y - x));
      }),
      { numRuns: 100 },
    );
  });
});

describe('compileRules', () => {
  const bad = (spec: RulesSpec, parameter: string) => {
    try {
      compileRules(spec);
    } catch (error) {
      expect(error).toBeInstanceOf(RulesError);
      expect((error as RulesError).parameter).toBe(parameter);
      expect((error as RulesError).message).toContain(`"${parameter}"`);
      return;
    }
    throw new Error(`expected a RulesError for ${JSON.stringify(spec)}`);
  };

  it('names the bad parameter', () => {
    bad({ filter: ['price<cheap'] }, 'filter');
    bad({ boost: ['brand=acme:0.5'] }, 'boost');
    bad({ bury: ['brand=acme:2'] }, 'bury');
    bad({ bury: ['nonsense'] }, 'bury');
    bad({ boost: [':2'] }, 'boost');
    bad({ pin: ['p1'] }, 'pin');
    bad({ pin: ['p1:x'] }, 'pin');
    bad({ pin: ['p1:0', 'p2:0'] }, 'pin');
    bad({ pin: ['p1:0', 'p1:2'] }, 'pin');
    bad({ reshow: 'sometimes' }, 'reshow');
    bad({ reshow: 'seen_after_days:soon' }, 'reshow');
    bad({ diversity: 2 }, 'diversity');
    bad({ freshness: -1 }, 'freshness');
  });

  it('reads factors, defaults and the re-show policy', () => {
    const rules = compileRules({
      boost: ['brand=acme:1.5', 'tags=sale', 'note=a:b'],
      bury: ['tags=clearance:-0.25'],
      pin: ['sku:with:colons:3', 'p1:0'],
      exclude: ['x,y', 'z'],
      reshow: 'seen_after_days:7,purchased_never',
      filter: ['not purchased', 'price<100'],
    });
    expect(rules.adjustments.map((a) => [a.kind, a.scale, a.add])).toEqual([
      ['boost', 1.5, 0],
      ['boost', 2, 0],
      ['boost', 2, 0],
      ['bury', 1, -0.25],
    ]);
    expect(rules.pins).toEqual([
      { itemId: 'p1', slot: 0 },
      { itemId: 'sku:with:colons', slot: 3 },
    ]);
    expect([...rules.exclude]).toEqual(['x', 'y', 'z']);
    expect(rules.reshow).toEqual({ seen: { kind: 'after', ms: 7 * DAY }, purchased: { kind: 'never' } });
    expect(rules.notPurchased).toBe(true);
    expect(rules.filter?.predicates).toHaveLength(1);
  });

  it('merges a preset with request rules: lists extend, request pins and scalars override', () => {
    const merged = mergeRulesSpecs(
      { filter: ['price<100'], pin: ['p1:0', 'p2:1'], exclude: ['x'], diversity: 0.5, reshow: 'never' },
      { filter: ['brand=acme'], pin: ['p3:1'], exclude: ['y'], diversity: 0.1 },
    );
    expect(merged.filter).toEqual(['price<100', 'brand=acme']);
    expect(merged.pin).toEqual(['p1:0', 'p3:1']);
    expect(merged.exclude).toEqual(['x', 'y']);
    expect(merged.diversity).toBe(0.1);
    expect(merged.reshow).toBe('never');
  });
});

describe('diversity and freshness through the pipeline', () => {
  const world = (ageDays: (i: number) => number): World => {
    const items: Item[] = Array.from({ length: 30 }, (_, i) => ({
      id: `i${i}`,
      categories: [i < 10 ? 'a' : ['b', 'c', 'd'][i % 3]!],
      tags: [],
      price: 10,
      available: true,
      createdAt: NOW - ageDays(i) * DAY,
      expiresAt: null,
      attributes: {},
      updatedAt: NOW,
    }));
    return {
      items,
      scores: items.map((_, i) => 30 - i),
      seen: new Map(),
      purchased: new Set(),
      rejected: new Set(),
    };
  };
  const categoryCounts = (c: Case): number => {
    const { result, catalog } = run(c);
    const counts = new Map<string, number>();
    for (const item of result.items) {
      const category = catalog.get(item.itemId)!.categories[0]!;
      counts.set(category, (counts.get(category) ?? 0) + 1);
    }
    return Math.max(...counts.values());
  };

  it('diversity reduces same-category repeats in the list', () => {
    const w = world(() => 100);
    const base = { world: w, n: 6, excludeSeen: true };
    expect(categoryCounts({ ...base, spec: {} })).toBe(6);
    expect(categoryCounts({ ...base, spec: { diversity: 0.3 } })).toBeLessThan(6);
    expect(categoryCounts({ ...base, spec: { diversity: 0.6 } })).toBeLessThanOrEqual(3);
  });

  it('freshness lifts a new item into the list, with the reason "New in <category>"', () => {
    // i6 is seventh by score; a brand-new item's rank value doubles at freshness 1.
    const c: Case = {
      world: world((i) => (i === 6 ? 0 : 100)),
      n: 5,
      excludeSeen: true,
      spec: { freshness: 1 },
    };
    const plain = run({ ...c, spec: {} }).result.items.map((item) => item.itemId);
    expect(plain).not.toContain('i6');
    const fresh = run(c).result.items.find((item) => item.itemId === 'i6');
    expect(fresh?.reason.text).toBe('New in a');
  });

  it('with freshness, a newer buried item can pass an older unburied one of equal score (as documented)', () => {
    // i0 and i1 score alike; i0 is brand new and on clearance (buried to 0.99), i1 is 100 days old.
    const w = world((i) => (i === 0 ? 0 : 100));
    const items = w.items.map((item, i) => (i === 0 ? { ...item, tags: ['clearance'] } : item));
    const tied: World = { ...w, items, scores: w.scores.map((score, i) => (i === 1 ? w.scores[0]! : score)) };
    const order = (spec: RulesSpec) =>
      run({ world: tied, n: 5, excludeSeen: true, spec }).result.items.map((item) => item.itemId);
    const bury = ['tags=clearance:0.99'];
    expect(order({ bury }).slice(0, 2)).toEqual(['i1', 'i0']);
    expect(order({ bury, freshness: 1 }).slice(0, 2)).toEqual(['i0', 'i1']);
  });

  it('rules reorder the list but never change the scores it reports', () => {
    fc.assert(
      fc.property(caseArb({ diversity: true, boosts: true }), (c) => {
        const { result } = run(c);
        const scoreOf = new Map(c.world.items.map((item, i) => [item.id, c.world.scores[i]!]));
        for (const item of result.items) {
          // Model candidates report the model's score; catalog backfill reports 0.
          expect([scoreOf.get(item.itemId), 0]).toContain(item.score);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a boost that lifts an item into the list says "Boosted by rule"', () => {
    const c: Case = { world: world(() => 100), n: 5, excludeSeen: true, spec: { boost: ['category=d:10'] } };
    const { result } = run(c);
    // Rank values 1 − rank/30 times 10 for category d (i11, i14, …): all six above i0's 1, so the five best
    // of them fill the list, each lifted into it by the boost.
    expect(result.items.map((item) => [item.itemId, item.reason.text])).toEqual(
      ['i11', 'i14', 'i17', 'i20', 'i23'].map((id) => [id, 'Boosted by rule']),
    );
  });
});

describe('diversity', () => {
  const candidate = (itemId: string, score: number) => ({ itemId, index: 0, score, source: null });

  it('reduces same-category repeats in the list, more with more strength', () => {
    // The model's top eight are all one category; other categories come after.
    const categories = new Map<string, string[]>();
    const pool = Array.from({ length: 30 }, (_, i) => {
      const category = i < 8 ? 'a' : ['b', 'c', 'd'][i % 3]!;
      categories.set(`i${i}`, [category]);
      return candidate(`i${i}`, 30 - i);
    });
    const repeats = (lambda: number): number => {
      const list = diversify(pool, 8, lambda, (c) => categories.get(c.itemId)!).slice(0, 8);
      const counts = new Map<string, number>();
      for (const c of list) {
        const category = categories.get(c.itemId)![0]!;
        counts.set(category, (counts.get(category) ?? 0) + 1);
      }
      return Math.max(...counts.values());
    };
    expect(repeats(0)).toBe(8);
    expect(repeats(0.3)).toBeLessThan(8);
    expect(repeats(0.6)).toBeLessThanOrEqual(repeats(0.3));
    // Strong diversity shows every category before repeating one (then relevance fills the rest).
    const top4 = diversify(pool, 8, 0.6, (c) => categories.get(c.itemId)!).slice(0, 4);
    expect(new Set(top4.map((c) => categories.get(c.itemId)![0])).size).toBe(4);
  });

  it('λ = 0 keeps the order; any λ keeps every candidate exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.subarray(CATEGORIES)), { maxLength: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        (rows, lambda, n) => {
          const pool = rows.map(([score], i) => candidate(`i${i}`, score)).sort((x, y) => y.score - x.score);
          const cats = new Map(rows.map(([, c], i) => [`i${i}`, c]));
          const out = diversify(pool, n, lambda, (c) => cats.get(c.itemId)!);
          expect(out.map((c) => c.itemId).sort()).toEqual(pool.map((c) => c.itemId).sort());
          // λ = 0 for every generated pool (the drawn λ is rarely exactly 0).
          expect(diversify(pool, n, 0, (c) => cats.get(c.itemId)!)).toEqual(pool);
        },
      ),
    );
  });
});
