import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../engine/index.js';
import { formatTime } from '../events/index.js';
import type { RecommendedItem } from '../recommendations/index.js';
import { errorBody } from './errors.js';
import { eventToJson } from './events.js';
import { countQuery, filterFromQuery, filterQuery } from './query.js';

export interface RecommendationRoutesOptions {
  readonly engine: Engine;
}

export function recommendedItemJson(item: RecommendedItem) {
  return {
    item_id: item.itemId,
    score: item.score,
    reason: item.reason.text,
    reason_kind: item.reason.kind,
    ...(item.reason.itemId !== undefined ? { reason_item_id: item.reason.itemId } : {}),
  };
}

/** Personalised lists, and the impressions they were logged as (with the events that link back). */
export const recommendationRoutes: FastifyPluginAsyncTypebox<RecommendationRoutesOptions> = async (
  app,
  { engine },
) => {
  app.get(
    '/v1/recommendations',
    {
      schema: {
        querystring: Type.Object({
          user_id: Type.String({ minLength: 1, maxLength: 256 }),
          n: countQuery(engine.config.maxResults),
          exclude_seen: Type.Boolean({ default: true }),
          request_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
          ...filterQuery,
        }),
      },
    },
    async (request) => {
      const { query } = request;
      const result = await engine.recommend({
        userId: query.user_id,
        n: query.n,
        excludeSeen: query.exclude_seen,
        filter: filterFromQuery(query),
        ...(query.request_id !== undefined ? { requestId: query.request_id } : {}),
      });
      return {
        request_id: result.requestId,
        user_id: result.userId,
        model: result.model,
        model_version: result.modelVersion,
        fallback: result.fallback,
        items: result.items.map(recommendedItemJson),
      };
    },
  );

  app.get(
    '/v1/impressions/:request_id',
    { schema: { params: Type.Object({ request_id: Type.String({ minLength: 1 }) }) } },
    async (request, reply) => {
      const found = await engine.impression(request.params.request_id);
      if (!found) {
        return reply.status(404).send(errorBody('not_found', `no impression "${request.params.request_id}"`));
      }
      const { impression, outcomes } = found;
      return {
        request_id: impression.requestId,
        user_id: impression.userId,
        surface: impression.surface,
        created_at: formatTime(impression.createdAt),
        model: impression.model,
        model_version: impression.modelVersion,
        fallback: impression.fallback,
        items: impression.items.map((item) => ({
          item_id: item.itemId,
          position: item.position,
          score: item.score,
        })),
        outcomes: outcomes.map(eventToJson),
      };
    },
  );
};
