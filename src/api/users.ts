import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { userToJson, validateUser } from '../catalog/index.js';
import type { Engine } from '../engine/index.js';
import { errorBody } from './errors.js';
import { IdSchema } from './url-params.js';

export interface UserRoutesOptions {
  readonly engine: Engine;
}

const UserParams = Type.Object({ id: IdSchema });

/** Users and their traits. A user's events are under `events.ts`. */
export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, { engine }) => {
  app.put('/v1/users/:id', { schema: { params: UserParams } }, async (request, reply) => {
    const result = validateUser(request.body, request.params.id, engine.now());
    if ('errors' in result) {
      const message = result.errors.map((e) => `${e.field || 'user'}: ${e.message}`).join('; ');
      return reply.status(400).send(errorBody('invalid_request', message, result.errors));
    }
    await engine.putUser(result.user);
    return { user: userToJson(result.user) };
  });

  app.get('/v1/users/:id', { schema: { params: UserParams } }, async (request, reply) => {
    const user = await engine.getUser(request.params.id);
    if (!user) return reply.status(404).send(errorBody('not_found', `no user "${request.params.id}"`));
    return { user: userToJson(user) };
  });
};
