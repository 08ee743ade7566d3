import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  DEFAULT_SEND_POLICY,
  describeHour,
  UnknownTimeZoneError,
  zoneOffsetMinutes,
} from '../decisions/notify/index.js';
import type { EngineConfig } from '../engine/index.js';
import { errorBody, unknownUserBody, consentWithheldBody } from './errors.js';
import { errors } from './reply-schemas.js';
import { IdSchema } from './url-params.js';

export interface NotifyRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const Params = Type.Object({ id: IdSchema });

const Hour = Type.Integer({ minimum: 0, maximum: 23 });

const Query = Type.Object({
  /** The user's IANA time zone; its offset now (daylight saving included) shifts the hours. */
  tz: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** Or the offset from UTC in minutes (east positive). Default: UTC. */
  utc_offset: Type.Optional(Type.Integer({ minimum: -840, maximum: 840 })),
  quiet_start: Type.Optional(Hour),
  quiet_end: Type.Optional(Hour),
  max_per_day: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  max_per_week: Type.Optional(Type.Integer({ minimum: 1, maximum: 700 })),
});

const closed = { additionalProperties: false } as const;

const NotificationTimeReply = Type.Object(
  {
    user_id: Type.String(),
    timezone: Type.String({ description: 'The `tz` given, or the offset as `UTC`, `UTC+05:30`.' }),
    best_hours: Type.Array(
      Type.Object(
        {
          hour_of_week: Type.Integer({ description: '0 = Monday 00:00 local time.' }),
          day: Type.Union([
            Type.Literal('monday'),
            Type.Literal('tuesday'),
            Type.Literal('wednesday'),
            Type.Literal('thursday'),
            Type.Literal('friday'),
            Type.Literal('saturday'),
            Type.Literal('sunday'),
          ]),
          hour: Hour,
          expected_engagement: Type.Number({ description: 'The expected share of the user’s activity.' }),
        },
        closed,
      ),
      { description: 'The three best hours of the week, in local time, best first.' },
    ),
    send_now: Type.Object(
      {
        send: Type.Boolean(),
        reason: Type.Union([
          Type.Literal('ok'),
          Type.Literal('quiet_hours'),
          Type.Literal('daily_cap'),
          Type.Literal('weekly_cap'),
          Type.Literal('fatigue'),
        ]),
        message: Type.String({ description: 'The rule in words, with the numbers that decided it.' }),
      },
      closed,
    ),
    based_on: Type.Object(
      {
        user_events: Type.Integer(),
        prior_strength: Type.Number({
          description: 'How much the population’s hours weigh against the user’s.',
        }),
      },
      closed,
    ),
  },
  closed,
);

/**
 * When to reach a user: their three best hours of the week in local time, with the expected share of
 * their activity in each, and whether to send now under the caps, quiet hours and fatigue rules
 * (`decisions/notify/policy.ts`). The population behind the prior is built by a scan of the event log on
 * the first request and refreshed hourly (`Engine.notifications`).
 */
export const notifyRoutes: FastifyPluginAsyncTypebox<NotifyRoutesOptions> = async (app) => {
  app.get(
    '/v1/users/:id/notification-time',
    {
      schema: {
        params: Params,
        querystring: Query,
        summary: 'When to notify a user',
        description:
          'The user’s three best hours of the week in local time, and whether to send now under the caps, ' +
          'quiet hours and fatigue rules.',
        tags: ['decisions'],
        response: {
          200: NotificationTimeReply,
          ...errors({
            400: 'An invalid parameter or time zone, or both `tz` and `utc_offset`.',
            404: 'Nothing is known of the user.',
            451: 'The user’s consent withholds personalization (`consent_withheld`).',
          }),
        },
      },
    },
    async (request, reply) => {
      const userId = request.params.id;
      const { tz, utc_offset: utcOffset } = request.query;
      if (tz !== undefined && utcOffset !== undefined) {
        return reply
          .status(400)
          .send(errorBody('invalid_request', 'query fields "tz" and "utc_offset": give one, not both'));
      }
      let offset = utcOffset ?? 0;
      if (tz !== undefined) {
        try {
          offset = zoneOffsetMinutes(tz, request.engine.now());
        } catch (error) {
          if (!(error instanceof UnknownTimeZoneError)) throw error;
          return reply.status(400).send(errorBody('invalid_request', `query field "tz": ${error.message}`));
        }
      }
      const policy = {
        ...DEFAULT_SEND_POLICY,
        ...(request.query.quiet_start === undefined ? {} : { quietStart: request.query.quiet_start }),
        ...(request.query.quiet_end === undefined ? {} : { quietEnd: request.query.quiet_end }),
        ...(request.query.max_per_day === undefined ? {} : { maxPerDay: request.query.max_per_day }),
        ...(request.query.max_per_week === undefined ? {} : { maxPerWeek: request.query.max_per_week }),
      };
      const answer = await request.engine.notificationTime(userId, offset, policy);
      if (answer === null) return reply.status(404).send(unknownUserBody(userId));
      if ('withheld' in answer) return reply.status(451).send(consentWithheldBody(userId, answer.withheld));
      return {
        user_id: userId,
        timezone: tz ?? formatOffset(offset),
        best_hours: answer.bestHours.map((h) => ({
          hour_of_week: h.hourOfWeek,
          ...describeHour(h.hourOfWeek),
          expected_engagement: h.share,
        })),
        send_now: {
          send: answer.sendNow.send,
          reason: answer.sendNow.reason,
          message: answer.sendNow.message,
        },
        based_on: {
          user_events: answer.userEvents,
          prior_strength: answer.params.priorStrength,
        },
      };
    },
  );
};

/** `UTC`, `UTC+05:30`, `UTC-08:00`. */
function formatOffset(minutes: number): string {
  if (minutes === 0) return 'UTC';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
