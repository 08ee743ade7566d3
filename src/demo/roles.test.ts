import { describe, expect, it } from 'vitest';
import { deriveSeed, Rng } from './random.js';
import {
  CHECKLISTS,
  DISCOUNT_BOUNDS,
  drawOffer,
  drawRole,
  expectedReward,
  firstSession,
  OFFERS,
  optimalAction,
  orderMargin,
  POINT_ACTIONS,
  policyValue,
  ROLE_SHARES,
  ROLES,
  uniformValue,
  type DemoPoint,
  type FirstSession,
  type PricedItem,
  type Role,
} from './roles.js';

/** 200 items priced 1 to 200, cheapest first. */
const CATALOG: PricedItem[] = Array.from({ length: 200 }, (_, i) => ({ id: `item-${i}`, price: i + 1 }));

function sessions(role: Role, n: number): FirstSession[] {
  const rng = new Rng(deriveSeed(7, 'sessions', role));
  return Array.from({ length: n }, () => firstSession(role, rng, CATALOG));
}

const count = (s: FirstSession, event: string) => s.events.filter((e) => e.event === event).length;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const share = <T>(xs: readonly T[], test: (x: T) => boolean) => xs.filter(test).length / xs.length;
const meanPrice = (s: FirstSession) => mean(s.events.map((e) => e.price));

describe('roles of new users', () => {
  it('are drawn in their shares, the same for the same seed', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 20_000 }, () => drawRole(rng));
    };
    const roles = draw(1);
    expect(draw(1)).toEqual(roles);
    for (const role of ROLES) expect(share(roles, (r) => r === role)).toBeCloseTo(ROLE_SHARES[role], 1);
  });

  it('show in the first events: buyers cart early, browsers view many items, deal hunters view cheap ones', () => {
    const buyer = sessions('buyer', 2_000);
    const browser = sessions('browser', 2_000);
    const hunter = sessions('deal_hunter', 2_000);
    expect(share(buyer, (s) => count(s, 'added_to_cart') > 0)).toBeGreaterThan(
      2 * share(browser, (s) => count(s, 'added_to_cart') > 0),
    );
    expect(mean(browser.map((s) => count(s, 'product_viewed')))).toBeGreaterThan(
      1.5 * mean(buyer.map((s) => count(s, 'product_viewed'))),
    );
    expect(mean(hunter.map(meanPrice))).toBeLessThan(0.5 * mean(buyer.map(meanPrice)));
  });

  it('show only noisily: every signal overlaps between roles', () => {
    const buyer = sessions('buyer', 2_000);
    const browser = sessions('browser', 2_000);
    const hunter = sessions('deal_hunter', 2_000);
    // Measured at this seed: 15% of buyers cart nothing, 22% of browsers cart something; on the mean price
    // viewed, split halfway between deal hunters' and browsers' means, 14% of deal hunters look dear and
    // 13% of browsers (7% of buyers) look cheap.
    expect(share(buyer, (s) => count(s, 'added_to_cart') === 0)).toBeGreaterThan(0.1);
    expect(share(browser, (s) => count(s, 'added_to_cart') > 0)).toBeGreaterThan(0.15);
    const split = (mean(hunter.map(meanPrice)) + mean(browser.map(meanPrice))) / 2;
    expect(share(hunter, (s) => meanPrice(s) > split)).toBeGreaterThan(0.1);
    expect(share(browser, (s) => meanPrice(s) < split)).toBeGreaterThan(0.1);
    expect(share(buyer, (s) => meanPrice(s) < split)).toBeGreaterThan(0.04);
  });

  it('makes well-formed sessions: viewed before carted, carted before bought, all within the session', () => {
    for (const role of ROLES) {
      for (const s of sessions(role, 300)) {
        expect(count(s, 'product_viewed')).toBeGreaterThan(0);
        const seen = new Set<string>();
        const carted = new Set<string>();
        let last = -1;
        for (const e of s.events) {
          expect(e.offsetMs).toBeGreaterThan(last);
          expect(e.offsetMs).toBeLessThan(s.durationMs);
          last = e.offsetMs;
          if (e.event === 'product_viewed') seen.add(e.itemId);
          if (e.event === 'added_to_cart') {
            expect(seen.has(e.itemId)).toBe(true);
            carted.add(e.itemId);
          }
          if (e.event === 'purchased') expect(carted.has(e.itemId)).toBe(true);
        }
      }
    }
  });
});

describe('the demo decision points', () => {
  it('have a different best action for every role', () => {
    const best = (point: DemoPoint) => ROLES.map((role) => optimalAction(point, role).action);
    expect(best('onboarding')).toEqual(['order_first', 'browse_first', 'wishlist_first']);
    expect(best('offer')).toEqual(['none', 'pct10', 'pct20']);
  });

  it('need the role: no single action comes within 85% of the optimal policy, uniform comes lower', () => {
    for (const point of ['onboarding', 'offer'] as const) {
      const optimal = policyValue(point, (role) => optimalAction(point, role).action);
      const uniform = ROLES.reduce((sum, role) => sum + ROLE_SHARES[role] * uniformValue(point, role), 0);
      for (const action of POINT_ACTIONS[point])
        expect(policyValue(point, () => action) / optimal).toBeLessThan(0.85);
      expect(uniform / optimal).toBeLessThan(0.8);
    }
  });

  it('offers discounts within their bounds, and every checklist holds each step once', () => {
    for (const discount of Object.values(OFFERS)) {
      expect(discount).toBeGreaterThanOrEqual(DISCOUNT_BOUNDS.min);
      expect(discount).toBeLessThanOrEqual(DISCOUNT_BOUNDS.max);
    }
    for (const steps of Object.values(CHECKLISTS)) expect(new Set(steps).size).toBe(4);
  });

  it("draws offers whose mean margin is the action's expected reward", () => {
    const rng = new Rng(11);
    for (const [role, action] of [
      ['buyer', 'none'],
      ['deal_hunter', 'pct20'],
    ] as const) {
      const discount = OFFERS[action]!;
      let total = 0;
      const n = 40_000;
      for (let i = 0; i < n; i++) {
        const { order } = drawOffer(role, discount, rng);
        if (order === null) continue;
        expect(order.revenue).toBeCloseTo(order.listValue * (1 - discount / 100), 9);
        expect(order.margin).toBeCloseTo(orderMargin(order.listValue, discount), 9);
        total += order.margin;
      }
      const expected = expectedReward('offer', role, action);
      expect(Math.abs(total / n - expected)).toBeLessThan(0.04 * expected);
    }
  });
});
