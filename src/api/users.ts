import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { userToJson, validateUser } from '../catalog/index.js';
import type { Engine } from '../engine/index.js';
import { CONSENTS, isConsent } from '../privacy/index.js';
import { errorBody } from './errors.js';
import { IdSchema } from './url-params.js';

export interface UserRoutesOptions {
  readonly engine: Engine;
}

const UserParams = Type.Object({ id: IdSchema });

/** Users and their traits. A user's events are under `events.ts`. */
export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, { engine }) => {
  /**
   * Traits and consent. A body of `consent` alone changes the consent alone (a consent banner must not
   * wipe traits); otherwise the user's traits are replaced, and `consent`, when present, recorded too.
   */
  app.put('/v1/users/:id', { schema: { params: UserParams } }, async (request, reply) => {
    const { id } = request.params;
    const body = request.body;
    const { consent, rest } = splitConsent(body);
    if (consent !== undefined && !isConsent(consent)) {
      return reply
        .status(400)
        .send(errorBody('invalid_request', `field "consent": must be one of ${CONSENTS.join(', ')}`));
    }
    if (consent !== undefined && rest === null) {
      await engine.setConsent(id, consent);
      const user = await engine.getUser(id);
      return { user: { ...(user ? userToJson(user) : { id }), consent } };
    }
    const result = validateUser(rest ?? body, id, engine.now());
    if ('errors' in result) {
      const message = result.errors.map((e) => `${e.field || 'user'}: ${e.message}`).join('; ');
      return reply.status(400).send(errorBody('invalid_request', message, result.errors));
    }
    await engine.putUser(result.user);
    if (consent !== undefined) await engine.setConsent(id, consent);
    return { user: { ...userToJson(result.user), consent: await engine.consentOf(id) } };
  });

  app.get('/v1/users/:id', { schema: { params: UserParams } }, async (request, reply) => {
    const user = await engine.getUser(request.params.id);
    if (!user) return reply.status(404).send(errorBody('not_found', `no user "${request.params.id}"`));
    return { user: { ...userToJson(user), consent: await engine.consentOf(user.id) } };
  });
};

/**
 * The body's `consent` and the rest of it: `rest` is null when the body holds nothing but `consent` (and
 * perhaps the `id`), so that only the consent changes.
 */
function splitConsent(body: unknown): { consent: unknown; rest: Record<string, unknown> | null } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Object.hasOwn(body, 'consent')) {
    return { consent: undefined, rest: body as Record<string, unknown> | null };
  }
  const { consent, ...rest } = body as Record<string, unknown>;
  const others = Object.keys(rest).filter((key) => key !== 'id');
  return { consent, rest: others.length === 0 ? null : rest };
}
