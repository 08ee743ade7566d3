import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FEATURE_DEFINITIONS,
  FeatureConfigError,
  parseFeatureDefinitions,
  parseWindow,
} from './definitions.js';
import { FeatureSet } from './feature-set.js';

function issuesOf(document: unknown): string[] {
  try {
    parseFeatureDefinitions(document, 'features.json');
  } catch (error) {
    if (error instanceof FeatureConfigError) return error.issues.map((i) => `${i.field}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('feature definitions', () => {
  it('reads windows: minutes, hours, days, lifetime; nothing else', () => {
    expect(parseWindow('90m')).toBe(90 * 60_000);
    expect(parseWindow('1h')).toBe(3_600_000);
    expect(parseWindow('30d')).toBe(30 * 86_400_000);
    expect(parseWindow('lifetime')).toBeNull();
    for (const bad of ['', '0d', '2w', '7 d', '-1d', '366d']) expect(parseWindow(bad)).toBeUndefined();
  });

  it('expands a windows list into one definition per window and fills defaults', () => {
    const definitions = parseFeatureDefinitions({
      user: [
        { name: 'views', kind: 'count', event: 'product_viewed', windows: ['1h', '7d'] },
        { name: 'monetary', kind: 'monetary' },
      ],
    });
    expect(definitions.user.map((d) => [d.name, d.window, d.windowMs])).toEqual([
      ['views_1h', '1h', 3_600_000],
      ['views_7d', '7d', 7 * 86_400_000],
      ['monetary', 'lifetime', null],
    ]);
    expect(definitions.user[2]?.property).toBe('value');
    expect(definitions.item).toEqual([]);
  });

  it('has built-in definitions whose columns are unique per entity', () => {
    const set = new FeatureSet(DEFAULT_FEATURE_DEFINITIONS);
    for (const columns of [set.user, set.item, set.userItem]) {
      const all = [...columns.numeric, ...columns.labels];
      expect(new Set(all).size).toBe(all.length);
    }
    expect(set.user.numeric).toContain('views_7d');
    expect(set.item.numeric).toContain('conversion_rate');
    expect(set.userItem.numeric).toContain('price_ratio');
  });

  it('names the field of every problem', () => {
    expect(
      issuesOf({
        user: [
          { name: 'Views', kind: 'count', window: '1d' },
          { name: 'a', kind: 'counts', window: '1d' },
          { name: 'b', kind: 'count', window: '2w' },
          { name: 'c', kind: 'sum', window: '1d' },
          { name: 'd', kind: 'count', windows: ['1d', 7] },
          { name: 'e', kind: 'share', window: '1d', field: 'device' },
          { name: 'f', kind: 'distinct_sessions', window: 'lifetime' },
          { name: 'g', kind: 'count', window: '1d', colour: 'red' },
          { name: 'h', kind: 'count' },
        ],
        item: [{ name: 'views', kind: 'count', window: 'lifetime' }],
        user_item: [{ name: 'views', kind: 'count', window: 'lifetime' }],
        users: [],
      }),
    ).toEqual([
      expect.stringMatching(/^users: unknown entity/),
      expect.stringMatching(/^user\[0\]\.name: must be a lower-case name/),
      expect.stringMatching(/^user\[1\]\.kind: must be one of count, sum/),
      expect.stringMatching(/^user\[2\]\.window: must be one of 1h, 1d, 7d, 30d, lifetime.*got "2w"/),
      expect.stringMatching(/^user\[3\]\.property: is required for sum/),
      expect.stringMatching(/^user\[4\]\.windows\[1\]: must be one of .*got 7/),
      expect.stringMatching(/^user\[5\]\.field: must be context\.<key> or properties\.<key>/),
      expect.stringMatching(/^user\[6\]\.window: distinct_sessions needs a finite window/),
      expect.stringMatching(/^user\[7\]\.colour: unknown field/),
      expect.stringMatching(/^user\[8\]\.window: is required for count/),
      expect.stringMatching(/^item\[0\]\.window: item features read the item's recent events/),
      expect.stringMatching(/^user_item\[0\]\.window: user_item counts and recency read/),
    ]);
  });

  it('refuses a name defined twice for one entity, and a non-object document', () => {
    expect(
      issuesOf({
        user: [
          { name: 'views_1d', kind: 'count', window: '1d' },
          { name: 'views', kind: 'count', windows: ['1d'] },
        ],
      }),
    ).toEqual([expect.stringMatching(/^user\[1\]\.name: "views_1d" is defined twice for user/)]);
    expect(issuesOf([])).toEqual(['(document): must be a JSON object']);
    expect(() => parseFeatureDefinitions({ user: 'x' }, 'features.json')).toThrow(
      /^features\.json: user: must be an array of definitions$/,
    );
  });
});
