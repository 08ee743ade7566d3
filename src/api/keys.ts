import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AccessKeyError, type AccessKeys, type AuditLog, type KeyInfo } from '../access/index.js';
import { formatTime } from '../events/index.js';
import type { JsonValue } from '../shared/types.js';
import { errorBody } from './errors.js';
import { IdSchema } from './url-params.js';

export interface KeyRoutesOptions {
  /** The host's keys and audit log: every app's, each admin seeing their own app's. */
  readonly access: AccessKeys;
  readonly audit: AuditLog;
}

const iso = (ms: number | null): string | null => (ms === null ? null : formatTime(ms));

function keyJson(info: KeyInfo): { [key: string]: JsonValue } {
  return {
    id: info.id,
    app: info.app,
    scope: info.scope,
    name: info.name,
    created_at: iso(info.createdAt),
    revoked_at: iso(info.revokedAt),
  };
}

/** Scope and name are checked by `access/` (each message names the field); here only the body's shape. */
const CreateSchema = Type.Object(
  { scope: Type.Unknown(), app: Type.Optional(Type.Unknown()), name: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);

/**
 * API keys and the audit log, for admins. An admin key manages its own app's keys only; the new key is in
 * the reply to its creation and nowhere else (the store keeps its hash).
 */
export const keyRoutes: FastifyPluginAsyncTypebox<KeyRoutesOptions> = async (app, { access, audit }) => {
  app.post('/v1/keys', { schema: { body: CreateSchema } }, async (request, reply) => {
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
  });

  app.get('/v1/keys', async (request) => ({
    keys: (await access.list(request.principal!.app)).map(keyJson),
  }));

  app.delete(
    '/v1/keys/:id',
    { schema: { params: Type.Object({ id: IdSchema }) } },
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
