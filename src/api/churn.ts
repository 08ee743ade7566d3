import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig } from '../engine/index.js';
import { consentWithheldBody, errorBody, unknownUserBody } from './errors.js';
import { TimeSchema, errors } from './reply-schemas.js';
import { IdSchema } from './url-params.js';

export interface ChurnRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const Params = Type.Object({ id: IdSchema });
const closed = { additionalProperties: false } as const;

const ChurnReply = Type.Object(
  {
    user_id: Type.String(),
    at: TimeSchema,
    probability: Type.Number({ description: 'Of no qualifying event within the model’s window from `at`.' }),
    risk_band: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
    drivers: Type.Array(
      Type.Object(
        {
          feature: Type.String(),
          value: Type.Union([Type.Number(), Type.Null()], { description: 'null when missing.' }),
          contribution: Type.Number({ description: 'Its share of the log-odds; positive raises the risk.' }),
          text: Type.String({ description: 'The driver in words.' }),
        },
        closed,
      ),
      { description: 'The features that move the risk most.' },
    ),
    model: Type.Object(
      {
        version: Type.Integer(),
        trained_at: TimeSchema,
        kind: Type.Union([Type.Literal('gbdt'), Type.Literal('logreg')]),
        window_days: Type.Number(),
      },
      closed,
    ),
  },
  closed,
);

/**
 * A user's churn risk from the newest model `attune churn train` stored, on the user's online features at
 * the engine's clock: the probability of no qualifying event within the model's window from now, its risk
 * band and the three features that move it most, in words.
 */
export const churnRoutes: FastifyPluginAsyncTypebox<ChurnRoutesOptions> = async (app) => {
  app.get(
    '/v1/users/:id/churn',
    {
      schema: {
        params: Params,
        summary: 'A user’s churn risk',
        description:
          'The probability the user does nothing that counts within the model’s window, its risk band and ' +
          'the features behind it, on the user’s online features now.',
        tags: ['churn'],
        response: {
          200: ChurnReply,
          ...errors({
            404: 'No churn model is trained yet (`no_churn_model`), or nothing is known of the user.',
            451: 'The user’s consent withholds personalization (`consent_withheld`).',
          }),
        },
      },
    },
    async (request, reply) => {
      const userId = request.params.id;
      const result = await request.engine.userChurn(userId);
      if ('withheld' in result) return reply.status(451).send(consentWithheldBody(userId, result.withheld));
      if ('unknown' in result) {
        return result.unknown === 'model'
          ? reply
              .status(404)
              .send(errorBody('no_churn_model', 'no churn model is trained yet: run `attune churn train`'))
          : reply.status(404).send(unknownUserBody(userId));
      }
      const { score, model, at } = result;
      return {
        user_id: userId,
        at: new Date(at).toISOString(),
        probability: score.probability,
        risk_band: score.riskBand,
        drivers: score.drivers,
        model: {
          version: model.version,
          trained_at: new Date(model.trainedAt).toISOString(),
          kind: model.data.model.kind,
          window_days: model.data.windowMs / 86_400_000,
        },
      };
    },
  );
};
