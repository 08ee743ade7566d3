import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { AccessKeyError, type AccessKeys, type AuditLog, type KeyInfo } from '../access/index.js';
import { formatTime } from '../events/index.js';
import { errorBody } from './errors.js';
import { ApiKeySchema, TimeSchema, errors } from './reply-schemas.js';
import { IdSchema } from './url-params.js';

export interface KeyRoutesOptions {
  /** The host's keys and audit log: every app's, each admin seeing their own app's. */
  readonly access: AccessKeys;
  readonly audit: AuditLog;
}

const iso = (ms: number | null): string | null => (ms === null ? null : formatTime(ms));

function keyJson(info: KeyInfo): Static<typeof ApiKeySchema> {
  return {
    id: info.id,
    app: info.app,
    scope: info.scope,
    name: info.name,
    created_at: formatTime(info.createdAt),
    revoked_at: iso(info.revokedAt),
  };
}

/** Scope and name are checked by `access/` (each message names the field); here only the body's shape. */
const CreateSchema = Type.Object(
  { scope: Type.Unknown(), app: Type.Optional(Type.Unknown()), name: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);

const closed = { additionalProperties: false } as const;

const CreatedKeyReply = Type.Object(
  {
    key: Type.String({ description: 'The secret: shown in this reply only (the store keeps its hash).' }),
    ...ApiKeySchema.properties,
  },
  closed,
);

const AuditReply = Type.Object(
  {
    entries: Type.Array(
      Type.Object(
        {
          seq: Type.Integer({ description: 'Pass the last one as `after` for the next page.' }),
          at: TimeSchema,
          actor: Type.String({ description: 'The key id that acted.' }),
          action: Type.String({ description: '`METHOD /route`.' }),
          target: Type.Union([Type.String(), Type.Null()], {
            description: 'The resource id (never a user id), or null.',
          }),
          status: Type.Integer({ description: 'The reply’s HTTP status.' }),
        },
        closed,
      ),
    ),
  },
  closed,
);

/**
 * API keys and the audit log, for admins. An admin key manages its own app's keys only; the new key is in
 * the reply to its creation and nowhere else (the store keeps its hash).
 */
export const keyRoutes: FastifyPluginAsyncTypebox<KeyRoutesOptions> = async (app, { access, audit }) => {
  app.post(
    '/v1/keys',
    {
      schema: {
        body: CreateSchema,
        summary: 'Create an API key',
        description:
          'A key of `scope` ingest, server or admin for this admin’s app, with an optional `name`. The secret ' +
          'is in this reply only.',
        tags: ['keys'],
        response: {
          201: CreatedKeyReply,
          ...errors({ 400: 'An invalid scope or name.', 403: 'Another app’s key.' }),
        },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const appName = request.body.app ?? principal.app;
      if (appName !== principal.app) {
        return reply
          .status(403)
          .send(
            errorBody('forbidden', `field "app": this key manages the keys of app "${principal.app}" only`),
          );
      }
      try {
        const { key, info } = await access.create({ ...request.body, app: appName });
        return reply.status(201).send({ key, ...keyJson(info) });
      } catch (error) {
        if (error instanceof AccessKeyError) {
          return reply
            .status(400)
            .send(errorBody('invalid_request', `field "${error.field}": ${error.message}`));
        }
        throw error;
      }
    },
  );

  app.get(
    '/v1/keys',
    {
      schema: {
        summary: 'List API keys',
        description: 'This app’s keys, revoked ones too (never their secrets).',
        tags: ['keys'],
        response: { 200: Type.Object({ keys: Type.Array(Type.Ref(ApiKeySchema)) }, closed) },
      },
    },
    async (request) => ({
      keys: (await access.list(request.principal!.app)).map(keyJson),
    }),
  );

  app.delete(
    '/v1/keys/:id',
    {
      schema: {
        params: Type.Object({ id: IdSchema }),
        summary: 'Revoke an API key',
        tags: ['keys'],
        response: {
          200: Type.Object({ key: Type.Ref(ApiKeySchema) }, closed),
          ...errors({ 404: 'No such key in this app.' }),
        },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      // Another app's key is as unknown to this admin as a key that never existed.
      const revoked = await access.revoke(id, request.principal!.app);
      if (revoked === null) return reply.status(404).send(errorBody('not_found', `no key "${id}"`));
      return { key: keyJson(revoked) };
    },
  );

  app.get(
    '/v1/audit',
    {
      schema: {
        querystring: Type.Object({
          after: Type.Integer({ minimum: 0, default: 0 }),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        }),
        summary: 'The audit log',
        description: 'Admin changes and admin reads of personal data, oldest first, a page at a time.',
        tags: ['keys'],
        response: { 200: AuditReply },
      },
    },
    async (request) => {
      const entries = await audit.list(request.principal!.app, request.query.after, request.query.limit);
      return {
        entries: entries.map((entry) => ({
          seq: entry.seq,
          at: formatTime(entry.at),
          actor: entry.actor,
          action: entry.action,
          target: entry.target,
          status: entry.status,
        })),
      };
    },
  );
};
