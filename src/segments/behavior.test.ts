import { describe, expect, it } from 'vitest';
import { FeatureSet, featuresAt, parseFeatureDefinitions, userFeatureTable } from '../features/index.js';
import { adjustedRandIndex } from './ari.js';
import { decodeSegmentsArtifact, encodeSegmentsArtifact, SegmentModel, UNSEGMENTED } from './model.js';
import { behaviouralMatrix, composeDescription, trainSegmentsOnTable } from './train.js';
import { GROUPS, plantedShop, scanOf, SHOP_ITEMS, type PlantedShop } from './test-shop.js';

const NOW = Date.UTC(2026, 5, 1);
const set = new FeatureSet();
const items = new Map(SHOP_ITEMS.map((item) => [item.id, item]));
const lookup = (id: string) => items.get(id);

async function tableOf(shop: PlantedShop) {
  return userFeatureTable(set, scanOf(shop.events), NOW, lookup);
}

/** Each user's planted group as a number, in the table's row order. */
function planted(shop: PlantedShop, ids: readonly string[]): Int32Array {
  return Int32Array.from(ids, (id) => GROUPS.indexOf(shop.groups.get(id)!));
}

describe('segments of the users’ behavioural features', () => {
  it('k-means with k by silhouette recovers the planted groups and names what sets each apart', async () => {
    const shop = plantedShop(NOW);
    const table = await tableOf(shop);
    const data = trainSegmentsOnTable(set, table, NOW, { trainedAt: NOW });
    if (data.clustering.algorithm !== 'kmeans') throw new Error('expected k-means');
    expect(data.clustering.k).toBe(3);
    expect(data.clustering.scores.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(data.silhouette).toBeGreaterThan(0.5);

    const model = new SegmentModel(data, 1);
    const matrix = behaviouralMatrix(set, table);
    const d = matrix.columns.length;
    const found = Int32Array.from(
      table.ids,
      (_, i) => model.assign(matrix.data.subarray(i * d, i * d + d)).segment.label,
    );
    expect(adjustedRandIndex(planted(shop, table.ids), found)).toBe(1);

    // Each planted group's segment, by one of its users, described by its planted behaviour.
    const text = (userId: string) => {
      const i = table.ids.indexOf(userId);
      return model.assign(matrix.data.subarray(i * d, i * d + d)).segment.description;
    };
    expect(text('buyers-0')).toBe('frequent mobile buyers of electronics, evenings');
    expect(text('browsers-0')).toMatch(/^desktop browsers of books, mornings$/);
    expect(text('weekenders-0')).toMatch(/tablet .* of garden, weekends/);
    expect(data.segments.map((s) => s.size)).toEqual([40, 40, 40]);
    expect(data.segments.map((s) => s.id)).toEqual(['seg-1', 'seg-2', 'seg-3']);
    const buyers = data.segments.find((s) => s.description.includes('electronics'))!;
    const frequency = buyers.features.find((f) => f.column === 'frequency');
    expect(frequency?.direction).toBe('higher');
    expect(frequency!.segmentMean).toBeGreaterThan(frequency!.restMean);
  });

  it('DBSCAN with eps from the k-distance knee finds the same groups, its core points placing users', async () => {
    const shop = plantedShop(NOW);
    const table = await tableOf(shop);
    const data = trainSegmentsOnTable(set, table, NOW, { trainedAt: NOW, algorithm: 'dbscan' });
    if (data.clustering.algorithm !== 'dbscan') throw new Error('expected DBSCAN');
    expect(data.clustering.epsSuggested).toBe(true);
    const model = new SegmentModel(data, 1);
    const matrix = behaviouralMatrix(set, table);
    const d = matrix.columns.length;
    const found = Int32Array.from(
      table.ids,
      (_, i) => model.assign(matrix.data.subarray(i * d, i * d + d)).segment.label,
    );
    // Three segments, each of one planted group; the few users at the groups' edges may be noise.
    expect(data.segments.filter((s) => s.id !== UNSEGMENTED)).toHaveLength(3);
    const groupsOf = new Map<number, Set<string>>();
    table.ids.forEach((id, i) => {
      if (found[i]! < 0) return;
      groupsOf.set(found[i]!, (groupsOf.get(found[i]!) ?? new Set()).add(shop.groups.get(id)!));
    });
    expect([...groupsOf.values()].map((g) => g.size)).toEqual([1, 1, 1]);
    expect(found.filter((label) => label < 0).length).toBeLessThanOrEqual(table.ids.length * 0.05);
    expect(adjustedRandIndex(planted(shop, table.ids), found)).toBeGreaterThan(0.95);
    // Far from every core point: noise.
    const far = model.assign(new Float64Array(d).fill(50));
    expect(far.segment.id).toBe(UNSEGMENTED);
    expect(far.confidence).toBe(0);
  });

  it('round-trips through the artifact, and a user’s online row lands in the segment of their batch row', async () => {
    const shop = plantedShop(NOW);
    const table = await tableOf(shop);
    const data = trainSegmentsOnTable(set, table, NOW, { trainedAt: NOW, k: 3 });
    const decoded = decodeSegmentsArtifact(encodeSegmentsArtifact(data));
    expect(decoded).toEqual(data);
    const model = new SegmentModel(decoded, 4);
    const matrix = behaviouralMatrix(set, table);
    const d = matrix.columns.length;
    for (const userId of ['buyers-3', 'browsers-5', 'weekenders-7']) {
      const row = featuresAt(
        set,
        'user',
        shop.events.filter((e) => e.userId === userId),
        NOW,
        lookup,
      );
      const x = model.vector(row);
      const i = table.ids.indexOf(userId);
      expect(Array.from(x)).toEqual(Array.from(matrix.data.subarray(i * d, i * d + d)));
      // The nearest centre, by brute force over the stored centres.
      const c = data.clustering.algorithm === 'kmeans' ? data.clustering.centers : [];
      const distances = Array.from({ length: 3 }, (_, k) =>
        Math.hypot(...Array.from(x, (v, j) => v - c[k * d + j]!)),
      );
      const nearest = distances.indexOf(Math.min(...distances));
      const placed = model.assign(x);
      expect(placed.segment.label).toBe(nearest);
      expect(placed.distance).toBeCloseTo(distances[nearest]!, 12);
      expect(placed.confidence).toBeGreaterThan(0);
      expect(placed.confidence).toBeLessThanOrEqual(1);
    }
    expect(() => decodeSegmentsArtifact(new TextEncoder().encode('{"format":99}'))).toThrow(/format 99/);
  });

  it('fills missing values with the median and log-transforms counts, as stored', async () => {
    const shop = plantedShop(NOW);
    const table = await tableOf(shop);
    const matrix = behaviouralMatrix(set, table);
    const byName = new Map(matrix.columns.map((c) => [c.name, c]));
    expect(byName.get('events_30d')?.log).toBe(true);
    expect(byName.get('device_mobile')?.log).toBe(false);
    expect(byName.get('category_top=electronics')?.source).toEqual({
      kind: 'label',
      column: 'category_top',
      value: 'electronics',
    });
    // Every user bought nothing at night: a constant column says nothing and is left out.
    expect(matrix.dropped).toContain('activity_night_share');
    // `monetary` of the browsers is 0 (no purchase), the buyers' several hundred: a heavy tail, logged.
    const monetary = byName.get('monetary')!;
    expect(monetary.log).toBe(true);
    // A user with no events in the share's window reads as the median, not as 0.
    const model = new SegmentModel(trainSegmentsOnTable(set, table, NOW, { trainedAt: NOW, k: 3 }), 1);
    const nobody = featuresAt(set, 'user', [], NOW, lookup);
    const x = model.vector(nobody);
    const mobile = model.data.columns.findIndex((c) => c.name === 'device_mobile');
    const column = model.data.columns[mobile]!;
    expect(Number.isNaN(nobody.numbers[nobody.columns.numeric.indexOf('device_mobile')]!)).toBe(true);
    expect(x[mobile]).toBeCloseTo((column.fill - column.mean) / column.scale, 12);
  });

  it('clusters named features only, and refuses unknown ones', async () => {
    const shop = plantedShop(NOW);
    const table = await tableOf(shop);
    const data = trainSegmentsOnTable(set, table, NOW, {
      trainedAt: NOW,
      k: 2,
      features: ['device_mobile', 'frequency'],
    });
    expect(data.columns.map((c) => c.name)).toEqual(['device_mobile', 'frequency']);
    expect(() => trainSegmentsOnTable(set, table, NOW, { trainedAt: NOW, features: ['nope'] })).toThrow(
      /no user feature "nope"/,
    );
    const few = new FeatureSet(
      parseFeatureDefinitions({ user: [{ name: 'recency_days', kind: 'recency' }] }),
    );
    const tiny = await userFeatureTable(few, scanOf(shop.events.slice(0, 3)), NOW, lookup);
    expect(() => trainSegmentsOnTable(few, tiny, NOW, { trainedAt: NOW })).toThrow(/too few to segment/);
  });

  it('composes the noun-giving feature first', () => {
    expect(
      composeDescription([
        { before: 'mobile' },
        { before: 'frequent', noun: 'buyers' },
        'evenings',
        { after: 'of books' },
      ]),
    ).toBe('frequent mobile buyers of books, evenings');
    expect(composeDescription(['evenings'])).toBe('evenings');
    expect(composeDescription([])).toBe('typical on every feature');
  });
});
