import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig } from '../engine/index.js';
import { rowToJson } from '../features/index.js';
import { consentWithheldBody, errorBody, unknownUserBody } from './errors.js';
import { IdSchema } from './url-params.js';

export interface FeatureRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const Params = Type.Object({ id: IdSchema });

/**
 * The feature store's online values and its definitions. Values are as of the engine's clock (`at`): from
 * exactly the events with timestamp < at, as `attune features export` computes them for training.
 */
export const featureRoutes: FastifyPluginAsyncTypebox<FeatureRoutesOptions> = async (app) => {
  app.get('/v1/features/definitions', async (request) => request.engine.config.features.toJson());

  app.get(
    '/v1/users/:id/features',
    {
      schema: {
        params: Params,
        // With item_id: also the item's features and the user-item pair's, all at the same time.
        querystring: Type.Object({ item_id: Type.Optional(IdSchema) }),
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

  app.get('/v1/items/:id/features', { schema: { params: Params } }, async (request, reply) => {
    const itemId = request.params.id;
    const result = await request.engine.itemFeatures(itemId);
    if (result === null) {
      return reply
        .status(404)
        .send(errorBody('not_found', `no item "${itemId}": not in the catalog and no recent events`));
    }
    return { item_id: itemId, at: new Date(result.at).toISOString(), features: rowToJson(result.item) };
  });
};
