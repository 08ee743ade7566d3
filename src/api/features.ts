import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig } from '../engine/index.js';
import { rowToJson, type FeatureSet } from '../features/index.js';
import { consentWithheldBody, errorBody, unknownUserBody } from './errors.js';
import { FeatureValuesSchema, TimeSchema, errors } from './reply-schemas.js';
import { IdSchema } from './url-params.js';

export interface FeatureRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const Params = Type.Object({ id: IdSchema });
const closed = { additionalProperties: false } as const;
const Values = Type.Ref(FeatureValuesSchema);

const Columns = Type.Object(
  { numeric: Type.Array(Type.String()), labels: Type.Array(Type.String()) },
  closed,
);
const Definitions = Type.Array(
  Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())])),
);

/** `FeatureSet.toJson` (typed as it is: its lists are readonly). */
const DefinitionsReply = Type.Unsafe<ReturnType<FeatureSet['toJson']>>(
  Type.Object(
    {
      source: Type.String({ description: 'Where the definitions came from (a file, or the defaults).' }),
      definitions: Type.Object({ user: Definitions, item: Definitions, user_item: Definitions }, closed),
      columns: Type.Object({ user: Columns, item: Columns, user_item: Columns }, closed),
    },
    closed,
  ),
);

const UserFeaturesReply = Type.Object(
  {
    user_id: Type.String(),
    at: TimeSchema,
    features: Values,
    item_id: Type.Optional(Type.String()),
    item_features: Type.Optional(Values),
    user_item_features: Type.Optional(Values),
  },
  { ...closed, description: 'With `item_id`: the item’s and the user-item pair’s features too.' },
);

/**
 * The feature store's online values and its definitions. Values are as of the engine's clock (`at`): from
 * exactly the events with timestamp < at, as `attune features export` computes them for training.
 */
export const featureRoutes: FastifyPluginAsyncTypebox<FeatureRoutesOptions> = async (app) => {
  app.get(
    '/v1/features/definitions',
    {
      schema: {
        summary: 'Feature definitions',
        description: 'The configured features of users, items and user-item pairs, and their columns.',
        tags: ['features'],
        response: { 200: DefinitionsReply },
      },
    },
    async (request) => request.engine.config.features.toJson(),
  );

  app.get(
    '/v1/users/:id/features',
    {
      schema: {
        params: Params,
        // With item_id: also the item's features and the user-item pair's, all at the same time.
        querystring: Type.Object({ item_id: Type.Optional(IdSchema) }),
        summary: 'A user’s online features',
        description:
          'The user’s feature values now, from exactly the events before `at` (as training computes them); ' +
          'with `item_id`, the item’s and the pair’s too.',
        tags: ['features'],
        response: {
          200: UserFeaturesReply,
          ...errors({
            404: 'Nothing is known of the user, or of the item.',
            451: 'The user’s consent withholds personalization (`consent_withheld`).',
          }),
        },
      },
    },
    async (request, reply) => {
      const userId = request.params.id;
      const itemId = request.query.item_id;
      const result = await request.engine.userFeatures(userId, itemId);
      if ('withheld' in result) return reply.status(451).send(consentWithheldBody(userId, result.withheld));
      if ('unknown' in result) {
        return reply
          .status(404)
          .send(
            result.unknown === 'user'
              ? unknownUserBody(userId)
              : errorBody('not_found', `no item "${itemId}": not in the catalog and no recent events`),
          );
      }
      return {
        user_id: userId,
        at: new Date(result.at).toISOString(),
        features: rowToJson(result.user),
        ...(itemId !== undefined && result.item && result.pair
          ? {
              item_id: itemId,
              item_features: rowToJson(result.item),
              user_item_features: rowToJson(result.pair),
            }
          : {}),
      };
    },
  );

  app.get(
    '/v1/items/:id/features',
    {
      schema: {
        params: Params,
        summary: 'An item’s online features',
        tags: ['features'],
        response: {
          200: Type.Object({ item_id: Type.String(), at: TimeSchema, features: Values }, closed),
          ...errors({ 404: 'Not in the catalog and no recent events.' }),
        },
      },
    },
    async (request, reply) => {
      const itemId = request.params.id;
      const result = await request.engine.itemFeatures(itemId);
      if (result === null) {
        return reply
          .status(404)
          .send(errorBody('not_found', `no item "${itemId}": not in the catalog and no recent events`));
      }
      return { item_id: itemId, at: new Date(result.at).toISOString(), features: rowToJson(result.item) };
    },
  );
};
