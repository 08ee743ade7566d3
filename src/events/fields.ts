import type { EpochMs, ScalarRecord } from '../shared/types.js';

/**
 * Field readers shared by event, item and user validation: ids, names, times and flat records as they
 * arrive in JSON bodies. They are hand-written rather than schema-compiled because ingestion validates
 * tens of thousands of events a second; the success path allocates nothing beyond what it returns, and
 * a rejection is one small object.
 */

/** A rejected field: its path (`user_id`, `context.device`, `categories[2]`) and a message naming it. */
export class FieldError {
  readonly field: string;
  readonly message: string;
  constructor(field: string, message: string) {
    this.field = field;
    this.message = message;
  }
}

/** The earliest time Attune accepts: anything before is a unit mistake (seconds) or a default date. */
export const MIN_TIME: EpochMs = Date.UTC(2000, 0, 1);
/**
 * A number below MIN_TIME that, read as epoch seconds, falls in [2000, 2100) is almost surely seconds sent
 * where milliseconds belong (Unix `date +%s`, Python's `time.time()`), so the refusal says so. Beyond 2100 a
 * seconds reading is no likelier than any other mistake, and the message is the plain "before 2000" one.
 */
export const SECONDS_HINT_END: EpochMs = Date.UTC(2100, 0, 1);
/** The latest time a JavaScript Date can hold; later values could not be turned back into ISO text. */
export const MAX_TIME: EpochMs = 8.64e15;

/** The longest id (user, item, event) accepted. */
export const MAX_ID_LENGTH = 256;

/** An object as JSON.parse makes it: not null, not an array, not a class instance (Date, Map, …). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// String.prototype.isWellFormed is ES2024 and native on Node 20, but the compiler's lib is ES2023.
const nativeIsWellFormed = (String.prototype as unknown as { isWellFormed(this: string): boolean })
  .isWellFormed;

/**
 * False for a string holding a lone UTF-16 surrogate (JSON `"\ud800"`). Such a string has no UTF-8 form:
 * SQLite would store U+FFFD in its place, and whatever was keyed by it could never be found again.
 */
export function isWellFormed(value: string): boolean {
  return nativeIsWellFormed.call(value);
}

/** Why a string is refused when isWellFormed is false; completes a sentence that starts with the field. */
export const ILL_FORMED = 'is not well-formed Unicode: it holds a lone surrogate (such as "\\ud800")';

/** True for a string with no visible character. A regex test allocates nothing and stops at the first. */
function isBlank(value: string): boolean {
  return !/\S/.test(value);
}

/**
 * An id: a non-empty string, or an integer which becomes its decimal string (many shops use numeric
 * ids, and `42` and `"42"` must be the same user). Integers beyond 2^53 have already lost digits in
 * JSON.parse, so they are refused rather than silently stored as a different id.
 * Ids appear in URL paths (`/v1/items/:id`), so every id accepted must be addressable there: any
 * character may be percent-encoded, but `.` and `..` cannot be, since URL parsers (WHATWG, RFC 3986)
 * resolve those segments, `%2E%2E` included, before the request is sent.
 */
export function readId(
  value: unknown,
  field: string,
  maxLength: number = MAX_ID_LENGTH,
): string | FieldError {
  if (typeof value === 'string') {
    const text = readText(value, field, maxLength);
    if (text === '.' || text === '..') {
      return new FieldError(
        field,
        `${field} must not be "." or "..": URLs resolve those as path steps, so the id could not be read back`,
      );
    }
    return text;
  }
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return String(value);
    if (Number.isInteger(value)) {
      return new FieldError(field, `${field} is an integer too large to be exact; send it as a string`);
    }
  }
  return new FieldError(field, `${field} must be a string or an integer`);
}

/**
 * A non-empty, non-blank, well-formed string of at most `maxLength` UTF-16 code units, kept exactly as
 * given.
 */
export function readString(value: unknown, field: string, maxLength: number): string | FieldError {
  if (typeof value !== 'string') return new FieldError(field, `${field} must be a string`);
  return readText(value, field, maxLength);
}

function readText(value: string, field: string, maxLength: number): string | FieldError {
  if (value.length === 0) return new FieldError(field, `${field} must not be empty`);
  if (value.length > maxLength) {
    return new FieldError(field, `${field} is longer than ${maxLength} characters`);
  }
  if (isBlank(value)) return new FieldError(field, `${field} must not be blank`);
  if (!isWellFormed(value)) return new FieldError(field, `${field} ${ILL_FORMED}`);
  return value;
}

/**
 * A flat record (event context and properties, item attributes, user traits): an object whose values
 * are strings, finite numbers, booleans or null. Returned as is, not copied: after this check it is
 * exactly a ScalarRecord, and copying would cost an allocation per event.
 */
export function readScalarRecord(value: unknown, field: string): ScalarRecord | FieldError {
  if (!isPlainObject(value)) {
    return new FieldError(field, `${field} must be an object of flat values (string, number, boolean, null)`);
  }
  for (const key in value) {
    const v = value[key];
    if (isWellFormed(key) && isFlatValue(v)) continue;
    return recordError(field, key, v);
  }
  return value as ScalarRecord;
}

function isFlatValue(v: unknown): boolean {
  if (typeof v === 'string') return isWellFormed(v);
  if (typeof v === 'number') return Number.isFinite(v);
  return v === null || typeof v === 'boolean';
}

/** Why a record entry that failed isWellFormed/isFlatValue is refused. */
function recordError(field: string, key: string, v: unknown): FieldError {
  const path = `${field}.${key}`;
  if (!isWellFormed(key)) return new FieldError(path, `${field} has a key that ${ILL_FORMED}`);
  if (typeof v === 'string') return new FieldError(path, `${path} ${ILL_FORMED}`);
  if (typeof v === 'number') return new FieldError(path, `${path} must be a finite number`);
  return new FieldError(
    path,
    `${path} must be a string, number, boolean or null; nested objects and arrays are not allowed`,
  );
}

const TIME_FORMAT_HINT = 'an ISO 8601 time with an offset (e.g. 2026-01-12T10:22:31Z) or epoch milliseconds';

/**
 * A time: ISO 8601 text that carries its offset (`Z`, `+02:00`, `+0200` or `+02`), or epoch
 * milliseconds as a number. Text without an offset is refused: whether it meant UTC or the sender's
 * local time cannot be known, and a guess shifts events by hours. Fractional milliseconds are dropped.
 */
export function readTime(value: unknown, field: string): EpochMs | FieldError {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return new FieldError(field, `${field} must be a finite number`);
    ms = Math.trunc(value);
    // Seconds since the epoch are the usual mistake; say so, and what to send, instead of only "too early".
    const asSeconds = ms * 1000;
    if (ms < MIN_TIME && asSeconds >= MIN_TIME && asSeconds < SECONDS_HINT_END) {
      return new FieldError(
        field,
        `${field} ${ms} looks like epoch seconds (${formatTime(asSeconds)}), but numbers are read as epoch ` +
          `milliseconds (${formatTime(ms)}); send milliseconds (${asSeconds}) or ISO 8601 text`,
      );
    }
  } else if (typeof value === 'string') {
    const parsed = parseIsoTime(value);
    if (typeof parsed === 'string') return new FieldError(field, `${field} ${parsed}`);
    ms = parsed;
  } else {
    return new FieldError(field, `${field} must be ${TIME_FORMAT_HINT}`);
  }
  if (ms < MIN_TIME) {
    // A Date cannot hold times before -MAX_TIME, so those are not echoed back.
    const when = ms >= -MAX_TIME ? ` (${formatTime(ms)})` : '';
    return new FieldError(
      field,
      `${field} is before 2000-01-01${when}: times before 2000-01-01 are not accepted`,
    );
  }
  if (ms > MAX_TIME) return new FieldError(field, `${field} is too far in the future`);
  return ms;
}

/** An epoch-millisecond time as ISO 8601 UTC text, the one form times take in responses. */
export function formatTime(ms: EpochMs): string {
  return new Date(ms).toISOString();
}

// Reasons parseIsoTime gives; each completes a sentence that starts with the field name.
const BAD_FORMAT = `must be ${TIME_FORMAT_HINT}`;
const NO_OFFSET = 'has no UTC offset; end it with Z or ±hh:mm (e.g. 2026-01-12T10:22:31Z)';
const OUT_OF_RANGE = 'is not a valid date and time';

const DASH = 45;
const COLON = 58;
const DOT = 46;
const PLUS = 43;

/**
 * Parses `YYYY-MM-DDTHH:MM[:SS[.fff…]]` followed by `Z` or `±hh[[:]mm]` into epoch ms, or returns why
 * not. Hand-written so that a malformed or offset-less time gets a precise reason, and because
 * Date.parse accepts many forms (offset-less local times, RFC 2822, …) that this API must refuse.
 */
export function parseIsoTime(s: string): EpochMs | string {
  const n = s.length;
  if (n < 16 || n > 64) return BAD_FORMAT;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const t = s.charCodeAt(10);
  if (
    year < 0 ||
    month < 0 ||
    day < 0 ||
    hour < 0 ||
    minute < 0 ||
    s.charCodeAt(4) !== DASH ||
    s.charCodeAt(7) !== DASH ||
    s.charCodeAt(13) !== COLON ||
    (t !== 84 /* T */ && t !== 116 /* t */ && t !== 32) /* space, as RFC 3339 allows */
  ) {
    return BAD_FORMAT;
  }
  let i = 16;
  let second = 0;
  let millis = 0;
  if (i < n && s.charCodeAt(i) === COLON) {
    second = digits(s, i + 1, 2);
    if (second < 0) return BAD_FORMAT;
    i += 3;
    if (i < n && s.charCodeAt(i) === DOT) {
      i++;
      const start = i;
      // Only milliseconds are kept; further digits (micro-, nanoseconds) are read and dropped.
      let scale = 100;
      while (i < n && isDigit(s.charCodeAt(i))) {
        millis += (s.charCodeAt(i) - 48) * scale;
        scale /= 10;
        i++;
      }
      if (i === start) return BAD_FORMAT;
      millis = Math.trunc(millis);
    }
  }
  if (i === n) return NO_OFFSET;
  let offsetMinutes = 0;
  const c = s.charCodeAt(i);
  if (c === 90 /* Z */ || c === 122 /* z */) {
    i++;
  } else if (c === PLUS || c === DASH) {
    const oh = digits(s, i + 1, 2);
    if (oh < 0) return BAD_FORMAT;
    i += 3;
    let om = 0;
    if (i < n) {
      if (s.charCodeAt(i) === COLON) i++;
      om = digits(s, i, 2);
      if (om < 0) return BAD_FORMAT;
      i += 2;
    }
    if (oh > 23 || om > 59) return OUT_OF_RANGE;
    offsetMinutes = (c === PLUS ? 1 : -1) * (oh * 60 + om);
  } else {
    return BAD_FORMAT;
  }
  if (i !== n) return BAD_FORMAT;
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return OUT_OF_RANGE;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** The decimal number in `s[start, start+count)`, or -1 if any of those characters is not a digit. */
function digits(s: string, start: number, count: number): number {
  if (start + count > s.length) return -1;
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const code = s.charCodeAt(i);
    if (!isDigit(code)) return -1;
    value = value * 10 + (code - 48);
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
