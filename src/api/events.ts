import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { EngineConfig } from '../engine/index.js';
import { formatTime, validateEventBatch, type TrackedEvent } from '../events/index.js';
import { errorBody } from './errors.js';
import { IdSchema } from './url-params.js';

export interface EventRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

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
  app.post('/v1/events', async (request, reply) => {
    const now = request.engine.now();
    const validation = validateEventBatch(request.body, { now, redact: request.engine.redactPersonalData });
    if ('fatal' in validation) return reply.status(400).send(errorBody('invalid_request', validation.fatal));
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
  });

  app.get(
    '/v1/users/:id/events',
    {
      schema: {
        params: Type.Object({ id: IdSchema }),
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const events = await request.engine.userEvents(id, request.query.limit);
      return { user_id: id, events: events.map(eventToJson) };
    },
  );
};
