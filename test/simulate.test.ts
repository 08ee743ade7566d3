import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SimulationOutcome } from '../src/cli/commands/simulate.js';

/**
 * `attune simulate` end to end, as a user runs it: a small demo shop, trained with the defaults, driven
 * through the HTTP API for 10 simulated days. What the reports say must agree with what the shoppers did.
 */
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const run = promisify(execFile);
let outcome: SimulationOutcome;

beforeAll(async () => {
  const { stdout } = await run(
    process.execPath,
    [
      CLI,
      'simulate',
      ...['--users', '400', '--items', '120', '--history-days', '14', '--days', '10'],
      ...['--holdout', '0.2', '--planted-lift', '0.5', '--seed', '3', '--json'],
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  outcome = JSON.parse(stdout) as SimulationOutcome;
}, 180_000);

describe('attune simulate', () => {
  it('serves every shopper in exactly one arm, and the reports count each exposed shopper once', () => {
    const { arms, visits } = outcome.counts;
    const shoppers = (arm: string) => arms[arm]?.shoppers ?? 0;
    expect(visits).toBeGreaterThan(400);
    expect(shoppers('control')).toBeGreaterThan(50);
    expect(shoppers('upsell')).toBeGreaterThan(50);
    expect(shoppers('holdout')).toBeGreaterThan(10);
    // The experiment covers every personalized shopper (traffic 1), so no one is personalized outside it.
    expect(arms['personalized']).toBeUndefined();
    expect(outcome.judgement.exposed).toEqual({ control: shoppers('control'), upsell: shoppers('upsell') });
    expect(outcome.judgement.holdout.exposed).toEqual({
      holdout: shoppers('holdout'),
      personalized: shoppers('control') + shoppers('upsell'),
    });
  });

  it('reports the revenue the shoppers spent after their first list, per arm', () => {
    // The 14-day revenue window outlasts the 10 simulated days, and every purchase follows a served list.
    const revenue = outcome.judgement.metrics.find((m) => m.metric === 'revenue_per_user')!;
    for (const arm of ['control', 'upsell']) {
      const { n, value } = revenue.values[arm]!;
      expect(n * value).toBeCloseTo(outcome.counts.arms[arm]!.revenue, 6);
    }
  });

  it('knows the true lift it planted and judges every reported interval against it', () => {
    const truth = Object.fromEntries(outcome.judgement.metrics.map((m) => [m.metric, m.true_lift]));
    expect(truth).toEqual({
      purchase_conversion: 0,
      revenue_per_user: 0.5,
      click_through: 0,
      day7_retention: 0,
    });
    for (const m of outcome.judgement.metrics) {
      expect(m.ci).not.toBeNull();
      expect(m.covered).toBe(m.ci![0] <= m.true_lift! && m.true_lift! <= m.ci![1]);
    }
  });

  it('measures what personalization adds over the holdout: clicks on lists that match taste', () => {
    const clicks = outcome.judgement.holdout.metrics.find((m) => m.metric === 'click_through')!;
    expect(clicks.rel_lift).toBeGreaterThan(0.5);
    expect(clicks.significant).toBe(true);
  });
});
