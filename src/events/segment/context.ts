import type { Scalar, ScalarRecord } from '../../shared/types.js';
import { FieldError, isPlainObject } from '../fields.js';
import { flattenRecord } from './flatten.js';

/**
 * A Segment `context` as an Attune event context. Attune's own context names come first, derived from
 * Segment's: `device` (mobile | tablet | desktop, what the default `device` features count), `location` (the
 * country), `locale`, `timezone`, `session_id` (what sessions and `distinct_sessions` read). The rest is
 * kept flattened (`page.path`, `campaign.source`, `os.name`, …) and then goes through the personal-data
 * rules like any event context: `ip` is among them, so it is removed there and never stored.
 *
 * Left out on purpose: `traits` (the user's profile, which `identify` stores; events are not the place for
 * an e-mail address), `library` (which SDK sent it: the same on every event, and no fact about the user),
 * the user agent (read only to derive `device`; the full string mostly fingerprints), and device identifiers
 * (`device.id`, `device.advertisingId`, `device.token`), which identify a person across apps.
 */
export function mapContext(
  messageContext: unknown,
  batchContext: Readonly<Record<string, unknown>> | null,
): ScalarRecord | FieldError {
  if (messageContext != null && !isPlainObject(messageContext)) {
    return new FieldError('context', 'context must be an object');
  }
  const given = messageContext == null ? {} : messageContext;
  // The batch's context applies to each message; a message's own fields win.
  const merged: Record<string, unknown> =
    batchContext === null ? { ...given } : { ...batchContext, ...given };
  const userAgent = merged['userAgent'];
  const device = merged['device'];
  const location = merged['location'];
  const sessionId = merged['sessionId'] ?? merged['session_id'];
  for (const key of DROPPED) delete merged[key];
  if (isPlainObject(device)) {
    const kept: Record<string, unknown> = { ...device };
    for (const key of DEVICE_IDS) delete kept[key];
    delete kept['type'];
    merged['device'] = kept;
  }
  const flat = flattenRecord(merged, 'context');
  if (flat instanceof FieldError) return flat;
  const out: Record<string, Scalar> = { ...flat };
  const kind = deviceKind(isPlainObject(device) ? device['type'] : device, userAgent);
  if (kind !== null) out['device'] = kind;
  if (isPlainObject(location) && typeof location['country'] === 'string' && location['country'] !== '') {
    out['location'] = location['country'];
  }
  if (typeof sessionId === 'string' && sessionId !== '') out['session_id'] = sessionId;
  else if (typeof sessionId === 'number' && Number.isFinite(sessionId)) out['session_id'] = String(sessionId);
  delete out['sessionId'];
  return out;
}

const DROPPED = ['traits', 'library', 'userAgent', 'userAgentData', 'sessionId'];
const DEVICE_IDS = ['id', 'advertisingId', 'adTrackingEnabled', 'token'];

const MOBILE_TYPES = new Set(['mobile', 'phone', 'ios', 'android', 'iphone', 'smartphone']);
const TABLET_TYPES = new Set(['tablet', 'ipad']);
const DESKTOP_TYPES = new Set(['desktop', 'computer', 'pc', 'mac', 'macos', 'windows', 'linux']);

/**
 * mobile | tablet | desktop from Segment's `device.type` (mobile SDKs send `ios`/`android`), else from the
 * browser's user agent; null when neither says. A type Attune does not know is kept as sent, in lower case.
 */
export function deviceKind(type: unknown, userAgent: unknown): string | null {
  if (typeof type === 'string' && type.trim() !== '') {
    const key = type.trim().toLowerCase();
    if (MOBILE_TYPES.has(key)) return 'mobile';
    if (TABLET_TYPES.has(key)) return 'tablet';
    if (DESKTOP_TYPES.has(key)) return 'desktop';
    return key;
  }
  if (typeof userAgent !== 'string' || userAgent === '') return null;
  if (/iPad|Tablet|PlayBook|Silk|Android(?!.*Mobile)/i.test(userAgent)) return 'tablet';
  if (/Mobi|iPhone|iPod|Android|Windows Phone/i.test(userAgent)) return 'mobile';
  return 'desktop';
}
