import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { itemToJson, validateItem, validateItemBatch } from '../catalog/index.js';
import type { EngineConfig } from '../engine/index.js';
import { errorBody } from './errors.js';
import { countQuery, filterFromQuery, filterQuery } from './query.js';
import { recommendedItemJson } from './recommendations.js';
import { IdSchema } from './url-params.js';

export interface ItemRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const ItemParams = Type.Object({ id: IdSchema });

/** The catalog: items one at a time or in bulk, and the items similar to one. */
export const itemRoutes: FastifyPluginAsyncTypebox<ItemRoutesOptions> = async (app, { config }) => {
  app.put('/v1/items/:id', { schema: { params: ItemParams } }, async (request, reply) => {
    const result = validateItem(request.body, request.params.id, request.engine.now());
    if ('errors' in result) {
      const message = result.errors.map((e) => `${e.field || 'item'}: ${e.message}`).join('; ');
      return reply.status(400).send(errorBody('invalid_request', message, result.errors));
    }
    const [stored] = await request.engine.putItems([result]);
    return { item: itemToJson(stored ?? result.item) };
  });

  app.post('/v1/items', async (request, reply) => {
    const validation = validateItemBatch(request.body, request.engine.now());
    if ('fatal' in validation) return reply.status(400).send(errorBody('invalid_request', validation.fatal));
    const { items, errors } = validation;
    if (items.length > 0) await request.engine.putItems(items);
    const rejected = new Set(errors.map((e) => e.index)).size;
    return reply
      .status(items.length === 0 && rejected > 0 ? 400 : 200)
      .send({ stored: items.length, rejected, errors });
  });

  app.get(
    '/v1/items',
    {
      schema: {
        querystring: Type.Object({
          after: Type.Optional(Type.String()),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        }),
      },
    },
    async (request) => {
      const items = await request.engine.listItems(request.query.after, request.query.limit);
      const last = items.length === request.query.limit ? items[items.length - 1] : undefined;
      return { items: items.map(itemToJson), next: last?.id ?? null };
    },
  );

  app.get('/v1/items/:id', { schema: { params: ItemParams } }, async (request, reply) => {
    const item = await request.engine.getItem(request.params.id);
    if (!item) return reply.status(404).send(errorBody('not_found', `no item "${request.params.id}"`));
    return { item: itemToJson(item) };
  });

  app.delete('/v1/items/:id', { schema: { params: ItemParams } }, async (request, reply) => {
    const existed = await request.engine.deleteItem(request.params.id);
    if (!existed) return reply.status(404).send(errorBody('not_found', `no item "${request.params.id}"`));
    return reply.status(204).send();
  });

  app.get(
    '/v1/items/:id/similar',
    {
      schema: {
        params: ItemParams,
        querystring: Type.Object({
          n: countQuery(config.maxResults),
          user_id: Type.Optional(IdSchema),
          ...filterQuery,
        }),
      },
    },
    async (request) => {
      const result = request.engine.similar({
        itemId: request.params.id,
        n: request.query.n,
        filter: filterFromQuery(request.query),
        ...(request.query.user_id !== undefined ? { userId: request.query.user_id } : {}),
      });
      return {
        request_id: result.requestId,
        item_id: request.params.id,
        model: result.model,
        model_version: result.modelVersion,
        fallback: result.fallback,
        items: result.items.map(recommendedItemJson),
      };
    },
  );
};
