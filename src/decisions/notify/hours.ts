/**
 * The 168 hours of a week as bins: hour-of-week 0 is Monday 00:00–01:00, 167 is Sunday 23:00–24:00. The
 * model keeps its bins in UTC; a reply shifts them by the user's offset from UTC, so that one population
 * serves users in every zone.
 */
export const HOURS_PER_WEEK = 168;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const DAY_NAMES = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;
export type DayName = (typeof DAY_NAMES)[number];

/** 1970-01-01 was a Thursday: day 3 of a Monday-first week. */
const EPOCH_WEEKDAY = 3;

const mod = (value: number, by: number): number => ((value % by) + by) % by;

/** The hour-of-week an instant falls in, at `offsetMinutes` from UTC (0: UTC). */
export function hourOfWeek(timestamp: number, offsetMinutes = 0): number {
  const local = timestamp + offsetMinutes * 60_000;
  const day = mod(Math.floor(local / DAY_MS) + EPOCH_WEEKDAY, 7);
  const hour = mod(Math.floor(local / HOUR_MS), 24);
  return day * 24 + hour;
}

/** The hour since the epoch an instant falls in: the unit one "active hour" of a user is counted in. */
export function absoluteHour(timestamp: number): number {
  return Math.floor(timestamp / HOUR_MS);
}

/**
 * A UTC bin seen from `offsetMinutes`: the local hour-of-week its start falls in. For zones off by a
 * whole number of hours this is exact; for a half-hour zone (+05:30) the UTC bin 10:00–11:00 starts at
 * 15:30 local and is reported as local hour 15.
 */
export function localHourOfWeek(utcHourOfWeek: number, offsetMinutes: number): number {
  return mod(utcHourOfWeek + Math.floor(offsetMinutes / 60), HOURS_PER_WEEK);
}

export function describeHour(hourOfWeekValue: number): { day: DayName; hour: number } {
  return { day: DAY_NAMES[Math.floor(hourOfWeekValue / 24)]!, hour: hourOfWeekValue % 24 };
}

/** A zone name Intl does not know. */
export class UnknownTimeZoneError extends RangeError {
  constructor(readonly zone: string) {
    super(`unknown time zone "${zone}": expected an IANA name such as "Europe/Paris"`);
    this.name = 'UnknownTimeZoneError';
  }
}

const longOffset = /^GMT(?:([+-])(\d{1,2})(?::(\d{2}))?)?$/;

/**
 * The offset from UTC, in minutes, of an IANA zone at an instant (daylight saving included, so it is the
 * offset of that instant, not of the whole week: the bins of a reply are shifted by today's offset).
 */
export function zoneOffsetMinutes(zone: string, at: number): number {
  let name: string | undefined;
  try {
    name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(at)
      .find((part) => part.type === 'timeZoneName')?.value;
  } catch {
    throw new UnknownTimeZoneError(zone);
  }
  const match = name === undefined ? null : longOffset.exec(name);
  if (match === null) throw new UnknownTimeZoneError(zone);
  if (match[1] === undefined) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  return match[1] === '-' ? -minutes : minutes;
}
