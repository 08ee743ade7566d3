import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliEngineConfig } from '../src/cli/config.js';
import { call, get, openTestApp, type TestApp, type UserEventsReply } from './helpers.js';

interface EventsWithRedactions {
  readonly accepted: number;
  readonly redacted?: { index: number; field: string; action: string; reason: string }[];
}

describe('personal data in event context and properties', () => {
  let t: TestApp;
  afterEach(() => t.close());

  it('is not stored: IP addresses, e-mails and phones removed, coordinates coarsened, the rest kept and the reply says which', async () => {
    t = await openTestApp();
    const reply = await call<EventsWithRedactions>(t.app, 'POST', '/v1/events', {
      events: [
        {
          event: 'product_viewed',
          user_id: 'u-private',
          item_id: 'i1',
          context: {
            device: 'mobile',
            ip: '198.51.100.77',
            email: 'jane.doe@example.com',
            location: '48.85661,2.35222',
          },
          properties: { price: 12.5, phone: '+44 20 7946 0958' },
        },
        { event: 'product_viewed', user_id: 'u-private', item_id: 'i2', context: { device: 'desktop' } },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.body.accepted).toBe(2);
    expect(reply.body.redacted).toEqual([
      { index: 0, field: 'context.ip', action: 'removed', reason: 'ip_address' },
      { index: 0, field: 'context.email', action: 'removed', reason: 'email' },
      { index: 0, field: 'context.location', action: 'coarsened', reason: 'coordinates' },
      { index: 0, field: 'properties.phone', action: 'removed', reason: 'phone' },
    ]);
    const events = (await get<UserEventsReply>(t.app, '/v1/users/u-private/events')).body.events;
    const first = events.find((e) => e.item_id === 'i1')!;
    expect(first.context).toEqual({ device: 'mobile', location: '48.9,2.4' });
    expect(first.properties).toEqual({ price: 12.5 });
    // Nothing of it reached the data directory either.
    await t.engine.store.getMeta('flush');
    for (const name of readdirSync(t.dir)) {
      const bytes = readFileSync(join(t.dir, name));
      for (const secret of ['198.51.100.77', 'jane.doe@example.com', '7946 0958', '48.85661']) {
        expect(bytes.includes(Buffer.from(secret)), `${secret} in ${name}`).toBe(false);
      }
    }
  });

  it('is not stored in user traits either: the reply says what was removed, the rest is kept', async () => {
    t = await openTestApp();
    const put = await call<{
      user: { traits: Record<string, unknown> };
      redacted?: { field: string; action: string; reason: string }[];
    }>(t.app, 'PUT', '/v1/users/u-traits', {
      traits: { plan: 'pro', email: 'ada@example.com', phone: '+44 20 7946 0958', home: '51.50735,-0.12776' },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.user.traits).toEqual({ plan: 'pro', home: '51.5,-0.1' });
    expect(put.body.redacted).toEqual([
      { field: 'traits.email', action: 'removed', reason: 'email' },
      { field: 'traits.phone', action: 'removed', reason: 'phone' },
      { field: 'traits.home', action: 'coarsened', reason: 'coordinates' },
    ]);
    const stored = await get<{ user: { traits: Record<string, unknown> } }>(t.app, '/v1/users/u-traits');
    expect(stored.body.user.traits).toEqual({ plan: 'pro', home: '51.5,-0.1' });
    const plain = await call<{ redacted?: unknown }>(t.app, 'PUT', '/v1/users/u-plain', {
      traits: { plan: 'free' },
    });
    expect(plain.body.redacted).toBeUndefined();
  });

  it('keeps fields on the allowlist (ATTUNE_CONTEXT_ALLOW) as sent, but never an IP address', async () => {
    const config = cliEngineConfig(undefined, {}, { ATTUNE_CONTEXT_ALLOW: 'email, context.location, ip' });
    t = await openTestApp({ personalData: config.personalData });
    const reply = await call<EventsWithRedactions>(t.app, 'POST', '/v1/events', {
      event: 'signed_up',
      user_id: 'u-allowed',
      context: { email: 'jane.doe@example.com', location: '48.85661,2.35222', ip: '198.51.100.77' },
    });
    expect(reply.body.redacted).toEqual([
      { index: 0, field: 'context.ip', action: 'removed', reason: 'ip_address' },
    ]);
    const [event] = (await get<UserEventsReply>(t.app, '/v1/users/u-allowed/events')).body.events;
    expect(event!.context).toEqual({ email: 'jane.doe@example.com', location: '48.85661,2.35222' });
  });
});
