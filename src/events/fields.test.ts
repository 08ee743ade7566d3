import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { FieldError, formatTime, parseIsoTime, readId, readScalarRecord, readTime } from './fields.js';

const T = Date.UTC(2026, 0, 12, 10, 22, 31);

describe('parseIsoTime', () => {
  it.each([
    ['2026-01-12T10:22:31Z', T],
    ['2026-01-12T10:22:31z', T],
    ['2026-01-12t10:22:31Z', T],
    ['2026-01-12 10:22:31Z', T],
    ['2026-01-12T10:22Z', T - 31_000],
    ['2026-01-12T10:22:31.123Z', T + 123],
    ['2026-01-12T10:22:31.1Z', T + 100],
    ['2026-01-12T10:22:31.123456789Z', T + 123],
    ['2026-01-12T12:22:31.123+02:00', T + 123],
    ['2026-01-12T12:22:31+0200', T],
    ['2026-01-12T12:22:31+02', T],
    ['2026-01-12T05:52:31-04:30', T],
    ['2026-01-12T10:22:31+00:00', T],
    ['2026-01-12T10:22:31-00:00', T],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ])('%s', (text, expected) => {
    expect(parseIsoTime(text)).toBe(expected);
  });

  it('refuses times without an offset, saying so', () => {
    expect(parseIsoTime('2026-01-12T10:22:31')).toMatch(/no UTC offset/);
    expect(parseIsoTime('2026-01-12T10:22:31.500')).toMatch(/no UTC offset/);
    expect(parseIsoTime('2026-01-12T10:22')).toMatch(/no UTC offset/);
  });

  it.each([
    '2026-01-12',
    '2026/01/12T10:22:31Z',
    '2026-01-12T10:22:31 Z',
    '2026-01-12T10:22:31.Z',
    '2026-01-12T10:22:31+2',
    '2026-01-12T10:22:31+02:0',
    '2026-01-12T10:22:31+02:00:00',
    '2026-1-12T10:22:31Z',
    'Mon, 12 Jan 2026 10:22:31 GMT',
    '1736677351000',
    '',
  ])('refuses the malformed %j', (text) => {
    expect(parseIsoTime(text)).toMatch(/must be an ISO 8601 time with an offset/);
  });

  it.each([
    '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-01-12T24:00:00Z',
    '2026-01-12T10:60:00Z',
    '2026-01-12T10:22:60Z',
    '2026-01-12T10:22:31+24:00',
  ])('refuses the impossible %s', (text) => {
    expect(parseIsoTime(text)).toMatch(/not a valid date and time/);
  });

  it('agrees with Date.parse on every time it formats (property)', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (date, offsetMinutes) => {
          const ms = date.getTime();
          // Write the same instant in a different offset, as a sender in another timezone would.
          const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
          const sign = offsetMinutes < 0 ? '-' : '+';
          const abs = Math.abs(offsetMinutes);
          const offset = `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
          expect(parseIsoTime(local + offset)).toBe(ms);
          expect(parseIsoTime(formatTime(ms))).toBe(ms);
        },
      ),
    );
  });
});

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

describe('readTime', () => {
  it('takes epoch milliseconds and drops fractions', () => {
    expect(readTime(T, 'timestamp')).toBe(T);
    expect(readTime(T + 0.9, 'timestamp')).toBe(T);
  });

  it('names epoch seconds as the likely mistake', () => {
    expect(readTime(T / 1000, 'timestamp')).toEqual(
      new FieldError('timestamp', 'timestamp looks like epoch seconds; send epoch milliseconds'),
    );
  });

  it('refuses times before 2000 and beyond what a Date holds', () => {
    expect(readTime('1999-12-31T23:59:59Z', 'created_at')).toEqual(
      new FieldError('created_at', 'created_at is before 2000-01-01T00:00:00Z'),
    );
    expect(readTime(0, 'timestamp')).toBeInstanceOf(FieldError);
    expect(readTime(9e15, 'timestamp')).toEqual(
      new FieldError('timestamp', 'timestamp is too far in the future'),
    );
  });

  it('refuses non-finite numbers and other types', () => {
    expect(readTime(Number.NaN, 't')).toEqual(new FieldError('t', 't must be a finite number'));
    expect(readTime(Number.POSITIVE_INFINITY, 't')).toEqual(new FieldError('t', 't must be a finite number'));
    expect(readTime(true, 't')).toBeInstanceOf(FieldError);
    expect(readTime({}, 't')).toBeInstanceOf(FieldError);
  });

  it('prefixes string problems with the field name', () => {
    const error = readTime('2026-01-12T10:22:31', 'timestamp');
    expect(error).toBeInstanceOf(FieldError);
    expect((error as FieldError).message).toMatch(/^timestamp has no UTC offset/);
  });
});

describe('readId', () => {
  it('keeps strings and turns safe integers into strings', () => {
    expect(readId('u-1', 'user_id')).toBe('u-1');
    expect(readId(42, 'user_id')).toBe('42');
    expect(readId(-7, 'user_id')).toBe('-7');
  });

  it.each([
    ['', 'user_id must not be empty'],
    ['   ', 'user_id must not be blank'],
    ['x'.repeat(257), 'user_id is longer than 256 characters'],
    [1.5, 'user_id must be a string or an integer'],
    [2 ** 60, 'user_id is an integer too large to be exact; send it as a string'],
    [true, 'user_id must be a string or an integer'],
    [['a'], 'user_id must be a string or an integer'],
  ])('refuses %j', (value, message) => {
    expect(readId(value, 'user_id')).toEqual(new FieldError('user_id', message));
  });

  it('accepts exactly the maximum length', () => {
    expect(readId('x'.repeat(256), 'user_id')).toBe('x'.repeat(256));
  });
});

describe('readScalarRecord', () => {
  it('returns the flat record itself, without copying', () => {
    const record = { a: 'x', b: 1, c: true, d: null };
    expect(readScalarRecord(record, 'context')).toBe(record);
  });

  it('names the nested key', () => {
    expect(readScalarRecord({ ok: 1, device: { os: 'ios' } }, 'context')).toMatchObject({
      field: 'context.device',
    });
    expect(readScalarRecord({ list: [1] }, 'properties')).toMatchObject({ field: 'properties.list' });
    expect(readScalarRecord({ n: Number.NaN }, 'traits')).toEqual(
      new FieldError('traits.n', 'traits.n must be a finite number'),
    );
  });

  it('refuses non-objects', () => {
    for (const value of ['x', 1, [], [{}], new Date(), new Map()]) {
      expect(readScalarRecord(value, 'context')).toMatchObject({ field: 'context' });
    }
  });
});
