import type { ScalarRecord, Scalar } from '../shared/types.js';

/**
 * Data minimization for what clients send beside an event: fields that look like personal data are not
 * stored. An IP address never is; an e-mail address or a phone number is dropped unless its field is on the
 * allowlist (`ATTUNE_CONTEXT_ALLOW`); exact coordinates are coarsened to one decimal (about 11 km, a town)
 * unless allowed. Recognised by the field's name and by the value's shape, so `{"contact": "a@b.example"}`
 * is caught as surely as `{"email": …}`.
 */
export type RedactionReason = 'ip_address' | 'email' | 'phone' | 'coordinates';

export interface Redaction {
  /** `context.email`, `properties.lat`, `traits.phone`. */
  readonly field: string;
  readonly action: 'removed' | 'coarsened';
  readonly reason: RedactionReason;
}

export interface PersonalDataPolicy {
  /**
   * Fields kept as sent though they look personal, by name (`email`) or path (`context.email`). IP addresses
   * are never kept, whatever this says.
   */
  readonly allow: ReadonlySet<string>;
}

export const DEFAULT_PERSONAL_DATA_POLICY: PersonalDataPolicy = { allow: new Set() };

/** Names compared without case, `_`, `-` or spaces: `IP_Address` is `ipaddress`. */
const normalNames = new Map<string, string>();
function normal(name: string): string {
  let key = normalNames.get(name);
  if (key === undefined) {
    key = name.toLowerCase().replace(/[^a-z0-9]/g, '');
    // Field names repeat from event to event; a flood of distinct ones must not grow this without bound.
    if (normalNames.size >= 4096) normalNames.clear();
    normalNames.set(name, key);
  }
  return key;
}

const IP_NAMES = new Set([
  'ip',
  'ipaddress',
  'clientip',
  'remoteip',
  'remoteaddr',
  'xforwardedfor',
  'forwardedfor',
]);
const PHONE_NAMES = new Set(['phone', 'phonenumber', 'mobile', 'mobilenumber', 'tel', 'telephone', 'msisdn']);
const LATITUDE_NAMES = new Set(['lat', 'latitude']);
const LONGITUDE_NAMES = new Set(['lon', 'lng', 'long', 'longitude']);

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
// Hex groups with colons, at least two colons (`::1`, `2001:db8::7`); a time like `12:30` has one.
const IPV6 = /^(?=.*:.*:)[0-9a-f:]+(%\w+)?$/i;
// An international number: `+` and 8 to 15 digits, with spaces, dots, dashes or brackets between.
const PHONE = /^\+(?:[\s().-]*\d){8,15}[\s().-]*$/;
// "48.85661, 2.35222": two decimals with three or more places, within latitude and longitude ranges.
const COORDINATES = /^\s*(-?\d{1,2}\.\d{3,})\s*[,;]\s*(-?\d{1,3}\.\d{3,})\s*$/;

const coarse = (x: number): number => Math.round(x * 10) / 10;

/** Why a field's value would be removed or coarsened, or null when it may be stored as sent. */
function classify(name: string, value: Scalar): RedactionReason | null {
  const key = normal(name);
  if (IP_NAMES.has(key)) return 'ip_address';
  if (typeof value === 'string') {
    // Each pattern is tried only when the text has its telltale character: this runs on every field of
    // every event ingested.
    const dot = value.includes('.');
    const colon = value.includes(':');
    const text = dot || colon || value.includes('@') || value.includes('+') ? value.trim() : value;
    if ((dot && IPV4.test(text)) || (colon && IPV6.test(text))) return 'ip_address';
    if (key.includes('email') || (value.includes('@') && EMAIL.test(text))) return 'email';
    if (PHONE_NAMES.has(key) || (text.startsWith('+') && PHONE.test(text))) return 'phone';
    if (dot && value.includes(',') && COORDINATES.test(text)) return 'coordinates';
    if (dot && value.includes(';') && COORDINATES.test(text)) return 'coordinates';
    return null;
  }
  if (key.includes('email')) return 'email';
  if (PHONE_NAMES.has(key)) return 'phone';
  if (typeof value === 'number' && (LATITUDE_NAMES.has(key) || LONGITUDE_NAMES.has(key)))
    return 'coordinates';
  return null;
}

/** The coarsened value of a coordinates field (always a change: the value had more than one decimal or not). */
function coarsened(value: Scalar): Scalar {
  if (typeof value === 'number') return coarse(value);
  const match = COORDINATES.exec(String(value))!;
  return `${coarse(Number(match[1]))},${coarse(Number(match[2]))}`;
}

/**
 * The record as it may be stored, and what was removed or coarsened (none: the same record object back,
 * so the common case allocates nothing).
 */
export function redactPersonalData(
  record: ScalarRecord,
  prefix: 'context' | 'properties' | 'traits',
  policy: PersonalDataPolicy,
): { readonly record: ScalarRecord; readonly redactions: readonly Redaction[] } {
  let out: Record<string, Scalar> | null = null;
  const redactions: Redaction[] = [];
  for (const name in record) {
    const value = record[name]!;
    const reason = classify(name, value);
    if (reason === null) continue;
    const field = `${prefix}.${name}`;
    if (reason !== 'ip_address' && (policy.allow.has(name) || policy.allow.has(field))) continue;
    out ??= { ...record };
    if (reason === 'coordinates') {
      out[name] = coarsened(value);
      redactions.push({ field, action: 'coarsened', reason });
    } else {
      delete out[name];
      redactions.push({ field, action: 'removed', reason });
    }
  }
  return out === null ? { record, redactions } : { record: out, redactions };
}
