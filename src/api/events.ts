import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { EngineConfig } from '../engine/index.js';
import { formatTime, validateEventBatch, type TrackedEvent } from '../events/index.js';
import { errorBody } from './errors.js';
import { ErrorReply, EventBodySchema, EventSchema } from './reply-schemas.js';
import { IdSchema } from './url-params.js';

export interface EventRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const EventsReply = Type.Object(
  {
    accepted: Type.Integer({ description: 'Events stored by this request.' }),
    duplicates: Type.Integer({
      description: 'Events whose `event_id` was already stored (not stored again).',
    }),
    rejected: Type.Integer(),
    errors: Type.Array(
      Type.Object(
        {
          index: Type.Integer({ description: 'The event’s position in the batch.' }),
          field: Type.String({ description: '`user_id`, `context.device`, …; empty for the event itself.' }),
          message: Type.String(),
        },
        { additionalProperties: false },
      ),
      { description: 'One entry per rejected event.' },
    ),
    withheld: Type.Optional(
      Type.Integer({ description: 'Events of users with consent `none`: acknowledged, not stored.' }),
    ),
    redacted: Type.Optional(
      Type.Array(
        Type.Object(
          {
            index: Type.Integer(),
            field: Type.String(),
            action: Type.Union([Type.Literal('removed'), Type.Literal('coarsened')]),
            reason: Type.String(),
          },
          { additionalProperties: false },
        ),
        { description: 'Fields not stored as sent because they look like personal data.' },
      ),
    ),
  },
  { additionalProperties: false },
);

export function eventToJson(event: TrackedEvent) {
  return {
    event_id: event.eventId,
    event: event.name,
    user_id: event.userId,
    item_id: event.itemId,
    timestamp: formatTime(event.timestamp),
    received_at: formatTime(event.receivedAt),
    context: event.context,
    properties: event.properties,
  };
}

/**
 * `POST /v1/events`: one event or `{"events": [...]}`. Valid events are committed (durably) before the
 * reply; each rejected one is reported with its index, field and reason. The body is validated by
 * hand-written code in `events/`: a schema would reject the whole batch for one bad event.
 */
export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app) => {
  app.post(
    '/v1/events',
    {
      config: {
        docsBody: Type.Union([
          Type.Ref(EventBodySchema),
          Type.Object(
            { events: Type.Array(Type.Ref(EventBodySchema), { maxItems: 1000 }) },
            { additionalProperties: false },
          ),
        ]),
      },
      schema: {
        summary: 'Send events',
        description:
          'One event object, or `{"events": [...]}` (up to 1,000). Valid events are committed durably before ' +
          'the reply; each rejected one is listed with its index, field and reason. A batch with no valid ' +
          'event is a 400 with the same body.',
        tags: ['events'],
        response: {
          200: EventsReply,
          400: Type.Union([EventsReply, ErrorReply], {
            description: 'No event was valid (the per-event errors), or the body is not an event or a batch.',
          }),
        },
      },
    },
    async (request, reply) => {
      const now = request.engine.now();
      const validation = validateEventBatch(request.body, { now, redact: request.engine.redactPersonalData });
      if ('fatal' in validation)
        return reply.status(400).send(errorBody('invalid_request', validation.fatal));
      const { events, errors, redactions } = validation;
      request.engine.metrics.eventsRejected.inc(errors.length);
      const result =
        events.length > 0
          ? await request.engine.appendEvents(events.map(({ event }) => event))
          : { stored: 0, duplicates: [], createdItems: [] };
      const body = {
        accepted: result.stored,
        duplicates: result.duplicates.length,
        rejected: errors.length,
        errors,
        // Events of users who gave no consent (`none`): acknowledged, not stored; absent when there were none.
        ...('withheld' in result && result.withheld > 0 ? { withheld: result.withheld } : {}),
        // Fields not stored as sent because they look like personal data; absent when there were none.
        ...(redactions.length > 0 ? { redacted: redactions } : {}),
      };
      // Nothing usable at all is a client error; a partly valid batch is a success that lists its rejects. An
      // empty batch refuses nothing: 200, as for items (a 400 would carry no error to name).
      return reply.status(events.length === 0 && errors.length > 0 ? 400 : 200).send(body);
    },
  );

  app.get(
    '/v1/users/:id/events',
    {
      schema: {
        params: Type.Object({ id: IdSchema }),
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
        summary: 'A user’s events',
        description: 'Up to `limit` of the user’s stored events (reading a person’s data is audited).',
        tags: ['events'],
        response: {
          200: Type.Object(
            { user_id: Type.String(), events: Type.Array(Type.Ref(EventSchema)) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const events = await request.engine.userEvents(id, request.query.limit);
      return { user_id: id, events: events.map(eventToJson) };
    },
  );
};
