import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { get, openTestApp, type ErrorReply, type TestApp } from '../../test/helpers.js';
import type { TrackedEvent } from '../events/index.js';
import { FeatureSet, parseFeatureDefinitions } from '../features/index.js';
import { churnContributions } from './event-models.js';
import { loadChurnScorer, trainChurn } from './from-store.js';

interface ChurnReply {
  readonly user_id: string;
  readonly probability: number;
  readonly risk_band: string;
  readonly drivers: { feature: string; value: number | null; contribution: number; text: string }[];
  readonly model: { readonly version: number; readonly trained_at: string };
}

const DAY = 86_400_000;
const WINDOW = 10 * DAY;
/** Three numeric columns, so the top three drivers are every contribution. */
const features = new FeatureSet(
  parseFeatureDefinitions({
    user: [
      { name: 'recency_days', kind: 'recency' },
      { name: 'events', kind: 'count', windows: ['7d', '30d'] },
    ],
  }),
  'churn-test.json',
);

/**
 * 160 users over 60 days: each visits every `gap` days from their first day until they stop; half never
 * stop, the others stop at a day spread over the period, so both cuts (now − 2 windows, now − 1) have
 * users who came back and users who did not.
 */
function history(now: number): TrackedEvent[] {
  const events: TrackedEvent[] = [];
  for (let u = 0; u < 160; u++) {
    const gap = 1 + (u % 4);
    const first = now - 60 * DAY + (u % 7) * DAY;
    const stop = u % 2 === 0 ? now : now - ((u * 37) % 50) * DAY;
    for (let t = first, k = 0; t < stop; t += gap * DAY, k++) {
      events.push({
        eventId: `u${u}-${k}`,
        name: 'product_viewed',
        userId: `u${u}`,
        itemId: null,
        timestamp: t,
        receivedAt: t,
        context: {},
        properties: {},
        requestId: null,
      });
    }
  }
  return events;
}

describe('GET /v1/users/:id/churn', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await openTestApp({ features });
    await t.engine.appendEvents(history(Date.now()));
  });
  afterEach(() => t.close());

  it('answers 404 no_churn_model until a model is trained', async () => {
    const reply = await get<ErrorReply>(t.app, '/v1/users/u1/churn');
    expect(reply.status).toBe(404);
    expect(reply.body.error.code).toBe('no_churn_model');
    expect(reply.body.error.message).toMatch(/attune churn train/);
  });

  it('scores a known user with drivers that add up to the trees’ margin; 404 not_found for a stranger', async () => {
    const { version } = await trainChurn(t.engine.store, features, {
      now: Date.now(),
      windowMs: WINDOW,
      events: null,
      model: 'gbdt',
    });
    await t.engine.refreshChurnModel();

    const stranger = await get<ErrorReply>(t.app, '/v1/users/nobody/churn');
    expect(stranger.status).toBe(404);
    expect(stranger.body.error.code).toBe('not_found');

    const scorer = await loadChurnScorer(t.engine.store);
    if (scorer === null || scorer.data.model.kind !== 'gbdt') throw new Error('expected a stored GBDT');
    // The bias column is the same for every row: the trees' expected value, plus the intercept of the
    // logistic model they were boosted from when they have one (`GbdtChurnModel.base`).
    const base = churnContributions(scorer.data.model, new Float64Array(3))[3]!;

    for (const user of ['u0', 'u3', 'u5']) {
      const reply = await get<ChurnReply>(t.app, `/v1/users/${user}/churn`);
      expect(reply.status, reply.text).toBe(200);
      const body = reply.body;
      expect(body.model.version).toBe(version);
      expect(body.probability).toBeGreaterThanOrEqual(0);
      expect(body.probability).toBeLessThanOrEqual(1);
      expect(['low', 'medium', 'high']).toContain(body.risk_band);
      expect(body.drivers.length).toBeGreaterThan(0);
      const margin = body.drivers.reduce((sum, d) => sum + d.contribution, base);
      // Compared as probabilities: a confident score (margin ±20) loses digits as log(p / (1 − p)).
      expect(1 / (1 + Math.exp(-margin))).toBeCloseTo(body.probability, 12);
      for (const driver of body.drivers) expect(driver.text).toMatch(/ \((raises|lowers) risk\)$/);
    }
    // u1 (every 2 days from day −59) stopped 37 days ago, so its last visit was 39 days ago: said in words.
    const lapsed = await get<ChurnReply>(t.app, '/v1/users/u1/churn');
    const recency = lapsed.body.drivers.find((d) => d.feature === 'recency_days');
    expect(recency?.text).toMatch(/^no activity for 39 days \(raises risk\)$/);
  });
});
