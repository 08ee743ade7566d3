import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig } from '../engine/index.js';
import { consentWithheldBody, errorBody, unknownUserBody } from './errors.js';
import { IdSchema } from './url-params.js';

export interface ChurnRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const Params = Type.Object({ id: IdSchema });

/**
 * A user's churn risk from the newest model `attune churn train` stored, on the user's online features at
 * the engine's clock: the probability of no qualifying event within the model's window from now, its risk
 * band and the three features that move it most, in words.
 */
export const churnRoutes: FastifyPluginAsyncTypebox<ChurnRoutesOptions> = async (app) => {
  app.get('/v1/users/:id/churn', { schema: { params: Params } }, async (request, reply) => {
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
  });
};
