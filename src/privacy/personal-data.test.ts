import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PERSONAL_DATA_POLICY, redactPersonalData } from './personal-data.js';

const none = DEFAULT_PERSONAL_DATA_POLICY;

describe('redactPersonalData', () => {
  it('removes IP addresses, e-mail addresses and phone numbers, by field name and by value', () => {
    const { record, redactions } = redactPersonalData(
      {
        device: 'mobile',
        ip: '203.0.113.9',
        client: '2001:db8::7',
        email: 'someone@example.com',
        contact: 'a.b+c@shop.example',
        phone: '0612345678',
        caller: '+33 6 12 34 56 78',
        location: 'FR',
        page: '/checkout',
        at: '12:30',
        order: 'A-2024-000123',
      },
      'context',
      none,
    );
    expect(record).toEqual({
      device: 'mobile',
      location: 'FR',
      page: '/checkout',
      at: '12:30',
      order: 'A-2024-000123',
    });
    expect(redactions).toEqual([
      { field: 'context.ip', action: 'removed', reason: 'ip_address' },
      { field: 'context.client', action: 'removed', reason: 'ip_address' },
      { field: 'context.email', action: 'removed', reason: 'email' },
      { field: 'context.contact', action: 'removed', reason: 'email' },
      { field: 'context.phone', action: 'removed', reason: 'phone' },
      { field: 'context.caller', action: 'removed', reason: 'phone' },
    ]);
  });

  it('coarsens exact coordinates to one decimal, as numbers and as "lat,lon" text', () => {
    const { record, redactions } = redactPersonalData(
      { lat: 48.85661, Longitude: 2.35222, location: '48.85661, 2.35222', city: 'Paris' },
      'properties',
      none,
    );
    expect(record).toEqual({ lat: 48.9, Longitude: 2.4, location: '48.9,2.4', city: 'Paris' });
    expect(redactions.map((r) => `${r.field} ${r.action}`)).toEqual([
      'properties.lat coarsened',
      'properties.Longitude coarsened',
      'properties.location coarsened',
    ]);
  });

  it('keeps allowlisted fields as sent, by name or by path, but never an IP address', () => {
    const policy = { allow: new Set(['email', 'context.lat', 'ip']) };
    const { record, redactions } = redactPersonalData(
      { email: 'someone@example.com', lat: 48.85661, ip: '203.0.113.9' },
      'context',
      policy,
    );
    expect(record).toEqual({ email: 'someone@example.com', lat: 48.85661 });
    expect(redactions).toEqual([{ field: 'context.ip', action: 'removed', reason: 'ip_address' }]);
  });

  it('returns the very record when nothing looks personal (no copy on the common path)', () => {
    const plain = { device: 'desktop', revenue: 12.5, session: 'abc', hour: 14 };
    expect(redactPersonalData(plain, 'context', none).record).toBe(plain);
  });

  it('never leaves an IPv4 address or an e-mail address in what it returns (property)', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
    const email = fc.emailAddress();
    const name = fc.string({ minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.oneof(ipv4, email, fc.string(), fc.double(), fc.boolean())),
        (record) => {
          const { record: kept } = redactPersonalData(record, 'context', none);
          for (const value of Object.values(kept)) {
            if (typeof value !== 'string') continue;
            expect(
              /^\d+\.\d+\.\d+\.\d+$/.test(value) && value.split('.').every((o) => Number(o) <= 255),
            ).toBe(false);
            expect(/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value.trim())).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
