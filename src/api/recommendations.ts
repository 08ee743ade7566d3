import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { grants } from '../access/index.js';
import type { EngineConfig } from '../engine/index.js';
import { formatTime } from '../events/index.js';
import type { ModelName } from '../models/index.js';
import { derivedOnce } from '../shared/frozen-memo.js';
import {
  presetsFor,
  withServingOptions,
  type Impression,
  type RecommendedItem,
  type ResolvedExplanation,
} from '../recommendations/index.js';
import { errorBody } from './errors.js';
import { eventToJson } from './events.js';
import { countQuery, filterQuery } from './query.js';
import {
  EventSchema,
  ImpressionSchema,
  ReasonKindSchema,
  RecommendedItemSchema,
  errors,
} from './reply-schemas.js';
import { requestRules, rulesFields, servingFields, servingSpecFromQuery } from './rules.js';
import { IdSchema } from './url-params.js';

export interface RecommendationRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const closed = { additionalProperties: false } as const;

const RecommendationsReply = Type.Object(
  {
    request_id: Type.String({
      description: 'Send it back as `properties.request_id` on clicks and purchases.',
    }),
    user_id: Type.String(),
    model: Type.String({ description: 'The model that ranked the list (`popularity` for a fallback).' }),
    model_version: Type.Union([Type.Integer(), Type.Null()]),
    fallback: Type.Union([Type.String(), Type.Null()], {
      description:
        'Why the primary model did not rank the list (no model yet, unknown user, …); null when it did.',
    }),
    holdout: Type.Boolean({ description: 'The user is in the global holdout (never personalized).' }),
    consent: Type.Optional(
      Type.String({
        description: 'The user’s consent, when it withholds personalization (the list is not personal).',
      }),
    ),
    experiments: Type.Array(
      Type.Object(
        {
          experiment: Type.String(),
          variant: Type.String(),
          control: Type.Boolean(),
          served: Type.Boolean(),
        },
        closed,
      ),
      { description: 'The user’s experiments on this surface and their variants.' },
    ),
    items: Type.Array(Type.Ref(RecommendedItemSchema)),
  },
  closed,
);

const HistoryRef = {
  item_id: Type.String(),
  action: Type.Union([Type.String(), Type.Null()], { description: 'The user’s strongest action on it.' }),
  similarity: Type.Number(),
};

const FeatureContribution = Type.Object(
  { feature: Type.Union([Type.String(), Type.Null()]), weight: Type.Number(), contribution: Type.Number() },
  closed,
);

/** The explanation of one model (`explanationJson`), by `kind`. */
const modelExplanations = [
  Type.Object(
    {
      kind: Type.Literal('neighbors'),
      score: Type.Number(),
      neighbors: Type.Array(
        Type.Object({ ...HistoryRef, weight: Type.Number(), contribution: Type.Number() }, closed),
      ),
    },
    { ...closed, description: 'Item-neighbour models: the history items behind the score.' },
  ),
  Type.Object(
    {
      kind: Type.Literal('factors'),
      score: Type.Number(),
      factors: Type.Array(
        Type.Object(
          { dimension: Type.Integer(), user: Type.Number(), item: Type.Number(), product: Type.Number() },
          closed,
        ),
      ),
      similar_items: Type.Array(Type.Object(HistoryRef, closed)),
    },
    { ...closed, description: 'Matrix factorization: the latent factors, and similar history items.' },
  ),
  Type.Object(
    {
      kind: Type.Literal('features'),
      score: Type.Number(),
      bias: Type.Number(),
      item_features: Type.Array(FeatureContribution),
      user_features: Type.Array(FeatureContribution),
      similar_items: Type.Array(Type.Object(HistoryRef, closed)),
    },
    { ...closed, description: 'The hybrid model: item features and user traits.' },
  ),
  Type.Object(
    {
      kind: Type.Literal('popularity'),
      score: Type.Number(),
      popularity: Type.Number(),
      rank: Type.Integer(),
    },
    closed,
  ),
  Type.Object(
    {
      kind: Type.Literal('evidence'),
      evidence: Type.Union([
        Type.Object({ kind: Type.Literal('item'), ...HistoryRef }, closed),
        Type.Object({ kind: Type.Literal('popular'), popularity: Type.Number() }, closed),
        Type.Object({ kind: Type.Literal('taste'), score: Type.Number() }, closed),
      ]),
    },
    { ...closed, description: 'Models without their own explanation: the strongest piece of evidence.' },
  ),
];

/** A blend's components explain themselves with one of the models' explanations (blends do not nest). */
const Explanation = Type.Union([
  ...modelExplanations,
  Type.Object(
    {
      kind: Type.Literal('blend'),
      score: Type.Number(),
      components: Type.Array(
        Type.Object(
          {
            model: Type.String(),
            weight: Type.Number(),
            standardized: Type.Number(),
            contribution: Type.Number(),
            explanation: Type.Union([...modelExplanations, Type.Null()]),
          },
          closed,
        ),
      ),
    },
    { ...closed, description: 'A blend: each component’s part in the score, with its own evidence.' },
  ),
]);

const ExplainReply = Type.Object(
  {
    user_id: Type.String(),
    item_id: Type.String(),
    model: Type.Union([Type.String(), Type.Null()], { description: 'The model explained.' }),
    model_version: Type.Union([Type.Integer(), Type.Null()]),
    fallback: Type.Union([Type.String(), Type.Null()]),
    reason: Type.String({ description: 'The reason a list would show for the item.' }),
    reason_kind: ReasonKindSchema,
    reason_item_id: Type.Optional(Type.String()),
    score: Type.Union([Type.Number(), Type.Null()], {
      description:
        'The score the user’s list ranks the item by (before rules); null when no model scores it.',
    }),
    session: Type.Union(
      [
        Type.Object({ added: Type.Number(), item_id: Type.String(), action: Type.String() }, closed),
        Type.Null(),
      ],
      { description: 'What the current session added to the score, and the session item behind it.' },
    ),
    explanation: Type.Union([Explanation, Type.Null()], {
      description: 'The model’s evidence, by `kind`; null when no model knows the item.',
    }),
  },
  closed,
);

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

const JSON_TYPE = 'application/json; charset=utf-8';

/** Served lists' items as JSON, kept for frozen lists (`withItemsJson`). */
const itemsJson = new WeakMap<readonly RecommendedItem[], string>();

/**
 * The reply's JSON: `head`'s fields, then `items`. A list served again from the result cache is the same
 * frozen items array, so its JSON is made once (`derivedOnce`): at 2,000 requests/s, most of them repeats,
 * building and stringifying 20 items per reply was the serving thread's largest share after the socket writes,
 * and much of its garbage.
 */
function withItemsJson(head: Readonly<Record<string, unknown>>, items: readonly RecommendedItem[]): string {
  const json = derivedOnce(itemsJson, items, (list) => JSON.stringify(list.map(recommendedItemJson)));
  const fields = JSON.stringify(head);
  return `${fields.slice(0, -1)}${fields === '{}' ? '' : ','}"items":${json}}`;
}

function explanationJson(explanation: ResolvedExplanation): Static<typeof Explanation> {
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
          // Blends do not nest (models/blend.ts refuses a blend component): a component is one model's.
          explanation:
            c.explanation === null
              ? null
              : (explanationJson(c.explanation) as Static<(typeof modelExplanations)[number]>),
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
          preview: Type.Boolean({
            default: false,
            description:
              'Admin keys only: the list as it would be served, without logging an impression or an ' +
              'experiment exposure (the dashboard inspects users this way).',
          }),
        }),
        summary: 'Recommendations for a user',
        description:
          'A personalised list for the user, with filters, business rules (or a saved preset), diversity and ' +
          'session settings. The user’s experiments may replace the preset or model. Each item carries its ' +
          'score and the reason in words; the list is logged under `request_id`.',
        tags: ['recommendations'],
        response: {
          200: RecommendationsReply,
          ...errors({
            400: 'An invalid parameter, filter, rule or preset.',
            403: '`preview` with a key that is not an admin key.',
          }),
        },
      },
    },
    async (request, reply) => {
      const { query } = request;
      // A preview is not served, so it must not be what a product's backend asks for: it would skip the
      // exposures experiments are analysed by.
      if (query.preview && request.principal !== null && !grants(request.principal.scope, 'admin')) {
        return reply
          .status(403)
          .send(errorBody('forbidden', 'preview=true needs an admin key; serve the list without it'));
      }
      // The user's experiments may set the preset: a variant's preset replaces the request's.
      const plan = await request.engine.servingPlan(query.user_id);
      const variantPreset = plan.kind === 'personalized' ? plan.treatment.preset : undefined;
      // A variant naming a preset deleted since (or never saved) is the experiment's fault, not the
      // request's: serve as if unassigned, and the engine does not expose that variant.
      const missingPreset =
        variantPreset !== undefined && !(await presetsFor(request.engine.store).get(variantPreset))
          ? variantPreset
          : undefined;
      if (missingPreset !== undefined)
        request.log.warn({ preset: missingPreset }, 'an experiment variant names a missing rules preset');
      const preset = (missingPreset === undefined ? variantPreset : undefined) ?? query.preset;
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
        ...(missingPreset === undefined ? {} : { missingPreset }),
        ...(query.request_id !== undefined ? { requestId: query.request_id } : {}),
        ...(query.preview ? { preview: true } : {}),
      });
      const head = {
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
      };
      return reply.type(JSON_TYPE).send(withItemsJson(head, result.items));
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
        summary: 'Explain an item for a user',
        description:
          'Why the item would rank where it does for the user: the reason a list would show, the score, the ' +
          'session’s part in it and the model’s evidence (neighbours, factors, features, a blend’s parts).',
        tags: ['recommendations'],
        response: {
          200: ExplainReply,
          ...errors({ 400: 'An invalid parameter, or a model that is not loaded.', 404: 'No such item.' }),
        },
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
    {
      schema: {
        params: Type.Object({ request_id: IdSchema }),
        summary: 'A served list and its outcomes',
        description: 'The list served under `request_id`, and the events that carried it back.',
        tags: ['recommendations'],
        response: {
          200: Type.Object(
            { ...ImpressionSchema.properties, outcomes: Type.Array(Type.Ref(EventSchema)) },
            {
              ...closed,
              description: 'The impression, and the events whose `properties.request_id` names it.',
            },
          ),
          ...errors({ 404: 'No list was logged under this request id.' }),
        },
      },
    },
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
