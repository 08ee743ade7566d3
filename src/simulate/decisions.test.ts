import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatDecisionOutcome,
  runDecisionSimulation,
  type DecisionSimulationOutcome,
} from '../cli/commands/simulate-decisions.js';
import { ROLES } from '../demo/index.js';
import { decisionPointBodies } from './decisions.js';

/**
 * The decisions scenario end to end, in process: a real engine and its HTTP API on a loopback port, 1,500
 * new users through the onboarding and offer points (about 6 s). What the engine learned from must be
 * what the simulated users answered, and both points must beat a uniform policy by far.
 */
const USERS = 1_500;
let dir: string;
let outcome: DecisionSimulationOutcome;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'attune-simulate-decisions-test-'));
  outcome = await runDecisionSimulation(
    {
      dataDir: dir,
      seed: 3,
      users: USERS,
      window: 500,
      batch: 20,
      concurrency: 8,
      holdout: 0,
      json: false,
    },
    dir,
    () => {},
  );
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const point = (id: 'onboarding' | 'offer') => outcome.points.find((p) => p.point === id)!;

describe('attune simulate --scenario decisions', () => {
  it('defines both points as the guide describes them', () => {
    const bodies = decisionPointBodies();
    expect(bodies.offer).toMatchObject({
      parameters: { discount_pct: { min: 0, max: 25 } },
      reward: { source: 'event', event: 'purchased', value: 'sum', property: 'margin' },
    });
    expect(bodies.onboarding).toMatchObject({ reward: { source: 'explicit' } });
  });

  it('closes every decision, and the engine learned exactly the rewards the users gave', () => {
    expect(ROLES.reduce((sum, role) => sum + outcome.roles[role], 0)).toBe(USERS);
    for (const id of ['onboarding', 'offer'] as const) {
      const { status, windows } = point(id);
      expect(status).toMatchObject({ decisions: USERS, closed: USERS, open: 0 });
      expect(status.learner.updates).toBe(USERS);
      expect(windows.map((w) => w.decisions)).toEqual([500, 500, 500]);
      // Explicit rewards for the checklist; for the offer, each purchase's margin attributed by the engine.
      const given = windows.reduce((sum, w) => sum + w.mean_reward * w.decisions, 0) / USERS;
      expect(status.mean_reward).toBeCloseTo(given, 6);
    }
  });

  it('learns: the last window comes far closer to the optimal policy than a uniform one, at less regret', () => {
    for (const id of ['onboarding', 'offer'] as const) {
      const last = point(id).windows.at(-1)!;
      expect(last.ratio).toBeGreaterThan(last.uniform_ratio + 0.08);
      expect(last.regret).toBeLessThan(0.75 * last.uniform_regret);
      for (const role of ROLES) {
        const shares = Object.values(last.shares[role]);
        expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      }
    }
    // Buyers are the easiest to tell (they cart early) and the costliest to get wrong at the offer.
    expect(point('offer').windows.at(-1)!.shares.buyer['none']).toBeGreaterThan(0.5);
  });

  it('prints a table per point', () => {
    const text = formatDecisionOutcome(outcome);
    expect(text).toContain(`${USERS} new users (seed 3)`);
    expect(text).toContain('onboarding (kind linucb');
    expect(text).toMatch(/1001–1500 .* \d+\.\d%/);
  });
});
