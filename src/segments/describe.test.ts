import { describe, expect, it } from 'vitest';
import { Rng } from '../demo/random.js';
import { describeSegments, type LabelMap } from './describe.js';

const COLUMNS = ['purchases_30d', 'device_share_mobile', 'tenure_months', 'noise_a', 'noise_b'] as const;

/**
 * 900 customers in three planted segments (row i in segment i % 3), each set apart by one feature:
 * 0 buys more, 1 is on mobile, 2 is new; the two noise columns are the same for all.
 */
function planted(seed: number) {
  const rng = new Rng(seed);
  const n = 900;
  const d = COLUMNS.length;
  const data = new Float64Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const segment = i % 3;
    labels[i] = segment;
    data[i * d] = 2 + (segment === 0 ? 6 : 0) + rng.normal();
    data[i * d + 1] = (segment === 1 ? 0.9 : 0.3) + 0.05 * rng.normal();
    data[i * d + 2] = (segment === 2 ? 3 : 30) + 2 * rng.normal();
    data[i * d + 3] = rng.normal();
    data[i * d + 4] = rng.uniform(0, 10);
  }
  return { data, labels, n, d };
}

describe('describeSegments', () => {
  it('names each segment by its planted feature first, with direction, size and share', () => {
    const { data, labels, n, d } = planted(3);
    const segments = describeSegments(data, n, d, labels, { columns: COLUMNS });
    expect(segments.map((s) => [s.label, s.size, s.share])).toEqual([
      [0, 300, 1 / 3],
      [1, 300, 1 / 3],
      [2, 300, 1 / 3],
    ]);
    expect(segments.map((s) => s.features[0]!.column)).toEqual([
      'purchases_30d',
      'device_share_mobile',
      'tenure_months',
    ]);
    expect(segments[0]!.text.startsWith('high purchases_30d')).toBe(true);
    expect(segments[1]!.text.startsWith('high device_share_mobile')).toBe(true);
    expect(segments[2]!.text.startsWith('low tenure_months')).toBe(true);
    expect(segments[2]!.features[0]!.effect).toBeLessThan(-1);
    for (const segment of segments) {
      expect(segment.features.map((f) => f.column)).not.toContain('noise_a');
      expect(segment.features.map((f) => f.column)).not.toContain('noise_b');
    }
    expect(segments[0]!.features[0]!.segmentMean).toBeCloseTo(8, 0);
    expect(segments[0]!.features[0]!.restMean).toBeCloseTo(2, 0);
  });

  it('reads as one noun phrase and asides through a label map', () => {
    // Segment 1 (rows 1, 3, …) buys often, on mobile, electronics, in the evening; segment 0 the opposite.
    const columns = [
      'purchase_count_30d',
      'device_share_mobile',
      'category_share_electronics',
      'hour_of_week_evening',
    ];
    const n = 40;
    const d = columns.length;
    const data = new Float64Array(n * d);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = i % 2;
      labels[i] = s;
      // One step up in every feature, within-segment spread growing column by column (sd √2·c for
      // c·(i mod 5)), so that the order of distinctiveness is purchases, mobile, electronics, evenings.
      [0.1, 0.3, 0.5, 0.8].forEach((c, j) => (data[i * d + j] = s + c * (i % 5)));
    }
    const words: LabelMap = {
      purchase_count_30d: {
        name: 'purchases in 30 days',
        high: { before: 'frequent', noun: 'buyers' },
        low: { before: 'occasional', noun: 'buyers' },
      },
      device_share_mobile: { high: { before: 'mobile' }, low: { before: 'desktop' } },
      category_share_electronics: { high: { after: 'of electronics' } },
      hour_of_week_evening: { high: 'evenings', low: 'daytime' },
    };
    const [low, high] = describeSegments(data, n, d, labels, { columns, labels: words, top: 4 });
    expect(high!.text).toBe('frequent mobile buyers of electronics, evenings');
    // No low phrase for electronics: the default wording stands in.
    expect(low!.text).toBe('occasional desktop buyers, low category_share_electronics, daytime');
    expect(high!.features[0]!.detail).toMatch(/^purchases in 30 days: /);
  });

  it('takes a function as the label map, for families of columns', () => {
    const { data, labels, n, d } = planted(5);
    const words: LabelMap = (column) =>
      column.startsWith('tenure') ? { high: 'long-standing', low: 'new customers' } : undefined;
    const segments = describeSegments(data, n, d, labels, { columns: COLUMNS, labels: words, top: 1 });
    expect(segments[2]!.text).toBe('new customers');
    expect(segments[0]!.text).toBe('high purchases_30d');
  });

  it('names nothing below minEffect, describes noise (−1) like any label, and checks its input', () => {
    // Both labels have mean 1.5 on x; on y they differ by 0.26 sd: named only when minEffect is below.
    const data = Float64Array.from([1, 0, 2, 1, 1, 0.2, 2, 0.6]);
    const labels = Int32Array.from([-1, -1, 0, 0]);
    const segments = describeSegments(data, 4, 2, labels, { columns: ['x', 'y'] });
    expect(segments.map((s) => [s.label, s.size, s.share, s.text])).toEqual([
      [-1, 2, 0.5, 'typical on every feature'],
      [0, 2, 0.5, 'typical on every feature'],
    ]);
    const strict = describeSegments(data, 4, 2, labels, { columns: ['x', 'y'], minEffect: 0.1 });
    expect(strict.map((s) => s.text)).toEqual(['high y', 'low y']);
    expect(() => describeSegments(data, 4, 2, labels, { columns: ['x'] })).toThrow(/columns/);
    expect(() => describeSegments(data, 4, 2, labels.subarray(1), { columns: ['x', 'y'] })).toThrow(/labels/);
  });
});
