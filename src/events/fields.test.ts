import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  FieldError,
  formatTime,
  isWellFormed,
  MIN_TIME,
  parseIsoTime,
  readId,
  readScalarRecord,
  readString,
  readTime,
  SECONDS_HINT_END,
} from './fields.js';

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

  it('names epoch seconds as the likely mistake, and says what to send instead', () => {
    expect(readTime(1_700_000_000, 'timestamp')).toEqual(
      new FieldError(
        'timestamp',
        'timestamp 1700000000 looks like epoch seconds (2023-11-14T22:13:20.000Z), but numbers are read as ' +
          'epoch milliseconds (1970-01-20T16:13:20.000Z); send milliseconds (1700000000000) or ISO 8601 text',
      ),
    );
    // Python's time.time() sends a fraction; it is the same mistake.
    expect(errorOf(readTime(1_700_000_000.25, 'timestamp'))).toMatch(/looks like epoch seconds/);
  });

  it('refuses times before 2000 with a message that says so', () => {
    expect(readTime('1999-12-31T23:59:59Z', 'created_at')).toEqual(
      new FieldError(
        'created_at',
        'created_at is before 2000-01-01 (1999-12-31T23:59:59.000Z): times before 2000-01-01 are not accepted',
      ),
    );
    // An offset that puts local midnight of 2000-01-01 into 1999 UTC is before the limit too.
    expect(errorOf(readTime('2000-01-01T00:30:00+01:00', 'timestamp'))).toMatch(/not accepted/);
    for (const ms of [0, 12, -1, 500_000_000_000, MIN_TIME - 1, -8.64e15, -1e17]) {
      expect(errorOf(readTime(ms, 'timestamp')), String(ms)).toMatch(
        /^timestamp is before 2000-01-01( \(.*\))?: times before 2000-01-01 are not accepted$/,
      );
    }
    expect(readTime(9e15, 'timestamp')).toEqual(
      new FieldError('timestamp', 'timestamp is too far in the future'),
    );
  });

  it('accepts 2000-01-01T00:00:00Z exactly, as text and as milliseconds', () => {
    expect(readTime(MIN_TIME, 'timestamp')).toBe(MIN_TIME);
    expect(readTime('2000-01-01T00:00:00Z', 'timestamp')).toBe(MIN_TIME);
    expect(readTime('2000-01-01T01:00:00+01:00', 'timestamp')).toBe(MIN_TIME);
    expect(errorOf(readTime('1999-12-31T23:59:59.999Z', 'timestamp'))).toMatch(/before 2000-01-01/);
  });

  it('gives the seconds message exactly for numbers that are times in [2000, 2100) read as seconds', () => {
    const seconds = (ms: number) => errorOf(readTime(ms, 'timestamp'));
    expect(seconds(MIN_TIME / 1000)).toMatch(/looks like epoch seconds \(2000-01-01T00:00:00.000Z\)/);
    expect(seconds(MIN_TIME / 1000 - 1)).toMatch(/times before 2000-01-01 are not accepted/);
    expect(seconds(SECONDS_HINT_END / 1000 - 1)).toMatch(/looks like epoch seconds \(2099-12-31T23:59:59/);
    expect(seconds(SECONDS_HINT_END / 1000)).toMatch(/times before 2000-01-01 are not accepted/);
    fc.assert(
      fc.property(fc.integer({ min: -1e15, max: MIN_TIME - 1 }), (ms) => {
        const plausibleSeconds = ms * 1000 >= MIN_TIME && ms * 1000 < SECONDS_HINT_END;
        expect(seconds(ms)).toMatch(
          plausibleSeconds ? /looks like epoch seconds/ : /times before 2000-01-01 are not accepted/,
        );
      }),
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

function errorOf(result: unknown): string {
  expect(result).toBeInstanceOf(FieldError);
  return (result as FieldError).message;
}

describe('isWellFormed', () => {
  it('is false exactly for strings with a lone surrogate', () => {
    expect(isWellFormed('plain')).toBe(true);
    expect(isWellFormed('\u00e9\u4e2d\ud83d\ude00')).toBe(true);
    expect(isWellFormed('\ud800')).toBe(false);
    expect(isWellFormed('a\udc00b')).toBe(false);
    expect(isWellFormed('\ude00\ud83d')).toBe(false);
    // A string survives a UTF-8 round trip exactly when it is well-formed.
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii' }), fc.string({ unit: 'binary' }), (a, b) => {
        for (const s of [a, b, a + b]) {
          expect(isWellFormed(s)).toBe(Buffer.from(s, 'utf8').toString('utf8') === s);
        }
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
        (s) => {
          expect(isWellFormed(s)).toBe(Buffer.from(s, 'utf8').toString('utf8') === s);
        },
      ),
    );
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

  it('refuses lone surrogates, naming the field', () => {
    for (const id of ['\ud800', 'u-\udfff', '\ud83d']) {
      expect(readId(id, 'user_id')).toEqual(
        new FieldError(
          'user_id',
          'user_id is not well-formed Unicode: it holds a lone surrogate (such as "\\ud800")',
        ),
      );
    }
    expect(readId('u-\ud83d\ude00', 'user_id')).toBe('u-\ud83d\ude00');
  });

  it('refuses "." and "..", which no URL can carry as a path segment, and keeps other dots', () => {
    for (const id of ['.', '..']) {
      expect(errorOf(readId(id, 'item_id'))).toMatch(/^item_id must not be "\." or "\.\."/);
    }
    for (const id of ['...', '.a', 'a..', ' ..']) expect(readId(id, 'item_id')).toBe(id);
  });

  it('keeps reserved URL characters, spaces and non-ASCII as given', () => {
    const id = ' a/b?c#d%e+f&g=h;i\\j \u00e9\u4e2d\ud83d\ude00 ';
    expect(readId(id, 'user_id')).toBe(id);
  });
});

describe('readString', () => {
  it('refuses lone surrogates (event names, labels)', () => {
    expect(errorOf(readString('viewed\ud800', 'event', 200))).toMatch(/^event is not well-formed Unicode/);
    expect(readString('viewed \u00e9', 'event', 200)).toBe('viewed \u00e9');
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

  it('refuses lone surrogates in values and in keys, naming the entry', () => {
    expect(readScalarRecord({ ok: 'x', device: 'a\ud800' }, 'context')).toEqual(
      new FieldError(
        'context.device',
        'context.device is not well-formed Unicode: it holds a lone surrogate (such as "\\ud800")',
      ),
    );
    const badKey = readScalarRecord({ ok: 1, ['k\udc00']: true }, 'properties');
    expect(badKey).toMatchObject({ field: 'properties.k\udc00' });
    expect(errorOf(badKey)).toMatch(/^properties has a key that is not well-formed Unicode/);
    // Keys are checked whatever their value, null included.
    expect(readScalarRecord({ ['\ud800']: null }, 'traits')).toBeInstanceOf(FieldError);
    const good = { ['\u00e9']: '\ud83d\ude00', n: 1, b: false, z: null };
    expect(readScalarRecord(good, 'traits')).toBe(good);
  });

  it('refuses non-objects', () => {
    for (const value of ['x', 1, [], [{}], new Date(), new Map()]) {
      expect(readScalarRecord(value, 'context')).toMatchObject({ field: 'context' });
    }
  });
});
