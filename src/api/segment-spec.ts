import { createGunzip, createInflate } from 'node:zlib';
import { isUtf8 } from 'node:buffer';

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';

import type { Engine, EngineConfig } from '../engine/index.js';
import {
  MAX_MESSAGES_PER_BATCH,
  translateBatch,
  translateMessage,
  type MessageType,
  type SegmentTranslation,
} from '../events/segment/index.js';
import { BodyNotUtf8Error, BodyTooDeepError, jsonDeeperThan, MAX_JSON_DEPTH } from './encoding.js';
import { errorBody } from './errors.js';
import { ErrorReply } from './reply-schemas.js';

export interface SegmentSpecRoutesOptions {
  /** The engine configuration every app shares; each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const closed = { additionalProperties: false } as const;

const SegmentReplyFields = {
  success: Type.Boolean({ description: 'What Segment’s and RudderStack’s libraries look for.' }),
  accepted: Type.Integer({ description: 'Messages taken (as events, traits or an identity merge).' }),
  rejected: Type.Integer(),
  events: Type.Integer({ description: 'Events stored by this request (a product of an order is one each).' }),
  duplicates: Type.Integer({ description: 'Events whose id (`messageId`) was stored before: not again.' }),
  merged: Type.Integer({ description: 'Events of anonymous ids that became their identified user’s.' }),
  errors: Type.Array(
    Type.Object(
      {
        index: Type.Integer({ description: 'The message’s position in the batch (0 for a single message).' }),
        field: Type.String({ description: '`userId`, `properties.products[1].product_id`, …' }),
        message: Type.String(),
      },
      closed,
    ),
  ),
  withheld: Type.Optional(Type.Integer({ description: 'Events of users with consent `none`: not stored.' })),
  redacted: Type.Optional(
    Type.Array(
      Type.Object(
        {
          index: Type.Integer(),
          field: Type.String({ description: '`context.ip`, `traits.email`, …' }),
          action: Type.Union([Type.Literal('removed'), Type.Literal('coarsened')]),
          reason: Type.String(),
        },
        closed,
      ),
      { description: 'Fields not stored as sent because they look like personal data.' },
    ),
  ),
};

const SegmentReply = Type.Object(SegmentReplyFields, closed);
const SegmentRejected = Type.Object(
  {
    ...SegmentReplyFields,
    error: Type.Object({ code: Type.String(), message: Type.String() }, closed),
  },
  { ...closed, description: 'No message of the body was valid: each one’s error.' },
);

/** What every message may carry (Segment's common fields); others (integrations, _metadata, …) are ignored. */
const messageFields = {
  userId: Type.Optional(Type.Unknown({ description: 'The known user (string or integer).' })),
  anonymousId: Type.Optional(
    Type.Unknown({
      description: 'The visitor before they are known; merged into `userId` once both are sent.',
    }),
  ),
  messageId: Type.Optional(
    Type.Unknown({ description: 'Idempotency key: a retried message is stored once.' }),
  ),
  timestamp: Type.Optional(Type.Unknown({ description: 'When it happened (ISO 8601); taken as sent.' })),
  originalTimestamp: Type.Optional(
    Type.Unknown({ description: 'The device’s clock; corrected by `sentAt` as Segment does.' }),
  ),
  sentAt: Type.Optional(Type.Unknown({ description: 'When the library sent it (device clock).' })),
  context: Type.Optional(
    Type.Unknown({ description: 'Device, locale, page, campaign, … (`ip` is never kept).' }),
  ),
  writeKey: Type.Optional(
    Type.String({ description: 'The ingest key, when no Authorization header has it.' }),
  ),
};
const open = { additionalProperties: true } as const;

const TrackBody = Type.Object(
  {
    event: Type.Unknown({ description: 'The event name: `Product Viewed`, `Order Completed`, …' }),
    properties: Type.Optional(
      Type.Unknown({ description: '`product_id`/`sku`, `price`, `quantity`, `revenue`, `products[]`, …' }),
    ),
    ...messageFields,
  },
  open,
);
const IdentifyBody = Type.Object(
  {
    traits: Type.Optional(Type.Unknown({ description: 'Merged into the user’s traits.' })),
    ...messageFields,
  },
  open,
);
const PageBody = Type.Object(
  {
    name: Type.Optional(Type.Unknown()),
    category: Type.Optional(Type.Unknown()),
    properties: Type.Optional(Type.Unknown({ description: '`item_id`/`product_id` for a product’s page.' })),
    ...messageFields,
  },
  open,
);
const BatchBody = Type.Object(
  {
    batch: Type.Unknown({
      description: `Up to ${MAX_MESSAGES_PER_BATCH} messages of any type (track, identify, page, screen, group, alias), each with its \`type\`.`,
    }),
    sentAt: Type.Optional(Type.Unknown({ description: 'For messages without their own.' })),
    context: Type.Optional(Type.Unknown({ description: 'Under each message’s own context.' })),
    writeKey: messageFields.writeKey,
  },
  open,
);

const SINGLE_ROUTES: readonly {
  type: MessageType;
  body: typeof TrackBody | typeof IdentifyBody | typeof PageBody;
  summary: string;
  description: string;
}[] = [
  {
    type: 'track',
    body: TrackBody,
    summary: 'Segment track',
    description:
      'One Segment `track` call. E-commerce events become interactions: `Product Viewed` → `product_viewed`, ' +
      '`Product Added` → `added_to_cart`, `Order Completed` with `products[]` → one `purchased` event per ' +
      'product, with the order’s revenue split over them; other events are stored as sent.',
  },
  {
    type: 'identify',
    body: IdentifyBody,
    summary: 'Segment identify',
    description:
      'Traits are merged into the user’s profile (personal data redacted); with both `anonymousId` and ' +
      '`userId`, the anonymous id’s events become the user’s.',
  },
  {
    type: 'page',
    body: PageBody,
    summary: 'Segment page',
    description:
      'A `page_viewed` event (on `properties.item_id` or `product_id` when the page is a product’s).',
  },
  {
    type: 'screen',
    body: PageBody,
    summary: 'Segment screen',
    description: 'A `screen_viewed` event (on `properties.item_id` or `product_id` when it names a product).',
  },
];

/**
 * Segment's tracking API (`/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/batch`), so that an
 * app instrumented with Segment's or RudderStack's libraries sends to Attune by changing only the host. The
 * key comes as the HTTP Basic user (their default) or as `writeKey` in the body (analytics.js). Messages
 * are translated in `events/segment/` and stored through the same engine path as `POST /v1/events`.
 */
export const segmentSpecRoutes: FastifyPluginAsyncTypebox<SegmentSpecRoutesOptions> = async (app) => {
  useSegmentBodies(app);
  const config = { writeKeyInBody: true } as const;

  // analytics.js (Segment's browser library) posts to one-letter paths under its API host: `/v1/t`,
  // `/v1/i`, `/v1/p`, `/v1/s`, and `/v1/b` when it batches. The same handlers serve both spellings.
  for (const [route, path] of SINGLE_ROUTES.flatMap(
    (r) =>
      [
        [r, r.type],
        [r, r.type[0]!],
      ] as const,
  )) {
    const short = path.length === 1;
    app.post(
      `/v1/${path}`,
      {
        config,
        schema: {
          summary: short ? `${route.summary} (analytics.js path)` : route.summary,
          description: short
            ? `What \`/v1/${route.type}\` does, at the path analytics.js posts to.`
            : route.description,
          tags: ['segment-spec'],
          body: route.body,
          response: { 200: SegmentReply, 400: ErrorReply },
        },
      },
      async (request, reply) => {
        const engine = request.engine;
        const translation = translateMessage(request.body, route.type, segmentOptions(engine));
        if ('fatal' in translation)
          return reply.status(400).send(errorBody('invalid_request', translation.fatal));
        const error = translation.errors[0];
        if (error !== undefined) {
          engine.metrics.eventsRejected.inc(1);
          return reply
            .status(400)
            .send(errorBody('invalid_request', fieldMessage(error), translation.errors));
        }
        return applyTranslation(engine, translation);
      },
    );
  }

  for (const path of ['/v1/batch', '/v1/b'])
    app.post(
      path,
      {
        config,
        schema: {
          summary: path === '/v1/b' ? 'Segment batch (analytics.js path)' : 'Segment batch',
          description:
            'Messages of any type in one request (what Segment’s and RudderStack’s server libraries send). Valid ' +
            'messages are stored beside invalid ones, which are listed with their index and field; a body with ' +
            'no valid message is a 400 with the same fields.',
          tags: ['segment-spec'],
          body: BatchBody,
          response: { 200: SegmentReply, 400: Type.Union([SegmentRejected, ErrorReply]) },
        },
      },
      async (request, reply) => {
        const engine = request.engine;
        const translation = translateBatch(request.body, segmentOptions(engine));
        if ('fatal' in translation)
          return reply.status(400).send(errorBody('invalid_request', translation.fatal));
        const first = translation.errors[0];
        engine.metrics.eventsRejected.inc(translation.errors.length);
        if (translation.accepted === 0 && first !== undefined) {
          // Nothing usable: a client error, which Segment's libraries do not retry.
          const message = `no message of body field "batch" is valid; message ${first.index}: ${fieldMessage(first)}`;
          return reply.status(400).send({
            success: false,
            accepted: 0,
            rejected: translation.errors.length,
            events: 0,
            duplicates: 0,
            merged: 0,
            errors: translation.errors,
            error: { code: 'invalid_request', message },
          });
        }
        return applyTranslation(engine, translation);
      },
    );
};

function segmentOptions(engine: Engine) {
  return { now: engine.now(), redact: engine.redactPersonalData };
}

function fieldMessage(error: { readonly field: string; readonly message: string }): string {
  return error.field === '' ? error.message : `field "${error.field}": ${error.message}`;
}

/**
 * Stores what the messages said, in an order that makes merges complete: the events first (durably, with
 * consent applied, as `POST /v1/events`), then traits (merged over the stored ones, as Segment's identify
 * does; redacted by `putUser`), then the anonymous ids' histories moved to their users, the batch's own
 * anonymous events included.
 */
async function applyTranslation(engine: Engine, translation: SegmentTranslation) {
  const appended =
    translation.events.length > 0
      ? await engine.appendEvents(translation.events.map(({ event }) => event))
      : { stored: 0, duplicates: [], withheld: 0 };
  const redacted = translation.redactions.map((r) => ({ ...r }));
  for (const update of translation.traits) {
    const existing = await engine.getUser(update.userId);
    const { redactions } = await engine.putUser({
      id: update.userId,
      traits: { ...existing?.traits, ...update.traits },
      createdAt: existing?.createdAt ?? update.at,
      updatedAt: engine.now(),
    });
    for (const r of redactions) redacted.push({ index: update.index, ...r });
  }
  let merged = 0;
  for (const { from, to } of translation.merges) merged += await engine.mergeUser(from, to);
  return {
    success: true,
    accepted: translation.accepted,
    rejected: translation.errors.length,
    events: appended.stored,
    duplicates: appended.duplicates.length,
    merged,
    errors: [...translation.errors],
    ...(appended.withheld > 0 ? { withheld: appended.withheld } : {}),
    ...(redacted.length > 0 ? { redacted } : {}),
  };
}

/** A body sent as something other than JSON text, whatever its content type said. */
class BodyNotJsonError extends Error {
  readonly statusCode = 400;
  constructor(contentType: string, cause: string) {
    super(`the body (content type ${contentType}) is not valid JSON: ${cause}`);
    this.name = 'BodyNotJsonError';
  }
}

/** A `Content-Encoding` these routes cannot read. */
class UnsupportedEncodingError extends Error {
  readonly statusCode = 415;
  constructor(encoding: string) {
    super(`content encoding "${encoding}" is not supported; send gzip, deflate or none`);
    this.name = 'UnsupportedEncodingError';
  }
}

/**
 * The bodies Segment's and RudderStack's libraries send, for these routes only (the plugin's scope): gzip
 * (RudderStack's Node library compresses by default, `Content-Encoding: gzip`), and JSON under other content
 * types: `application/x-www-form-urlencoded` (what that library's HTTP client labels its compressed JSON)
 * and `text/plain` (analytics.js, to avoid a CORS preflight). They are parsed as the app's JSON bodies are:
 * UTF-8 only, at most 32 levels deep, no prototype keys, within the body limit after decompression.
 */
function useSegmentBodies(app: FastifyInstance): void {
  app.addHook('preParsing', async (request: FastifyRequest, _reply, payload) => {
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    if (encoding === undefined || encoding === '' || encoding === 'identity') return payload;
    if (encoding !== 'gzip' && encoding !== 'deflate' && encoding !== 'x-gzip') {
      throw new UnsupportedEncodingError(encoding);
    }
    // Fastify compares the length it received with Content-Length, and limits the body, by this count of
    // the bytes as sent; the decoded bytes are limited by bodyLimit as they are read (no zip bombs).
    const decoded = Object.assign(encoding === 'deflate' ? createInflate() : createGunzip(), {
      receivedEncodedLength: 0,
    });
    payload.on('data', (chunk: Buffer) => {
      decoded.receivedEncodedLength += chunk.length;
    });
    payload.on('error', (error) => decoded.destroy(error));
    decoded.on('error', (error: Error & { statusCode?: number }) => {
      error.statusCode = 400;
      error.message = `the body is not valid ${encoding}: ${error.message}`;
    });
    return payload.pipe(decoded);
  });
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(
    ['text/plain', 'application/x-www-form-urlencoded'],
    { parseAs: 'buffer' },
    (request, body: Buffer, done) => {
      if (!isUtf8(body)) return done(new BodyNotUtf8Error(), undefined);
      if (jsonDeeperThan(body, MAX_JSON_DEPTH)) return done(new BodyTooDeepError(), undefined);
      const contentType = String(request.headers['content-type']).split(';')[0]!.trim();
      parseJson(request, body.toString('utf8'), (error, value) => {
        if (error === null) done(null, value);
        else done(new BodyNotJsonError(contentType, error.message), undefined);
      });
    },
  );
}
