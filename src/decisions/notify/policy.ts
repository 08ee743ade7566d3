import { hourOfWeek } from './hours.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/**
 * The longest fatigue wait. Doubling without end passes the latest time a Date holds after about 30 ignored
 * notifications (and the reply could not say until when); a century is "not again" for a notification.
 */
const MAX_FATIGUE_WAIT_MS = 100 * 365 * DAY_MS;

export interface SendPolicy {
  /** At most this many `notification_sent` in the last 24 hours. */
  readonly maxPerDay: number;
  /** At most this many `notification_sent` in the last 7 days. */
  readonly maxPerWeek: number;
  /** Local hour quiet time starts (inclusive) and ends (exclusive); start > end wraps midnight. */
  readonly quietStart: number;
  readonly quietEnd: number;
  /** Consecutive ignored notifications that start the back-off. */
  readonly fatigueAfter: number;
  /** A notification neither opened nor dismissed this long after it was sent counts as ignored. */
  readonly ignoredAfterMs: number;
}

export const DEFAULT_SEND_POLICY: SendPolicy = {
  maxPerDay: 2,
  maxPerWeek: 7,
  quietStart: 22,
  quietEnd: 8,
  fatigueAfter: 3,
  ignoredAfterMs: DAY_MS,
};

export type SendReason = 'ok' | 'quiet_hours' | 'daily_cap' | 'weekly_cap' | 'fatigue';

export interface SendDecision {
  readonly send: boolean;
  readonly reason: SendReason;
  /** The rule in words, with the numbers that decided it. */
  readonly message: string;
  /** Consecutive ignored notifications since the last open. */
  readonly ignoredStreak: number;
}

/** The events the policy reads: name and time, any order. */
export interface NotificationEvent {
  readonly name: string;
  readonly timestamp: number;
}

export function isQuietHour(localHour: number, policy: Pick<SendPolicy, 'quietStart' | 'quietEnd'>): boolean {
  const { quietStart: start, quietEnd: end } = policy;
  if (start === end) return false;
  return start < end ? localHour >= start && localHour < end : localHour >= start || localHour < end;
}

/**
 * The fatigue rule. Walking the notifications oldest first, each `notification_sent` is answered by the
 * first `notification_opened` or `notification_dismissed` after it (before the next send). An open resets
 * the streak to 0; a dismissal adds 1; a send with no answer adds 1 once it is `ignoredAfterMs` old (or
 * once the next send came), so a notification just sent is not yet held against the user.
 */
export function ignoredStreak(events: readonly NotificationEvent[], now: number, policy: SendPolicy): number {
  const ordered = events
    .filter((e) => e.timestamp <= now && e.name.startsWith('notification_'))
    .sort((a, b) => a.timestamp - b.timestamp);
  let streak = 0;
  let pendingSince: number | null = null;
  for (const event of ordered) {
    if (event.name === 'notification_sent') {
      if (pendingSince !== null) streak++;
      pendingSince = event.timestamp;
    } else if (event.name === 'notification_opened') {
      streak = 0;
      pendingSince = null;
    } else if (event.name === 'notification_dismissed' && pendingSince !== null) {
      streak++;
      pendingSince = null;
    }
  }
  if (pendingSince !== null && now - pendingSince >= policy.ignoredAfterMs) streak++;
  return streak;
}

/**
 * Whether to send a notification now. In order, the first rule that says no names the reason:
 * 1. quiet hours, in the user's local time (`offsetMinutes` from UTC);
 * 2. the daily cap, then the weekly cap, on `notification_sent` in the last 24 h / 7 days;
 * 3. fatigue: with `s` ≥ `fatigueAfter` consecutive ignored notifications (see `ignoredStreak`), wait
 *    `24 h × 2^(s − fatigueAfter)` after the last send (1 day, 2, 4, …, at most a century): willingness
 *    halves with each further ignored one, and one open restores it.
 */
export function shouldSendNow(
  events: readonly NotificationEvent[],
  now: number,
  offsetMinutes: number,
  policy: SendPolicy = DEFAULT_SEND_POLICY,
): SendDecision {
  const streak = ignoredStreak(events, now, policy);
  const localHour = hourOfWeek(now, offsetMinutes) % 24;
  if (isQuietHour(localHour, policy)) {
    return {
      send: false,
      reason: 'quiet_hours',
      message: `${localHour}:00 local is within quiet hours ${policy.quietStart}:00–${policy.quietEnd}:00`,
      ignoredStreak: streak,
    };
  }
  let day = 0;
  let week = 0;
  let lastSent = Number.NEGATIVE_INFINITY;
  for (const event of events) {
    if (event.name !== 'notification_sent' || event.timestamp > now) continue;
    const age = now - event.timestamp;
    if (age < DAY_MS) day++;
    if (age < 7 * DAY_MS) week++;
    lastSent = Math.max(lastSent, event.timestamp);
  }
  if (day >= policy.maxPerDay) {
    return {
      send: false,
      reason: 'daily_cap',
      message: `${day} notifications sent in the last 24 hours (cap ${policy.maxPerDay})`,
      ignoredStreak: streak,
    };
  }
  if (week >= policy.maxPerWeek) {
    return {
      send: false,
      reason: 'weekly_cap',
      message: `${week} notifications sent in the last 7 days (cap ${policy.maxPerWeek})`,
      ignoredStreak: streak,
    };
  }
  if (streak >= policy.fatigueAfter) {
    const waitMs = Math.min(DAY_MS * 2 ** (streak - policy.fatigueAfter), MAX_FATIGUE_WAIT_MS);
    if (now - lastSent < waitMs) {
      return {
        send: false,
        reason: 'fatigue',
        message: `the last ${streak} notifications were dismissed or not opened: waiting ${waitMs / HOUR_MS} hours after the last one, until ${new Date(lastSent + waitMs).toISOString()}`,
        ignoredStreak: streak,
      };
    }
  }
  return {
    send: true,
    reason: 'ok',
    message: 'no cap, quiet hour or fatigue rule applies',
    ignoredStreak: streak,
  };
}
