import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLearner } from '../learners/index.js';
import { DecisionPointError, parseDecisionPoint, type DecisionPoint } from './definition.js';
import { offer } from './eligibility.js';
import { FeatureEncoder } from './encoder.js';
import { Guardrail } from './guardrail.js';
import { LivePoint } from './live-point.js';

const context = { now: Date.UTC(2026, 11, 3), userFeatures: ['views_7d', 'carts_7d'] };

/** A random point: bounded parameters, actions within them, rules narrowing them, a random learner. */
const pointArbitrary = fc
  .record({
    bounds: fc.array(
      fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 100 })).map(([lo, width]) => ({
        min: lo,
        max: lo + width,
      })),
      { minLength: 1, maxLength: 3 },
    ),
    actions: fc.integer({ min: 1, max: 12 }),
    fractions: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 36, maxLength: 36 }),
    rules: fc.array(
      fc.record({
        device: fc.constantFrom('mobile', 'desktop'),
        param: fc.nat(2),
        max: fc.integer({ min: -60, max: 160 }),
        min: fc.option(fc.integer({ min: -60, max: 160 }), { nil: undefined }),
      }),
      { maxLength: 3 },
    ),
    learner: fc.constantFrom(
      { kind: 'linucb', alpha: 1, floor: 0.1 },
      { kind: 'thompson', samples: 20, floor: 0 },
      { kind: 'epsilon_greedy', epsilon: 0.3 },
    ),
    layout: fc.constantFrom('disjoint', 'shared'),
  })
  .map(({ bounds, actions, fractions, rules, learner, layout }) => {
    const parameters = Object.fromEntries(bounds.map((b, i) => [`p${i}`, b]));
    return parseDecisionPoint(
      {
        id: 'prop',
        parameters,
        actions: Array.from({ length: actions }, (_, a) => ({
          id: `a${a}`,
          features: { size: a / actions },
          params: Object.fromEntries(
            bounds.map((b, i) => [
              `p${i}`,
              Math.round(b.min + fractions[(a * 3 + i) % 36]! * (b.max - b.min)),
            ]),
          ),
        })),
        features: [
          { source: 'context', name: 'device', type: 'category', values: ['mobile', 'desktop'] },
          { source: 'context', name: 'x', type: 'number' },
          { source: 'user', name: 'views_7d', transform: 'log1p' },
        ],
        layout,
        learner,
        rules: rules.map((r) => {
          const name = `p${r.param % bounds.length}`;
          return {
            when: [{ field: 'context.device', op: 'eq', value: r.device }],
            max: { [name]: r.max },
            ...(r.min === undefined ? {} : { min: { [name]: r.min } }),
          };
        }),
      },
      context,
    );
  });

const requestArbitrary = fc.record({
  device: fc.constantFrom('mobile', 'desktop', 'tablet'),
  x: fc.double({ min: -1e3, max: 1e3, noNaN: true }),
  available: fc.option(fc.uniqueArray(fc.nat(11), { minLength: 1, maxLength: 12 }), { nil: null }),
  limit: fc.option(
    fc.record({
      param: fc.nat(2),
      min: fc.integer({ min: -100, max: 200 }),
      max: fc.integer({ min: -100, max: 200 }),
    }),
    {
      nil: null,
    },
  ),
  reward: fc.double({ min: -5, max: 5, noNaN: true }),
});

describe('decision points: bounds and propensities', () => {
  it('never serves a parameter outside the hard bounds, the rules that hold or the request, and propensities sum to one', () => {
    fc.assert(
      fc.property(
        pointArbitrary,
        fc.array(requestArbitrary, { minLength: 1, maxLength: 12 }),
        (point, requests) => {
          const live = new LivePoint(point);
          for (const request of requests) {
            const names = Object.keys(point.parameters);
            const limits: Record<string, { min: number; max: number }> = {};
            if (request.limit) {
              limits[names[request.limit.param % names.length]!] = {
                min: request.limit.min,
                max: request.limit.max,
              };
            }
            const available = request.available
              ? request.available.filter((a) => a < point.actions.length).map((a) => `a${a}`)
              : null;
            const ctx = { device: request.device, x: request.x };
            let offered;
            try {
              offered = offer(
                point,
                { available: available?.length ? available : null, limits },
                {
                  context: ctx,
                  traits: null,
                  segment: null,
                },
              );
            } catch (error) {
              // Nothing left is a refusal (422), never a choice outside the bounds.
              expect(error).toBeInstanceOf(DecisionPointError);
              expect((error as DecisionPointError).status).toBe(422);
              continue;
            }
            const input = live.encoder.encode({
              context: ctx,
              traits: null,
              segment: null,
              user: { columns: ['carts_7d', 'views_7d'], numbers: Float64Array.of(2, 7) },
              now: context.now,
            });
            const choice = live.choose(input, offered.allowed, 'learner');
            const action = point.actions[choice.action]!;
            expect(offered.allowed[choice.action]).toBe(1);
            for (const [name, value] of Object.entries(action.params)) {
              const hard = point.parameters[name]!;
              expect(value).toBeGreaterThanOrEqual(hard.min);
              expect(value).toBeLessThanOrEqual(hard.max);
              const narrowed = offered.bounds[name]!;
              expect(value).toBeGreaterThanOrEqual(narrowed.min);
              expect(value).toBeLessThanOrEqual(narrowed.max);
              const limit = limits[name];
              if (limit) {
                expect(value).toBeGreaterThanOrEqual(limit.min);
                expect(value).toBeLessThanOrEqual(limit.max);
              }
              for (const rule of point.rules) {
                if (rule.when[0]?.value !== request.device) continue;
                if (rule.max[name] !== undefined) expect(value).toBeLessThanOrEqual(rule.max[name]);
                if (rule.min[name] !== undefined) expect(value).toBeGreaterThanOrEqual(rule.min[name]);
              }
            }
            let sum = 0;
            choice.probabilities.forEach((p, a) => {
              sum += p;
              if (!offered.allowed[a]) expect(p).toBe(0);
            });
            expect(sum).toBeCloseTo(1, 9);
            expect(choice.probabilities[choice.action]).toBeGreaterThan(0);
            live.learn(
              choice.action,
              input,
              request.reward,
              choice.policy,
              choice.probabilities[choice.action]!,
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a definition whose action lies outside its bounds, or a rule naming an unbounded parameter', () => {
    const base = {
      id: 'x',
      parameters: { price: { min: 1, max: 9 } },
      actions: [{ id: 'a', params: { price: 5 } }],
    };
    expect(() =>
      parseDecisionPoint({ ...base, actions: [{ id: 'a', params: { price: 10 } }] }, context),
    ).toThrow(/actions\[0\]\.params\.price.*outside its bounds \[1, 9\]/);
    expect(() => parseDecisionPoint({ ...base, actions: [{ id: 'a', params: {} }] }, context)).toThrow(
      /actions\[0\]\.params\.price.*required/,
    );
    expect(() => parseDecisionPoint({ ...base, rules: [{ max: { discount: 3 } }] }, context)).toThrow(
      /rules\[0\]\.max\.discount/,
    );
    expect(() =>
      parseDecisionPoint({ ...base, features: [{ source: 'user', name: 'nope' }] }, context),
    ).toThrow(/features\[0\]\.name.*not a numeric user feature/);
  });

  it('refuses a description that is not a string (it was stored as "[object Object]")', () => {
    const base = { id: 'x', actions: [{ id: 'a' }] };
    for (const description of [{ a: 1 }, [1, 2], 5, null]) {
      expect(() => parseDecisionPoint({ ...base, description }, context)).toThrow(
        /field "description": must be a string/,
      );
    }
    expect(parseDecisionPoint({ ...base, description: '' }, context).description).toBe('');
    expect(parseDecisionPoint(base, context).description).toBe('');
  });
});

describe('learners restricted to the allowed actions', () => {
  it('puts LinUCB, epsilon-greedy and Thompson mass only on allowed actions, exploration spread over them', () => {
    const x = Float64Array.of(1, 0.5);
    const allowed = Uint8Array.of(1, 0, 1, 1);
    const linucb = createLearner({ kind: 'linucb', actions: 4, dimension: 2, floor: 0.3, alpha: 0 });
    linucb.update(1, x, 10); // the best action overall is not allowed
    linucb.update(2, x, 1);
    expect(Array.from(linucb.probabilities(x, undefined, allowed))).toEqual(
      [0.1, 0, 0.7 + 0.1, 0.1].map((p) => expect.closeTo(p, 12)),
    );

    const greedy = createLearner({ kind: 'epsilon-greedy', actions: 4, dimension: 2, epsilon: 0.6 });
    greedy.update(1, x, 10);
    greedy.update(3, x, 2);
    const p = greedy.probabilities(x, undefined, allowed);
    expect(p[1]).toBe(0);
    expect(p[3]).toBeCloseTo(0.4 + 0.2, 12);
    expect(p[0]).toBeCloseTo(0.2, 12);

    const thompson = createLearner({ kind: 'thompson', actions: 4, dimension: 2, samples: 50, seed: 1 });
    const q = thompson.probabilities(x, undefined, allowed);
    expect(q[1]).toBe(0);
    expect(q[0]! + q[2]! + q[3]!).toBeCloseTo(1, 12);
    expect(() => thompson.probabilities(x, undefined, new Uint8Array(4))).toThrow(/at least one/);
  });
});

describe('feature rows', () => {
  const point = (layout: 'disjoint' | 'shared'): DecisionPoint =>
    parseDecisionPoint(
      {
        id: 'f',
        layout,
        actions: [
          { id: 'a', features: { big: 1 } },
          { id: 'b', features: { big: 0 } },
        ],
        features: [
          { source: 'trait', name: 'plan', type: 'category', values: ['free', 'pro'] },
          { source: 'context', name: 'cart', type: 'number', transform: 'log1p' },
          { source: 'segment', type: 'category', values: ['s1', 's2'] },
        ],
      },
      context,
    );
  const inputs = {
    context: { cart: Math.E - 1 },
    traits: { plan: 'pro' },
    segment: 's2',
    user: null,
    now: context.now,
  };

  it('encodes a constant, one-hot categories and transformed numbers', () => {
    const encoder = new FeatureEncoder(point('disjoint'));
    expect(encoder.width).toBe(6);
    expect(Array.from(encoder.encode(inputs))).toEqual([1, 0, 1, 1, 0, 1].map((v) => expect.closeTo(v, 12)));
  });

  it('crosses the context row with (1, action features) per action in a shared layout', () => {
    const encoder = new FeatureEncoder(point('shared'));
    expect(encoder.dimension).toBe(12);
    expect(encoder.inputLength).toBe(24);
    const row = Array.from(encoder.encode(inputs));
    // Action a (big = 1): each context value followed by itself × 1; action b (big = 0): value, then 0.
    expect(row.slice(0, 4)).toEqual([1, 1, 0, 0]);
    expect(row.slice(12, 16)).toEqual([1, 0, 0, 0]);
  });
});

describe('guardrail', () => {
  it('trips once the learner is significantly worse than the default action, not before min_decisions', () => {
    const guard = new Guardrail({ minDecisions: 200, confidence: 0.95 });
    // The learner picks the default (reward 1) with propensity 0.2 and other actions (reward 0) otherwise.
    for (let i = 0; i < 199; i++) {
      const chosenDefault = i % 5 === 0;
      guard.observe(chosenDefault ? 1 : 0, chosenDefault, 0.2);
    }
    expect(guard.tripped).toBe(false);
    guard.observe(0, false, 0.2);
    const status = guard.status();
    expect(status.learnerValue).toBeCloseTo(40 / 200, 12);
    expect(status.defaultValue).toBeCloseTo(1, 12);
    expect(status.tripped).toBe(true);
  });

  it('stays quiet when the learner does as well as the default', () => {
    const guard = new Guardrail({ minDecisions: 50, confidence: 0.95 });
    for (let i = 0; i < 500; i++) guard.observe(i % 2, i % 4 === 0, 0.25);
    expect(guard.tripped).toBe(false);
  });
});
