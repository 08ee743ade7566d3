import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { get, openTestApp, type ErrorReply, type TestApp } from '../../test/helpers.js';
import { hourOfWeek } from '../decisions/notify/index.js';
import type { TrackedEvent } from '../events/index.js';
import { unknownUserBody } from './errors.js';

interface NotifyReply {
  readonly user_id: string;
  readonly timezone: string;
  readonly best_hours: { hour_of_week: number; day: string; hour: number; expected_engagement: number }[];
  readonly send_now: { send: boolean; reason: string; message: string };
  readonly based_on: { user_events: number; prior_strength: number };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

let seq = 0;
const event = (userId: string, timestamp: number, name = 'product_viewed'): TrackedEvent => ({
  eventId: `e${seq++}`,
  name,
  userId,
  itemId: null,
  timestamp,
  receivedAt: timestamp,
  context: {},
  properties: {},
  requestId: null,
});

describe('GET /v1/users/:id/notification-time', () => {
  let t: TestApp;
  let now: number;
  /** u1's hour (UTC hour-of-week): twelve weeks of visits; ten others are active 5 hours later, twice. */
  let habit: number;
  beforeEach(async () => {
    t = await openTestApp();
    now = Date.now();
    // Ten minutes into an hour, so the visit a minute later falls in the same hour whatever the time now.
    const base = Math.floor((now - 13 * WEEK) / HOUR) * HOUR + 10 * 60_000;
    habit = hourOfWeek(base);
    const events: TrackedEvent[] = [];
    for (let k = 0; k < 12; k++)
      events.push(event('u1', base + k * WEEK), event('u1', base + k * WEEK + 60_000));
    for (let u = 2; u < 12; u++) {
      for (let k = 0; k < 2; k++) events.push(event(`u${u}`, base + 5 * HOUR + k * WEEK));
    }
    await t.engine.appendEvents(events);
  });
  afterEach(() => t.close());

  it("answers the user's own hour first, in UTC by default, shrunk by the prior", async () => {
    const reply = await get<NotifyReply>(t.app, '/v1/users/u1/notification-time?quiet_start=0&quiet_end=0');
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.user_id).toBe('u1');
    expect(reply.body.timezone).toBe('UTC');
    expect(reply.body.best_hours).toHaveLength(3);
    expect(reply.body.best_hours[0]).toMatchObject({ hour_of_week: habit, hour: habit % 24 });
    const shares = reply.body.best_hours.map((h) => h.expected_engagement);
    expect(shares[0]).toBeGreaterThan(shares[1]!);
    expect(shares[0]).toBeLessThan(1); // shrunk toward the population
    expect(reply.body.based_on).toEqual({ user_events: 24, prior_strength: 8 });
    expect(reply.body.send_now).toMatchObject({ send: true, reason: 'ok' });
    // A thin history (two hours) is ranked by the same posterior; its own hour leads here too.
    const thin = await get<NotifyReply>(t.app, '/v1/users/u2/notification-time');
    expect(thin.body.best_hours[0]!.hour_of_week).toBe((habit + 5) % 168);
  });

  it('shifts the hours into the time zone given by tz or utc_offset', async () => {
    const kolkata = await get<NotifyReply>(t.app, '/v1/users/u1/notification-time?tz=Asia/Kolkata');
    expect(kolkata.status, kolkata.text).toBe(200);
    expect(kolkata.body.timezone).toBe('Asia/Kolkata');
    expect(kolkata.body.best_hours[0]!.hour_of_week).toBe((habit + 5) % 168);
    const west = await get<NotifyReply>(t.app, '/v1/users/u1/notification-time?utc_offset=-480');
    expect(west.body.timezone).toBe('UTC-08:00');
    expect(west.body.best_hours[0]!.hour_of_week).toBe((habit + 168 - 8) % 168);
  });

  it('says no and why: quiet hours, then caps from notification_sent events', async () => {
    const hour = new Date(Date.now()).getUTCHours();
    const quiet = await get<NotifyReply>(
      t.app,
      `/v1/users/u1/notification-time?quiet_start=${hour}&quiet_end=${(hour + 2) % 24}`,
    );
    expect(quiet.body.send_now).toMatchObject({ send: false, reason: 'quiet_hours' });
    await t.engine.appendEvents([
      event('u1', now - 2 * HOUR, 'notification_sent'),
      event('u1', now - HOUR, 'notification_sent'),
    ]);
    const capped = await get<NotifyReply>(t.app, '/v1/users/u1/notification-time?quiet_start=0&quiet_end=0');
    expect(capped.body.send_now).toMatchObject({ send: false, reason: 'daily_cap' });
    expect(capped.body.based_on.user_events).toBe(24); // sends are not activity
    const raised = await get<NotifyReply>(
      t.app,
      '/v1/users/u1/notification-time?quiet_start=0&quiet_end=0&max_per_day=3',
    );
    expect(raised.body.send_now.send).toBe(true);
  });

  it('answers 404 for an unknown user and 400 naming the field for bad time zones', async () => {
    const unknown = await get<ErrorReply>(t.app, '/v1/users/nobody/notification-time');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(unknownUserBody('nobody'));
    const badZone = await get<ErrorReply>(t.app, '/v1/users/u1/notification-time?tz=Mars/Olympus');
    expect(badZone.status).toBe(400);
    expect(badZone.body.error.message).toMatch(/"tz".*unknown time zone/);
    const both = await get<ErrorReply>(t.app, '/v1/users/u1/notification-time?tz=UTC&utc_offset=60');
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/"tz" and "utc_offset"/);
    const far = await get<ErrorReply>(t.app, '/v1/users/u1/notification-time?utc_offset=900');
    expect(far.status).toBe(400);
    expect(far.body.error.message).toMatch(/utc_offset/);
  });
});
