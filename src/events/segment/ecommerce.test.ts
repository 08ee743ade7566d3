import { describe, expect, it } from 'vitest';

import { defaultFeedbackConfig, feedbackOf } from '../feedback.js';
import { FieldError } from '../fields.js';
import { revenueOf } from '../../experiments/metrics/values.js';
import { allocate, attuneEventName, partEventId, trackParts, type EventPart } from './ecommerce.js';

function parts(event: string, properties: unknown): EventPart[] {
  const result = trackParts(event, properties);
  if (result instanceof FieldError) throw new Error(`${result.field}: ${result.message}`);
  return result;
}

const weightOf = (name: string) => feedbackOf(defaultFeedbackConfig, { name, properties: {} });

describe('Segment e-commerce names', () => {
  it.each([
    ['Product Viewed', 'product_viewed', 1],
    ['Product Clicked', 'product_clicked', 2],
    ['Product Added to Wishlist', 'added_to_wishlist', 3],
    ['Product Added', 'added_to_cart', 4],
    ['Checkout Started', 'checkout_started', 4],
    ['Order Completed', 'purchased', 8],
    ['order_completed', 'purchased', 8],
  ])('%s is stored as %s, a positive interaction of weight %d', (segment, attune, weight) => {
    expect(attuneEventName(segment)).toBe(attune);
    expect(weightOf(attune)).toEqual({ kind: 'positive', weight });
  });

  it('stores Product Removed as a mild negative, and names outside the spec as sent', () => {
    expect(attuneEventName('Product Removed')).toBe('removed_from_cart');
    expect(weightOf('removed_from_cart')).toEqual({ kind: 'negative', weight: 1 });
    expect(attuneEventName('Video Played')).toBe('Video Played');
    expect(attuneEventName('Product List Viewed')).toBe('Product List Viewed');
  });
});

describe('trackParts: one event on the item the properties name', () => {
  it('takes product_id, else sku, else id, and keeps every property, nested ones flattened', () => {
    expect(
      parts('Product Viewed', { product_id: 'p1', sku: 's1', price: 9.5, brand: { name: 'Acme' } }),
    ).toEqual([
      {
        name: 'product_viewed',
        itemId: 'p1',
        properties: { product_id: 'p1', sku: 's1', price: 9.5, 'brand.name': 'Acme' },
        part: null,
      },
    ]);
    expect(parts('Product Added', { sku: 'SKU-7', quantity: 2 })[0]!.itemId).toBe('SKU-7');
    expect(parts('Product Clicked', { id: 42 })[0]!.itemId).toBe('42');
    expect(parts('Signed Up', { plan: 'pro' })).toEqual([
      { name: 'Signed Up', itemId: null, properties: { plan: 'pro' }, part: null },
    ]);
  });

  it('refuses an item id that is not one, naming the field', () => {
    const error = trackParts('Product Viewed', { product_id: { nested: true } });
    expect(error).toBeInstanceOf(FieldError);
    expect((error as FieldError).field).toBe('properties.product_id');
    expect((trackParts('Product Viewed', 'x') as FieldError).field).toBe('properties');
  });
});

describe('trackParts: orders become one event per product', () => {
  const order = {
    order_id: 'o-1',
    revenue: 100,
    total: 112,
    tax: 12,
    currency: 'EUR',
    products: [
      { product_id: 'p1', price: 30, quantity: 2, name: 'Mug' },
      { sku: 'p2', price: 40 },
      { name: 'gift wrap, no id', price: 5 },
    ],
  };

  it('carries each product’s fields over the order’s, and splits the order’s revenue once', () => {
    const events = parts('Order Completed', order);
    expect(events.map((e) => [e.name, e.itemId, e.part])).toEqual([
      ['purchased', 'p1', 0],
      ['purchased', 'p2', 1],
    ]);
    const [first, second] = events;
    expect(first!.properties).toMatchObject({
      order_id: 'o-1',
      currency: 'EUR',
      tax: 12,
      order_revenue: 100,
      order_total: 112,
      product_id: 'p1',
      price: 30,
      quantity: 2,
      name: 'Mug',
    });
    expect(first!.properties).not.toHaveProperty('products');
    // 60 and 40 of line value: the revenue of 100 in that proportion, as revenue and value.
    expect(first!.properties['revenue']).toBe(60);
    expect(second!.properties['revenue']).toBe(40);
    expect(second!.properties['value']).toBe(40);
    // What the experiment metrics sum over the product events is the order's revenue, not more.
    expect(events.reduce((sum, e) => sum + revenueOf(e.properties), 0)).toBe(100);
  });

  it('without an order amount, each product is worth its price × quantity', () => {
    const events = parts('Order Completed', {
      products: [{ product_id: 'a', price: 2.5, quantity: 4 }, { product_id: 'b' }],
    });
    expect(events[0]!.properties).toMatchObject({ value: 10 });
    expect(events[0]!.properties).not.toHaveProperty('revenue');
    expect(events[1]!.properties).not.toHaveProperty('value');
    expect(events.reduce((sum, e) => sum + revenueOf(e.properties), 0)).toBe(10);
  });

  it('expands Checkout Started and Cart Viewed too, under their own names', () => {
    expect(parts('Checkout Started', { products: [{ product_id: 'a' }] })[0]).toMatchObject({
      name: 'checkout_started',
      itemId: 'a',
    });
    expect(parts('Cart Viewed', { products: [{ product_id: 'a' }, { product_id: 'b' }] })).toHaveLength(2);
  });

  it('keeps an order whose products name no item as one event with its revenue', () => {
    const events = parts('Order Completed', { revenue: 20, products: [{ name: 'x' }] });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ name: 'purchased', itemId: null, part: null });
    expect(revenueOf(events[0]!.properties)).toBe(20);
    expect(events[0]!.properties['products']).toBe('[{"name":"x"}]');
  });

  it('refuses a product that is not an object or names a bad id, with its index', () => {
    expect((trackParts('Order Completed', { products: ['p1'] }) as FieldError).field).toBe(
      'properties.products[0]',
    );
    expect(
      (trackParts('Order Completed', { products: [{ product_id: 'a' }, { product_id: '' }] }) as FieldError)
        .field,
    ).toBe('properties.products[1].product_id');
  });

  it('leaves products[] of other events whole, as JSON text', () => {
    const [event] = parts('Product List Viewed', { list_id: 'l', products: [{ product_id: 'a' }] });
    expect(event!.properties).toEqual({ list_id: 'l', products: '[{"product_id":"a"}]' });
  });
});

describe('allocate', () => {
  it('splits in proportion, in exact units, the last part taking the rounding', () => {
    const shares = allocate(100, [1, 1, 1]);
    expect(shares).toEqual([33.3333, 33.3333, 33.3334]);
    expect(Math.round(shares.reduce((a, b) => a + b, 0) * 10_000)).toBe(1_000_000);
    expect(allocate(10, [0, 0])).toEqual([5, 5]);
    expect(allocate(9.99, [3, 0, 1])).toEqual([7.4925, 0, 2.4975]);
  });
});

describe('partEventId', () => {
  it('is the message id, or the message id and the part, and stays within the id limit', () => {
    expect(partEventId('m-1', null)).toBe('m-1');
    expect(partEventId('m-1', 2)).toBe('m-1#2');
    const long = 'x'.repeat(256);
    expect(partEventId(long, 3)).toMatch(/^[0-9a-f]{64}#3$/);
    expect(partEventId(long, 3)).toBe(partEventId(long, 3));
  });
});
