import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig } from '../engine/index.js';
import { FieldError, readId } from '../events/index.js';
import { MAX_RANK_ITEMS } from '../ranking/rank-items.js';
import { errorBody } from './errors.js';
import { errors } from './reply-schemas.js';
import { IdSchema } from './url-params.js';

export interface RankRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const Body = Type.Object(
  {
    user_id: IdSchema,
    items: Type.Array(IdSchema, { minItems: 1, maxItems: MAX_RANK_ITEMS }),
    /** Request context (device, page, …): accepted for callers' logs; the current features do not read it. */
    context: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    ),
  },
  { additionalProperties: false },
);

const Contribution = Type.Object(
  {
    feature: Type.String(),
    /** `null` when the feature is missing for this user and item (no category, no history). */
    value: Type.Union([Type.Number(), Type.Null()], {
      description: 'null when missing for this user and item.',
    }),
    contribution: Type.Number(),
  },
  { additionalProperties: false },
);

const Reply = Type.Object(
  {
    user_id: Type.String(),
    ranked_by: Type.String({ description: 'The re-ranker, or the model whose scores ordered the items.' }),
    model_version: Type.Union([Type.Number(), Type.Null()]),
    base: Type.Number({ description: 'The base value: base plus every contribution is the score.' }),
    note: Type.Union([Type.String(), Type.Null()], { description: 'Why there is no re-ranker, or null.' }),
    items: Type.Array(
      Type.Object(
        {
          item_id: Type.String(),
          score: Type.Number(),
          reason: Type.String({ description: 'The three largest contributions in words.' }),
          contributions: Type.Array(Contribution),
        },
        { additionalProperties: false },
      ),
      { description: 'In ranked order, best first.' },
    ),
    unknown_items: Type.Array(Type.String(), { description: 'Ids the model does not know: not ranked.' }),
  },
  { additionalProperties: false },
);

/**
 * `POST /v1/rank`: the caller's candidates for a user in the re-ranker's order, each with its score and
 * the features behind it (TreeSHAP: `base` plus every contribution is the score; `reason` names the three
 * largest in words). Ids the bundle does not know are listed in `unknown_items`, not ranked. Without a
 * re-ranker the primary model's score orders them and `note` says why.
 */
export const rankRoutes: FastifyPluginAsyncTypebox<RankRoutesOptions> = async (app) => {
  app.post(
    '/v1/rank',
    {
      schema: {
        body: Body,
        summary: 'Rank a user’s candidates',
        description:
          'The caller’s items for the user in the re-ranker’s order, each with its score and the features ' +
          'behind it (TreeSHAP). Without a re-ranker the primary model’s scores order them and `note` says why.',
        tags: ['ranking'],
        response: { 200: Reply, ...errors({ 400: 'An invalid field; the message names it.' }) },
      },
    },
    async (request, reply) => {
      // The schema checks the ids' type only; their content is checked as everywhere else (not empty, not
      // blank, at most 256 characters), so that an id ranked is one that could have been stored.
      const ids = [request.body.user_id, ...request.body.items].map((value, i) =>
        readId(value, i === 0 ? 'user_id' : `items[${i - 1}]`),
      );
      const refused = ids.find((id) => id instanceof FieldError);
      if (refused !== undefined) {
        return reply
          .status(400)
          .send(errorBody('invalid_request', `body field "${refused.field}": ${refused.message}`));
      }
      const [userId = '', ...items] = ids as string[];
      const result = await request.engine.rank(userId, items);
      return {
        user_id: userId,
        ranked_by: result.rankedBy,
        model_version: result.modelVersion,
        base: result.base,
        note: result.note,
        items: result.items.map((item) => ({
          item_id: item.itemId,
          score: item.score,
          reason: item.reason,
          contributions: item.contributions.map((c) => ({
            feature: c.feature,
            value: Number.isFinite(c.value) ? c.value : null,
            contribution: c.contribution,
          })),
        })),
        unknown_items: [...result.unknown],
      };
    },
  );
};
