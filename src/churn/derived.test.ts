import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, engineConfig } from '../engine/index.js';
import type { TrackedEvent } from '../events/index.js';
import { FeatureSet, parseFeatureDefinitions } from '../features/index.js';
import { DAY, MONDAY, trackedEvent } from '../features/test-events.js';
import { decodeChurnArtifact, encodeChurnArtifact, type ChurnArtifactData } from './artifact.js';
import { churnMonotone } from './constraints.js';
import { churnColumns, derivedMeanings, derivedValue, modelRowMapper } from './derived.js';
import { columnMeanings, describeValue, driverText, type DerivedColumnMeaning } from './drivers.js';
import { churnTable, type EventScan } from './events.js';
import { loadChurnScorer, trainChurn } from './from-store.js';

/** The churn-side derived ratios: their values, where they apply, their words, and serving = training. */

const set = new FeatureSet(
  parseFeatureDefinitions({
    user: [
      { name: 'recency_days', kind: 'recency', event: 'purchased' },
      { name: 'any_recency', kind: 'recency' },
      { name: 'frequency', kind: 'frequency', event: 'purchased' },
      { name: 'tenure_days', kind: 'tenure', event: 'purchased' },
      { name: 'any_tenure', kind: 'tenure' },
      { name: 'views', kind: 'count', event: 'product_viewed', window: '30d' },
    ],
  }),
  'test',
);

describe('derivedValue', () => {
  it('computes the ratios of a hand-built row, NaN where undefined', () => {
    // Last purchase 20 days ago, 3 purchases, the first 100 days ago: 80 days span 2 gaps of 40.
    expect(derivedValue('recency_over_tenure', 20, 3, 100)).toBeCloseTo(0.2, 12);
    expect(derivedValue('frequency_per_30d', 20, 3, 100)).toBeCloseTo(0.9, 12);
    expect(derivedValue('recency_over_gap', 20, 3, 100)).toBeCloseTo(0.5, 12);
    // 120 days silent against a usual 40: three times overdue.
    expect(derivedValue('recency_over_gap', 120, 3, 200)).toBeCloseTo(3, 12);
    // One purchase: no gap to compare with.
    expect(derivedValue('recency_over_gap', 20, 1, 20)).toBeNaN();
    // Two purchases at one instant: a gap of 0 is no rhythm either.
    expect(derivedValue('recency_over_gap', 20, 2, 20)).toBeNaN();
    // No purchase yet: everything missing.
    for (const kind of ['recency_over_tenure', 'frequency_per_30d', 'recency_over_gap'] as const) {
      expect(derivedValue(kind, Number.NaN, 0, Number.NaN)).toBeNaN();
    }
  });
});

describe('derivedMeanings and modelRowMapper', () => {
  it('reads inputs of the churn activity only, and maps a hand-built feature row', () => {
    const base = columnMeanings(set);
    const derived = derivedMeanings(base, ['purchased']);
    expect(derived.map((m) => m.column)).toEqual([
      'recency_over_tenure',
      'frequency_per_30d',
      'recency_over_gap',
    ]);
    // The purchase tenure, not the any-event one: a gap must span purchases.
    expect(derived[2]!.inputs).toEqual({
      recency: 'recency_days',
      frequency: 'frequency',
      tenure: 'tenure_days',
    });
    // Any event as the activity: no frequency of every event, so only recency over tenure applies.
    expect(derivedMeanings(base, null).map((m) => [m.column, m.inputs.tenure])).toEqual([
      ['recency_over_tenure', 'any_tenure'],
    ]);

    const meanings = churnColumns(set, ['purchased']);
    // A feature row in another order than the set's, with a column the model does not use.
    const columns = [
      'extra',
      'tenure_days',
      'frequency',
      'recency_days',
      'views',
      'any_recency',
      'any_tenure',
    ];
    const row = modelRowMapper(meanings, columns)(Float64Array.from([7, 200, 3, 120, 4, 2, 210]));
    const value = (name: string) => row[meanings.findIndex((m) => m.column === name)];
    expect(row.length).toBe(meanings.length);
    expect(value('recency_days')).toBe(120);
    expect(value('views')).toBe(4);
    expect(value('recency_over_tenure')).toBeCloseTo(0.6, 12);
    expect(value('frequency_per_30d')).toBeCloseTo(0.45, 12);
    expect(value('recency_over_gap')).toBeCloseTo(3, 12);
    // A feature the current columns lack reads as missing, and so do the ratios needing it.
    const short = modelRowMapper(meanings, ['recency_days', 'frequency'])(Float64Array.from([5, 2]));
    expect(Number.isNaN(short[meanings.findIndex((m) => m.column === 'recency_over_gap')]!)).toBe(true);

    expect(churnColumns(set, ['purchased'], { derived: false }).map((m) => m.column)).toEqual(
      base.map((m) => m.column),
    );
  });

  it('constrains only recency_over_gap (+1) among the ratios', () => {
    const meanings = churnColumns(set, ['purchased']);
    const m = churnMonotone(meanings, ['purchased']);
    const by = Object.fromEntries(meanings.map((c, j) => [c.column, m[j]]));
    expect(by).toMatchObject({ recency_over_gap: 1, recency_over_tenure: 0, frequency_per_30d: 0 });
    expect(by).toMatchObject({ recency_days: 1, frequency: -1, tenure_days: 0 });
  });

  it('says the ratios in words', () => {
    const meaning = (kind: DerivedColumnMeaning['derived']) =>
      derivedMeanings(columnMeanings(set), ['purchased']).find((m) => m.derived === kind)!;
    expect(driverText(meaning('recency_over_gap'), 3.2, 0.4)).toBe(
      '3.2× longer than usual since the last purchase (raises risk)',
    );
    expect(describeValue(meaning('recency_over_gap'), 0.5)).toBe(
      '0.5× the usual gap since the last purchase (not yet due)',
    );
    expect(describeValue(meaning('recency_over_gap'), Number.NaN)).toBe('no usual gap between purchases yet');
    expect(describeValue(meaning('recency_over_tenure'), 0.6)).toBe(
      'silent for 60% of the time since the first purchase',
    );
    expect(driverText(meaning('frequency_per_30d'), 0.45, -0.2)).toBe(
      '0.45 purchases per 30 days since the first (lowers risk)',
    );
  });

  it('keeps the derived columns through the artifact, and still reads format 1', () => {
    const data = {
      format: 2,
      columns: churnColumns(set, ['purchased']),
      model: {
        kind: 'logreg',
        fill: new Float64Array(1),
        mean: new Float64Array(1),
        scale: new Float64Array(1).fill(1),
        weights: new Float64Array(1),
        intercept: 0,
        c: 1,
      },
    } as unknown as ChurnArtifactData;
    const back = decodeChurnArtifact(encodeChurnArtifact(data));
    expect(back.columns).toEqual(data.columns);
    expect(decodeChurnArtifact(encodeChurnArtifact({ ...data, format: 1 })).format).toBe(1);
    expect(() => decodeChurnArtifact(encodeChurnArtifact({ ...data, format: 4 }))).toThrow(/format 4/);
  });
});

/**
 * Serving (`GET /v1/users/:id/churn`: the engine's online features at its clock, `ChurnScorer.rowFrom`
 * with the stored meanings) and training (`churnTable`: the batch feature table at a cutoff) must give the
 * same model row for the same user at the same time, derived ratios included.
 */
describe('serving and training compute the same derived values', () => {
  const NOW = MONDAY + 120 * DAY;
  const WINDOW = 14 * DAY;
  let dir: string;
  let engine: Engine;

  /** 120 users buying every `gap` days (views between) from their first day until they stop. */
  function history(): TrackedEvent[] {
    const events: TrackedEvent[] = [];
    for (let u = 0; u < 120; u++) {
      const gap = 2 + (u % 5) * 3;
      const first = MONDAY + (u % 11) * DAY + (u % 3) * 3_600_000;
      const stop = u % 2 === 0 ? NOW : NOW - ((u * 37) % 100) * DAY;
      for (let t = first; t < stop; t += gap * DAY) {
        events.push(trackedEvent({ userId: `u${u}`, name: 'purchased', timestamp: t, receivedAt: t }));
        const view = t + DAY + 7_200_000;
        if (view < stop) events.push(trackedEvent({ userId: `u${u}`, timestamp: view, receivedAt: view }));
      }
    }
    return events;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attune-churn-derived-'));
    engine = await Engine.open(
      engineConfig(`sqlite:${dir}`, {
        retrainIntervalMs: null,
        bundlePollMs: null,
        selection: 'fixed',
        features: set,
      }),
      undefined,
      { clock: () => NOW },
    );
    await engine.appendEvents(history());
  });
  afterAll(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives equal rows and the served probability is the model on the training row', async () => {
    await trainChurn(engine.store, set, { now: NOW, windowMs: WINDOW, events: ['purchased'], model: 'gbdt' });
    await engine.refreshChurnModel();
    const scorer = await loadChurnScorer(engine.store);
    if (scorer === null) throw new Error('expected a stored churn model');
    expect(scorer.data.columns.filter((m) => m.kind === 'derived').map((m) => m.column)).toEqual([
      'recency_over_tenure',
      'frequency_per_30d',
      'recency_over_gap',
    ]);

    async function* scan(): EventScan {
      for await (const batch of engine.store.scanEvents({ throughSeq: await engine.store.lastEventSeq() }))
        yield batch;
    }
    const table = await churnTable(
      set,
      scan(),
      { cutoff: NOW, windowMs: WINDOW, events: ['purchased'] },
      () => undefined,
    );
    expect(table.columns).toEqual(scorer.data.columns.map((m) => m.column));
    const width = table.columns.length;
    const gapAt = table.columns.indexOf('recency_over_gap');
    let finiteGaps = 0;
    for (const user of ['u0', 'u1', 'u7', 'u12', 'u33', 'u58', 'u99']) {
      const features = await engine.userFeatures(user);
      if (!('user' in features)) throw new Error(`${user} unknown`);
      expect(features.at).toBe(NOW);
      const serving = scorer.rowFrom(features.user.columns.numeric, features.user.numbers);
      const r = table.ids.indexOf(user);
      const training = table.x.subarray(r * width, (r + 1) * width);
      expect(Array.from(serving), user).toEqual(Array.from(training));
      if (Number.isFinite(training[gapAt]!)) finiteGaps++;

      const served = await engine.userChurn(user);
      if (!('score' in served)) throw new Error(`no churn score for ${user}`);
      expect(served.score.probability).toBeCloseTo(scorer.probabilities(Float64Array.from(training))[0]!, 12);
    }
    // Not vacuous: the ratios have values to compare.
    expect(finiteGaps).toBeGreaterThan(3);
  });
});
