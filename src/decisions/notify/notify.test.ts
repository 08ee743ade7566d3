import { describe, expect, it } from 'vitest';
import { describeHour, hourOfWeek, localHourOfWeek, zoneOffsetMinutes } from './hours.js';
import {
  bestHours,
  DEFAULT_HOUR_PARAMS,
  hourCounts,
  poolDays,
  posteriorShares,
  smoothCircular,
} from './model.js';
import { chooseParameters, evaluateTiming, splitUser } from './evaluate.js';
import { DEFAULT_SEND_POLICY, ignoredStreak, shouldSendNow } from './policy.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Monday 2024-01-01 00:00 UTC. */
const MONDAY = Date.UTC(2024, 0, 1);

describe('hours', () => {
  it('bins Monday 00h as 0 and Sunday 23h as 167, shifted by an offset', () => {
    expect(hourOfWeek(MONDAY)).toBe(0);
    expect(hourOfWeek(MONDAY + 6 * DAY + 23 * HOUR + 59_000)).toBe(167);
    expect(hourOfWeek(MONDAY, -60)).toBe(167);
    expect(localHourOfWeek(167, 120)).toBe(1);
    expect(localHourOfWeek(10, 330)).toBe(15);
    expect(describeHour(49)).toEqual({ day: 'wednesday', hour: 1 });
  });

  it('reads an IANA zone’s offset at an instant, daylight saving included', () => {
    expect(zoneOffsetMinutes('Europe/Paris', Date.UTC(2024, 0, 15))).toBe(60);
    expect(zoneOffsetMinutes('Europe/Paris', Date.UTC(2024, 6, 15))).toBe(120);
    expect(zoneOffsetMinutes('Asia/Kolkata', MONDAY)).toBe(330);
    expect(zoneOffsetMinutes('UTC', MONDAY)).toBe(0);
    expect(() => zoneOffsetMinutes('Mars/Olympus', MONDAY)).toThrow(/unknown time zone/);
  });
});

describe('model', () => {
  it('smooths around the week’s circle, keeping the total', () => {
    const counts = new Float64Array(168);
    counts[0] = 4;
    const out = smoothCircular(counts, 0.5);
    expect(out[0]).toBe(2);
    expect(out[1]).toBe(1);
    expect(out[167]).toBe(1);
    expect(out.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('pools a bin over the same hour of all seven days', () => {
    const counts = new Float64Array(168);
    counts[21] = 7;
    const out = poolDays(counts, 0.5);
    expect(out[21]).toBeCloseTo(3.5 + 0.5, 12);
    expect(out[24 + 21]).toBeCloseTo(0.5, 12);
    expect(out[22]).toBe(0);
  });

  it('shrinks a thin history toward the population: (c + α p) / (n + α)', () => {
    const user = new Float64Array(168);
    user[5] = 3;
    user[6] = 1;
    const prior = new Float64Array(168).fill(1 / 168);
    prior[100] = 0;
    prior[101] = 2 / 168; // still sums to 1
    const shares = posteriorShares(user, prior, 4, { smoothing: 0, dayPooling: 0 });
    expect(shares[5]).toBeCloseTo((3 + 4 / 168) / 8, 12);
    expect(shares[6]).toBeCloseTo((1 + 4 / 168) / 8, 12);
    expect(shares[101]).toBeCloseTo(8 / 168 / 8, 12);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // With no history the posterior is the prior; with a strong prior the population's hour wins.
    expect(
      posteriorShares(new Float64Array(168), prior, 4, { smoothing: 0, dayPooling: 0 })[101],
    ).toBeCloseTo(2 / 168, 12);
    const strong = posteriorShares(user, prior, 1e6, { smoothing: 0, dayPooling: 0 });
    expect(bestHours(strong, 1)[0]!.hourOfWeek).toBe(101);
    expect(bestHours(shares, 2).map((h) => h.hourOfWeek)).toEqual([5, 6]);
  });

  it('weights active hours by recency with the half-life', () => {
    const counts = hourCounts([MONDAY, MONDAY + 7 * DAY + HOUR], 7, MONDAY + 7 * DAY + HOUR);
    expect(counts[1]).toBeCloseTo(1, 12);
    expect(counts[0]).toBeCloseTo(0.5 * 2 ** (-1 / 168), 12);
  });
});

describe('evaluation protocol', () => {
  it('splits at the last event − 7 days: history before, next activity the first at or after', () => {
    const ts = Float64Array.from([0, DAY, 10 * DAY, 12 * DAY, 16 * DAY]);
    const split = splitUser(ts)!;
    expect([...split.history]).toEqual([0, DAY]);
    expect(split.next).toBe(10 * DAY);
  });

  it('judges users with a history against their own top 3 and the population’s', () => {
    const at = (week: number, how: number) => MONDAY + week * 7 * DAY + how * HOUR;
    // Histories end before each user's last event − 7 days: "d" keeps three hours at 40, "b" and "c" two
    // at 20 and 30, so the population's top 3 are 40, 20, 30; "a" lives at hour 100.
    const users = [
      Float64Array.from([at(0, 100), at(1, 100), at(3, 100)]), // next 100: user hit, population miss
      Float64Array.from([at(0, 20), at(1, 20), at(2, 20), at(3, 20)]), // both hit
      Float64Array.from([at(0, 30), at(1, 30), at(2, 30), at(3, 30)]), // both hit
      Float64Array.from([at(0, 40), at(1, 40), at(2, 40), at(3, 50)]), // both miss
      Float64Array.from([at(3, 20)]), // no history: not judged
    ];
    const result = evaluateTiming(users, {
      priorStrength: 1,
      smoothing: 0,
      halfLifeDays: null,
      dayPooling: 0,
    });
    expect(result.users).toBe(5);
    expect(result.judged).toBe(4);
    expect(result.populationTop).toEqual([40, 20, 30]);
    expect(result.hitRate).toBe(3 / 4);
    expect(result.populationHitRate).toBe(2 / 4);
    expect(result.ratio).toBe(1.5);
  });

  it('chooses parameters on the histories alone, and keeps the defaults on too few users', () => {
    const at = (week: number, how: number) => MONDAY + week * 7 * DAY + how * HOUR;
    const users = (nextHour: number) =>
      Array.from({ length: 40 }, (_, u) =>
        Float64Array.from([
          at(0, u * 4),
          at(1, u * 4),
          at(2, u * 4),
          at(3, (u * 4 + (u % 3)) % 168),
          at(5, nextHour),
        ]),
      );
    const histories = (all: Float64Array[]) => all.map((ts) => splitUser(ts)!.history);
    const a = chooseParameters(histories(users(7)));
    expect(a.how).toMatch(/validation cut/);
    expect(a.validation!.judged).toBe(40);
    // The judged events (week 5) differ; the histories do not, so neither does the choice.
    expect(chooseParameters(histories(users(150))).params).toEqual(a.params);
    expect(chooseParameters(histories(users(7)).slice(0, 10))).toMatchObject({
      params: DEFAULT_HOUR_PARAMS,
      validation: null,
    });
  });
});

describe('shouldSendNow', () => {
  const noon = MONDAY + 12 * HOUR;
  const sent = (t: number) => ({ name: 'notification_sent', timestamp: t });
  const opened = (t: number) => ({ name: 'notification_opened', timestamp: t });
  const dismissed = (t: number) => ({ name: 'notification_dismissed', timestamp: t });

  it('says yes with no history', () => {
    expect(shouldSendNow([], noon, 0)).toMatchObject({ send: true, reason: 'ok' });
  });

  it('keeps quiet hours in local time, configurable and wrapping midnight', () => {
    expect(shouldSendNow([], noon, 11 * 60).reason).toBe('quiet_hours'); // 23:00 local
    expect(shouldSendNow([], noon, -5 * 60).reason).toBe('quiet_hours'); // 07:00 local
    expect(shouldSendNow([], noon, -4 * 60).send).toBe(true); // 08:00 local
    expect(shouldSendNow([], noon, 0, { ...DEFAULT_SEND_POLICY, quietStart: 12, quietEnd: 13 }).reason).toBe(
      'quiet_hours',
    );
  });

  it('caps per day and per week', () => {
    const opens = (ts: number[]) => ts.flatMap((t) => [sent(t), opened(t + 60_000)]);
    expect(shouldSendNow(opens([noon - 2 * HOUR, noon - HOUR]), noon, 0).reason).toBe('daily_cap');
    expect(shouldSendNow(opens([noon - 25 * HOUR, noon - HOUR]), noon, 0).send).toBe(true);
    const week = opens([1, 2, 3, 4, 5, 6, 6.5].map((d) => noon - d * DAY));
    expect(shouldSendNow(week, noon, 0)).toMatchObject({ send: false, reason: 'weekly_cap' });
  });

  it('backs off after three ignored notifications until an open resets it', () => {
    const ignored = [
      sent(noon - 5 * DAY),
      dismissed(noon - 5 * DAY + HOUR),
      sent(noon - 4 * DAY),
      sent(noon - 2 * DAY),
    ];
    expect(ignoredStreak(ignored, noon, DEFAULT_SEND_POLICY)).toBe(3); // the last is > 24 h unanswered
    expect(shouldSendNow(ignored, noon, 0).send).toBe(true); // 48 h since the last ≥ the 24 h wait
    const recent = [...ignored, sent(noon - 25 * HOUR)];
    const decision = shouldSendNow(recent, noon, 0);
    expect(decision).toMatchObject({ send: false, reason: 'fatigue', ignoredStreak: 4 }); // waits 48 h
    expect(decision.message).toMatch(/last 4 notifications/);
    expect(shouldSendNow([...recent, opened(noon - 24 * HOUR)], noon, 0).send).toBe(true);
  });

  // Found by fuzzing every endpoint (test/fuzz.test.ts, issue 12): 2^37 days after the last send is past
  // the latest time a Date holds, and formatting it threw, a 500 for GET /v1/users/:id/notification-time.
  it('stops doubling the wait at a century, however many were ignored', () => {
    const ignored = Array.from({ length: 40 }, (_, k) => sent(noon - (50 - k) * DAY));
    const decision = shouldSendNow(ignored, noon, 0);
    expect(decision).toMatchObject({ send: false, reason: 'fatigue', ignoredStreak: 40 });
    expect(decision.message).toMatch(/waiting 876000 hours after the last one, until 21\d\d-/);
  });
});
