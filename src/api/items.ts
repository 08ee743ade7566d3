import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { itemToJson, validateItem, validateItemBatch } from '../catalog/index.js';
import type { EngineConfig } from '../engine/index.js';
import { errorBody } from './errors.js';
import { countQuery, filterFromQuery, filterQuery } from './query.js';
import { recommendedItemJson } from './recommendations.js';
import {
  ErrorReply,
  ItemBodySchema,
  ItemSchema,
  NoContent,
  RecommendedItemSchema,
  errors,
} from './reply-schemas.js';
import { IdSchema } from './url-params.js';

export interface ItemRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const ItemParams = Type.Object({ id: IdSchema });
const closed = { additionalProperties: false } as const;

const ItemReply = Type.Object({ item: Type.Ref(ItemSchema) }, closed);

const FieldErrors = Type.Array(
  Type.Object(
    {
      index: Type.Integer({ description: 'The item’s position in `items`.' }),
      field: Type.String(),
      message: Type.String(),
    },
    closed,
  ),
);

const BatchReply = Type.Object(
  {
    stored: Type.Integer(),
    rejected: Type.Integer({ description: 'Items refused (each may have several errors).' }),
    errors: FieldErrors,
  },
  closed,
);

/** The catalog: items one at a time or in bulk, and the items similar to one. */
export const itemRoutes: FastifyPluginAsyncTypebox<ItemRoutesOptions> = async (app, { config }) => {
  app.put(
    '/v1/items/:id',
    {
      config: { docsBody: Type.Ref(ItemBodySchema) },
      schema: {
        params: ItemParams,
        summary: 'Create or replace an item',
        description:
          'The body is the item: `categories`, `tags`, `price`, `available`, `created_at`, `expires_at`, ' +
          '`attributes` (scalars). Checked field by field; every error is named in `error.details`.',
        tags: ['catalog'],
        response: { 200: ItemReply, ...errors({ 400: 'An invalid field; `details` lists each.' }) },
      },
    },
    async (request, reply) => {
      const result = validateItem(request.body, request.params.id, request.engine.now());
      if ('errors' in result) {
        const message = result.errors.map((e) => `${e.field || 'item'}: ${e.message}`).join('; ');
        return reply.status(400).send(errorBody('invalid_request', message, result.errors));
      }
      const [stored] = await request.engine.putItems([result]);
      return { item: itemToJson(stored ?? result.item) };
    },
  );

  app.post(
    '/v1/items',
    {
      config: {
        docsBody: Type.Object({ items: Type.Array(Type.Ref(ItemBodySchema), { maxItems: 1000 }) }, closed),
      },
      schema: {
        summary: 'Create or replace items in bulk',
        description:
          '`{"items": [...]}`, up to 1,000. Valid items are stored; each invalid one is reported by index. A ' +
          'batch with no valid item is a 400 with the same body.',
        tags: ['catalog'],
        response: {
          200: BatchReply,
          400: Type.Union([BatchReply, ErrorReply], {
            description: 'No item was valid (the per-item errors), or the body is not `{"items": [...]}`.',
          }),
        },
      },
    },
    async (request, reply) => {
      const validation = validateItemBatch(request.body, request.engine.now());
      if ('fatal' in validation)
        return reply.status(400).send(errorBody('invalid_request', validation.fatal));
      const { items, errors } = validation;
      if (items.length > 0) await request.engine.putItems(items);
      const rejected = new Set(errors.map((e) => e.index)).size;
      return reply
        .status(items.length === 0 && rejected > 0 ? 400 : 200)
        .send({ stored: items.length, rejected, errors });
    },
  );

  app.get(
    '/v1/items',
    {
      schema: {
        querystring: Type.Object({
          after: Type.Optional(Type.String()),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        }),
        summary: 'List items',
        description: 'Items in id order, a page at a time: pass `next` as `after` for the following page.',
        tags: ['catalog'],
        response: {
          200: Type.Object(
            {
              items: Type.Array(Type.Ref(ItemSchema)),
              next: Type.Union([Type.String(), Type.Null()], {
                description: 'The `after` of the next page; null on the last page.',
              }),
            },
            closed,
          ),
        },
      },
    },
    async (request) => {
      const items = await request.engine.listItems(request.query.after, request.query.limit);
      const last = items.length === request.query.limit ? items[items.length - 1] : undefined;
      return { items: items.map(itemToJson), next: last?.id ?? null };
    },
  );

  app.get(
    '/v1/items/:id',
    {
      schema: {
        params: ItemParams,
        summary: 'Get an item',
        tags: ['catalog'],
        response: { 200: ItemReply, ...errors({ 404: 'No such item.' }) },
      },
    },
    async (request, reply) => {
      const item = await request.engine.getItem(request.params.id);
      if (!item) return reply.status(404).send(errorBody('not_found', `no item "${request.params.id}"`));
      return { item: itemToJson(item) };
    },
  );

  app.delete(
    '/v1/items/:id',
    {
      schema: {
        params: ItemParams,
        summary: 'Delete an item',
        description: 'The item leaves the catalog and is no longer recommended; its events are kept.',
        tags: ['catalog'],
        response: { 204: NoContent, ...errors({ 404: 'No such item.' }) },
      },
    },
    async (request, reply) => {
      const existed = await request.engine.deleteItem(request.params.id);
      if (!existed) return reply.status(404).send(errorBody('not_found', `no item "${request.params.id}"`));
      return reply.status(204).send();
    },
  );

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
        summary: 'Items similar to an item',
        description:
          'The items most like this one (by the serving model), with filters; with `user_id`, what the user ' +
          'already has is left out. The list is logged under `request_id`.',
        tags: ['recommendations'],
        response: {
          200: Type.Object(
            {
              request_id: Type.String(),
              item_id: Type.String(),
              model: Type.String(),
              model_version: Type.Union([Type.Integer(), Type.Null()]),
              fallback: Type.Union([Type.String(), Type.Null()]),
              items: Type.Array(Type.Ref(RecommendedItemSchema)),
            },
            closed,
          ),
          ...errors({ 400: 'An invalid parameter or filter.' }),
        },
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
