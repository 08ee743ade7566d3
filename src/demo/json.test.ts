import { describe, expect, it } from 'vitest';
import type { TrackedEvent } from '../events/types.js';
import { toEventJson, toEventJsonLines } from './json.js';
import { generateDemoShop } from './shop.js';

const purchase: TrackedEvent = {
  eventId: 'demo-7',
  name: 'purchased',
  userId: 'user-0001',
  itemId: 'item-0042',
  timestamp: Date.parse('2026-10-12T19:30:05.123Z'),
  receivedAt: Date.parse('2026-10-12T19:30:05.123Z'),
  context: { device: 'mobile', location: 'GB', session_id: 'user-0001-s3' },
  properties: { price: 24.99, quantity: 2, currency: 'USD', value: 49.98 },
  requestId: null,
};

describe('toEventJson', () => {
  it('gives the HTTP API shape with an ISO timestamp', () => {
    expect(toEventJson(purchase)).toEqual({
      event: 'purchased',
      user_id: 'user-0001',
      item_id: 'item-0042',
      timestamp: '2026-10-12T19:30:05.123Z',
      event_id: 'demo-7',
      context: { device: 'mobile', location: 'GB', session_id: 'user-0001-s3' },
      properties: { price: 24.99, quantity: 2, currency: 'USD', value: 49.98 },
    });
  });

  it('puts a lifted request id back into properties', () => {
    const json = toEventJson({ ...purchase, requestId: 'req-1' });
    expect(json.properties).toEqual({ ...purchase.properties, request_id: 'req-1' });
  });

  it('writes demo events as one JSON object per line', () => {
    const { events } = generateDemoShop({ users: 20, items: 50, days: 14 });
    const lines = toEventJsonLines(events).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(events.length);
    lines.forEach((line, n) => {
      const parsed = JSON.parse(line) as ReturnType<typeof toEventJson>;
      expect(parsed.event_id).toBe(events[n]!.eventId);
      expect(Date.parse(parsed.timestamp)).toBe(events[n]!.timestamp);
    });
  });
});
