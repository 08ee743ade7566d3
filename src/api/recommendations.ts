import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig } from '../engine/index.js';
import { formatTime } from '../events/index.js';
import type { ModelName } from '../models/index.js';
import {
  withServingOptions,
  type Impression,
  type RecommendedItem,
  type ResolvedExplanation,
} from '../recommendations/index.js';
import type { JsonValue } from '../shared/types.js';
import { errorBody } from './errors.js';
import { eventToJson } from './events.js';
import { countQuery, filterQuery } from './query.js';
import { requestRules, rulesFields, servingFields, servingSpecFromQuery } from './rules.js';
import { IdSchema } from './url-params.js';

export interface RecommendationRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

/** A served list as logged. */
export function impressionJson(impression: Impression) {
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
  };
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

function explanationJson(explanation: ResolvedExplanation): JsonValue {
  const historyRef = (s: { itemId: string; action: string | null; similarity: number }) => ({
    item_id: s.itemId,
    action: s.action,
    similarity: s.similarity,
  });
  switch (explanation.kind) {
    case 'neighbors':
      return {
        kind: explanation.kind,
        score: explanation.score,
        neighbors: explanation.neighbors.map((n) => ({
          item_id: n.itemId,
          action: n.action,
          similarity: n.similarity,
          weight: n.weight,
          contribution: n.contribution,
        })),
      };
    case 'factors':
      return {
        kind: explanation.kind,
        score: explanation.score,
        factors: explanation.factors.map((f) => ({ ...f })),
        similar_items: explanation.similarItems.map(historyRef),
      };
    case 'features':
      return {
        kind: explanation.kind,
        score: explanation.score,
        bias: explanation.bias,
        item_features: explanation.itemFeatures.map((f) => ({ ...f })),
        user_features: explanation.userFeatures.map((f) => ({ ...f })),
        similar_items: explanation.similarItems.map(historyRef),
      };
    case 'blend':
      return {
        kind: explanation.kind,
        score: explanation.score,
        components: explanation.components.map((c) => ({
          model: c.model,
          weight: c.weight,
          standardized: c.standardized,
          contribution: c.contribution,
          explanation: c.explanation === null ? null : explanationJson(c.explanation),
        })),
      };
    case 'popularity':
      return { ...explanation };
    case 'evidence': {
      const { evidence } = explanation;
      return {
        kind: explanation.kind,
        evidence:
          evidence.kind === 'item'
            ? {
                kind: 'item',
                item_id: evidence.itemId,
                action: evidence.action,
                similarity: evidence.similarity,
              }
            : evidence,
      };
    }
  }
}

/** Personalised lists, and the impressions they were logged as (with the events that link back). */
export const recommendationRoutes: FastifyPluginAsyncTypebox<RecommendationRoutesOptions> = async (
  app,
  { config },
) => {
  app.get(
    '/v1/recommendations',
    {
      schema: {
        querystring: Type.Object({
          user_id: IdSchema,
          n: countQuery(config.maxResults),
          exclude_seen: Type.Boolean({ default: true }),
          request_id: Type.Optional(IdSchema),
          ...filterQuery,
          ...rulesFields,
          ...servingFields,
          preset: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        }),
      },
    },
    async (request) => {
      const { query } = request;
      // The user's experiments may set the preset: a variant's preset replaces the request's.
      const plan = await request.engine.servingPlan(query.user_id);
      const preset = (plan.kind === 'personalized' ? plan.treatment.preset : undefined) ?? query.preset;
      // Filters, rules and the preset compile together (`recommendations/rules.ts`; equal ones are
      // compiled once and shared); the request's own diversity and session settings go on top.
      const rules = withServingOptions(
        await requestRules(request.engine, preset, query, query.user_id),
        servingSpecFromQuery(query),
      );
      const result = await request.engine.recommend({
        userId: query.user_id,
        n: query.n,
        excludeSeen: query.exclude_seen,
        filter: rules?.filter ?? null,
        plan,
        ...(rules ? { rules } : {}),
        ...(query.request_id !== undefined ? { requestId: query.request_id } : {}),
      });
      return {
        request_id: result.requestId,
        user_id: result.userId,
        model: result.model,
        model_version: result.modelVersion,
        fallback: result.fallback,
        holdout: result.plan.holdout,
        // The user's consent withheld personalization: this is the non-personalized list.
        ...(result.plan.consent ? { consent: result.plan.consent } : {}),
        experiments: result.plan.experiments.map((e) => ({
          experiment: e.experiment,
          variant: e.variant,
          control: e.control,
          served: e.served,
        })),
        items: result.items.map(recommendedItemJson),
      };
    },
  );

  app.get(
    '/v1/recommendations/explain',
    {
      schema: {
        querystring: Type.Object({
          user_id: IdSchema,
          item_id: IdSchema,
          model: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
        }),
      },
    },
    async (request, reply) => {
      const { query } = request;
      const bundle = request.engine.servingBundle;
      if (!request.engine.catalog.has(query.item_id) && !request.engine.knowsItem(query.item_id)) {
        return reply.status(404).send(errorBody('not_found', `no item "${query.item_id}"`));
      }
      let model: ModelName | undefined;
      if (query.model !== undefined) {
        model = request.engine.modelNames().find((name) => name === query.model);
        if (!model) {
          const loaded = request.engine.modelNames().join(', ') || 'none';
          return reply
            .status(400)
            .send(
              errorBody(
                'invalid_request',
                `query field "model": ${JSON.stringify(query.model)} is not loaded (loaded: ${loaded})`,
              ),
            );
        }
      }
      const result = await request.engine.explain({
        userId: query.user_id,
        itemId: query.item_id,
        limit: query.limit,
        ...(model ? { model } : {}),
      });
      return {
        user_id: result.userId,
        item_id: result.itemId,
        model: result.model,
        model_version: result.modelVersion ?? bundle?.version ?? null,
        fallback: result.fallback,
        reason: result.reason.text,
        reason_kind: result.reason.kind,
        ...(result.reason.itemId !== undefined ? { reason_item_id: result.reason.itemId } : {}),
        score: result.score,
        session:
          result.session === null
            ? null
            : { added: result.session.added, item_id: result.session.itemId, action: result.session.action },
        explanation: result.explanation === null ? null : explanationJson(result.explanation),
      };
    },
  );

  app.get(
    '/v1/impressions/:request_id',
    { schema: { params: Type.Object({ request_id: IdSchema }) } },
    async (request, reply) => {
      const found = await request.engine.impression(request.params.request_id);
      if (!found) {
        return reply.status(404).send(errorBody('not_found', `no impression "${request.params.request_id}"`));
      }
      const { impression, outcomes } = found;
      return { ...impressionJson(impression), outcomes: outcomes.map(eventToJson) };
    },
  );
};
