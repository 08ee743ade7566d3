import { describe, expect, it } from 'vitest';

import {
  defaultFeedbackConfig,
  FeedbackConfigError,
  feedbackOf,
  normalizeEventName,
  parseFeedbackConfig,
  type FeedbackConfig,
} from './feedback.js';
import type { FeedbackKind } from './types.js';

const of = (name: string, config: FeedbackConfig = defaultFeedbackConfig): FeedbackKind =>
  feedbackOf(config, { name, properties: {} });

const positive = (weight: number): FeedbackKind => ({ kind: 'positive', weight });
const negative = (weight: number): FeedbackKind => ({ kind: 'negative', weight });

describe('normalizeEventName', () => {
  it.each([
    ['product_viewed', 'product_viewed'],
    ['Product Viewed', 'product_viewed'],
    ['PRODUCT_VIEWED', 'product_viewed'],
    ['product-viewed', 'product_viewed'],
    ['productViewed', 'product_viewed'],
    ['ProductViewed', 'product_viewed'],
    ['  Product   Viewed  ', 'product_viewed'],
    ['product__viewed', 'product_viewed'],
    ['Product Added to Wishlist', 'product_added_to_wishlist'],
    ['PDPViewed', 'pdp_viewed'],
    ['checkout.completed', 'checkout_completed'],
    ['step2Done', 'step2_done'],
    ['Élément Vu', 'élément_vu'],
    ['', ''],
  ])('%j → %j', (name, key) => {
    expect(normalizeEventName(name)).toBe(key);
  });
});

describe('defaultFeedbackConfig', () => {
  it.each([
    ['product_viewed', positive(1)],
    ['item_viewed', positive(1)],
    ['viewed', positive(1)],
    ['page_viewed', positive(1)],
    ['product_clicked', positive(2)],
    ['clicked', positive(2)],
    ['added_to_cart', positive(4)],
    ['product_added', positive(4)],
    ['added_to_wishlist', positive(3)],
    ['rated', positive(3)],
    ['liked', positive(3)],
    ['shared', positive(3)],
    ['purchased', positive(8)],
    ['order_completed', positive(8)],
    ['checkout_completed', positive(8)],
    ['dismissed', negative(2)],
    ['hidden', negative(3)],
    ['not_interested', negative(4)],
    ['removed_from_cart', negative(1)],
    ['impression', { kind: 'exposure' }],
    ['product_impression', { kind: 'exposure' }],
    ['item_shown', { kind: 'exposure' }],
  ])('snake_case %s', (name, kind) => {
    expect(of(name)).toEqual(kind);
  });

  it.each([
    ['Product Viewed', positive(1)],
    ['Product Clicked', positive(2)],
    ['Product Added', positive(4)],
    ['Product Added to Wishlist', positive(3)],
    ['Product Removed', negative(1)],
    ['Checkout Started', positive(4)],
    ['Order Completed', positive(8)],
    ['Product Shared', positive(3)],
    ['Product Reviewed', positive(3)],
    ['Product List Viewed', { kind: 'exposure' }],
    ['Promotion Viewed', { kind: 'exposure' }],
  ])('Segment %j', (name, kind) => {
    expect(of(name)).toEqual(kind);
  });

  it('gives unknown names the configured unknown kind', () => {
    expect(of('signed_up')).toEqual({ kind: 'none' });
    expect(of('Products Searched')).toEqual({ kind: 'none' });
  });

  it('answers repeated lookups from its memo with the same object', () => {
    expect(of('Product Viewed')).toBe(of('Product Viewed'));
    expect(of('Product Viewed')).toBe(of('product_viewed'));
  });

  it('does not read properties', () => {
    expect(feedbackOf(defaultFeedbackConfig, { name: 'rated', properties: { rating: 1 } })).toEqual(
      positive(3),
    );
  });
});

describe('feedbackOf with a config written in code', () => {
  it('normalises the config keys like event names', () => {
    const config: FeedbackConfig = {
      events: { 'Video Watched': positive(5) },
      unknown: { kind: 'exposure' },
    };
    expect(of('video_watched', config)).toEqual(positive(5));
    expect(of('videoWatched', config)).toEqual(positive(5));
    expect(of('product_viewed', config)).toEqual({ kind: 'exposure' });
  });
});

describe('parseFeedbackConfig', () => {
  it('gives the defaults for null and {}', () => {
    expect(parseFeedbackConfig(null)).toBe(defaultFeedbackConfig);
    expect(parseFeedbackConfig(undefined)).toBe(defaultFeedbackConfig);
    const empty = parseFeedbackConfig({});
    expect(empty.events).toEqual(defaultFeedbackConfig.events);
    expect(empty.unknown).toEqual({ kind: 'none' });
  });

  it('merges overrides over the defaults, by normalised name', () => {
    const config = parseFeedbackConfig({
      events: {
        'Product Viewed': 2,
        'Video Watched': { kind: 'positive', weight: 3 },
        dismissed: 'none',
        banner_shown: 'exposure',
        'Thumbs Down': -4,
        report: { kind: 'negative', weight: 10 },
        seen: { kind: 'exposure' },
      },
      unknown: 0.5,
    });
    expect(of('product_viewed', config)).toEqual(positive(2));
    expect(of('Product Viewed', config)).toEqual(positive(2));
    expect(of('video_watched', config)).toEqual(positive(3));
    expect(of('dismissed', config)).toEqual({ kind: 'none' });
    expect(of('Banner Shown', config)).toEqual({ kind: 'exposure' });
    expect(of('thumbs_down', config)).toEqual(negative(4));
    expect(of('report', config)).toEqual(negative(10));
    expect(of('seen', config)).toEqual({ kind: 'exposure' });
    // Untouched defaults stay.
    expect(of('purchased', config)).toEqual(positive(8));
    expect(of('anything_else', config)).toEqual(positive(0.5));
  });

  it('does not change the defaults', () => {
    parseFeedbackConfig({ events: { product_viewed: 9 } });
    expect(of('product_viewed')).toEqual(positive(1));
  });

  function problemsOf(json: unknown): readonly string[] {
    try {
      parseFeedbackConfig(json);
    } catch (error) {
      expect(error).toBeInstanceOf(FeedbackConfigError);
      return (error as FeedbackConfigError).problems;
    }
    throw new Error('expected a FeedbackConfigError');
  }

  it('names each bad key', () => {
    expect(
      problemsOf({
        events: {
          a: 0,
          b: 'positive',
          c: { kind: 'positive' },
          d: { kind: 'negative', weight: -1 },
          e: { kind: 'great' },
          f: { kind: 'exposure', weight: 2 },
          g: [1],
        },
        unknown: 'maybe',
        extra: true,
      }),
    ).toEqual([
      'unknown key "extra"; accepted keys: events, unknown',
      'events["a"]: a weight must be a finite number other than 0 (use "none" to ignore an event)',
      'events["b"]: expected a weight (number ≠ 0), "exposure", "none", or {"kind": "positive"|"negative", ' +
        '"weight": w > 0}',
      'events["c"].weight: must be a finite number > 0',
      'events["d"].weight: must be a finite number > 0',
      'events["e"].kind: must be "positive", "negative", "exposure" or "none"',
      'events["f"]: unexpected key "weight" for kind "exposure"',
      'events["g"]: expected a weight (number ≠ 0), "exposure", "none", or {"kind": "positive"|"negative", ' +
        '"weight": w > 0}',
      'unknown: expected a weight (number ≠ 0), "exposure", "none", or {"kind": "positive"|"negative", ' +
        '"weight": w > 0}',
    ]);
  });

  it('refuses two names for the same event and empty names', () => {
    expect(problemsOf({ events: { 'Product Viewed': 1, product_viewed: 2, ' _ ': 1 } })).toEqual([
      'events["product_viewed"]: names the same event as "Product Viewed" (both are "product_viewed")',
      'events[" _ "]: the event name is empty',
    ]);
  });

  it('refuses a config that is not an object, or events that are not one', () => {
    expect(problemsOf([])).toEqual(['the config must be a JSON object']);
    expect(problemsOf({ events: ['viewed'] })).toEqual([
      'events must be an object mapping event names to feedback kinds',
    ]);
  });

  it('puts all problems in the error message', () => {
    expect(() => parseFeedbackConfig({ events: { x: 0 } })).toThrow(/invalid feedback config: events\["x"\]/);
  });
});
