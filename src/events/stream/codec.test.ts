import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { TrackedEvent } from '../types.js';
import { decodeEvent, decodeEvents, encodeEvent, encodeEvents } from './codec.js';
import { EventDecodeError } from './errors.js';
import { makeEvents } from './stream.testing.js';

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
// -0 is the one number JSON does not keep (the store's JSON columns do not either).
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0));
const scalar = fc.oneof(text, finite, fc.integer(), fc.boolean(), fc.constant(null));
const record = fc.dictionary(fc.oneof(text, fc.constant('__proto__'), fc.constant('constructor')), scalar, {
  maxKeys: 6,
  noNullPrototype: true,
});
const trackedEvent: fc.Arbitrary<TrackedEvent> = fc.record(
  {
    eventId: text,
    name: text,
    userId: text,
    itemId: fc.option(text, { nil: null }),
    timestamp: fc.integer({ min: 946_684_800_000, max: 8.64e15 }),
    receivedAt: finite,
    context: record,
    properties: record,
    requestId: fc.option(text, { nil: null }),
  },
  { noNullPrototype: true },
);

describe('event codec', () => {
  it('round-trips every field of any event exactly', () => {
    fc.assert(
      fc.property(trackedEvent, (event) => {
        const decoded = decodeEvent(encodeEvent(event));
        expect(decoded).toStrictEqual(event);
        // A "__proto__" key stays data: the same own keys in the same order, no prototype change.
        expect(Object.keys(decoded.properties)).toEqual(Object.keys(event.properties));
        expect(Object.getPrototypeOf(decoded.properties)).toBe(Object.prototype);
      }),
      { numRuns: 2_000 },
    );
  });

  it('round-trips the events the stream tests send', () => {
    for (const event of makeEvents(500, 'codec'))
      expect(decodeEvent(encodeEvent(event))).toStrictEqual(event);
  });

  it.each([
    ['not JSON', '{', 'payload'],
    ['invalid UTF-8', new Uint8Array([0x5b, 0xff, 0x5d]), 'payload'],
    ['an object', '{"eventId":"e"}', 'payload'],
    ['another version', '[2,"e","n","u",null,1,1,{},{},null]', 'version'],
    ['a missing field', '[1,"e","n","u",null,1,1,{},{}]', 'payload'],
    ['a numeric event id', '[1,7,"n","u",null,1,1,{},{},null]', 'eventId'],
    ['a string time', '[1,"e","n","u",null,"1",1,{},{},null]', 'timestamp'],
    ['a nested property', '[1,"e","n","u",null,1,1,{},{"a":{"b":1}},null]', 'properties.a'],
    ['an array context', '[1,"e","n","u",null,1,1,[],{},null]', 'context'],
    ['a numeric request id', '[1,"e","n","u",null,1,1,{},{},5]', 'requestId'],
  ])('rejects %s naming the field', (_what, payload, field) => {
    const data = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    expect(() => decodeEvent(data)).toThrow(EventDecodeError);
    try {
      decodeEvent(data);
    } catch (error) {
      expect((error as EventDecodeError).field).toBe(field);
      expect((error as EventDecodeError).message.startsWith(`${field}: `)).toBe(true);
    }
  });

  it('round-trips a batch of any events in order, and reads a one-event message of format 1 as a batch of one', () => {
    fc.assert(
      fc.property(fc.array(trackedEvent, { minLength: 1, maxLength: 20 }), (events) => {
        expect(decodeEvents(encodeEvents(events))).toStrictEqual(events);
        expect(decodeEvents(encodeEvent(events[0]!))).toStrictEqual([events[0]]);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['an unknown version', '[3,["e","n","u",null,1,1,{},{},null]]', 'version'],
    ['no events', '[2]', 'payload'],
    ['an event that is not an array', '[2,["e","n","u",null,1,1,{},{},null],{"eventId":"e"}]', 'events[1]'],
    ['an event missing a field', '[2,["e","n","u",null,1,1,{},{}]]', 'events[0]'],
    [
      'a bad field of the second event',
      '[2,["e","n","u",null,1,1,{},{},null],["f","n","u",null,"1",1,{},{},null]]',
      'events[1].timestamp',
    ],
  ])('rejects a batch with %s naming the field', (_what, payload, field) => {
    const data = new TextEncoder().encode(payload);
    expect(() => decodeEvents(data)).toThrow(expect.objectContaining({ field }));
  });
});
