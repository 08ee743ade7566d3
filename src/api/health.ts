import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { EngineConfig } from '../engine/index.js';

export interface HealthRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

/** Readiness (a model is loaded) and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app) => {
  app.get('/health', async (request, reply) => {
    const bundle = request.engine.servingBundle;
    if (!bundle)
      return reply
        .status(503)
        .send({ status: 'starting', model_version: null, training: request.engine.trainingState });
    return { status: 'ready', model_version: bundle.version, primary_model: bundle.primary };
  });

  app.get('/metrics', async (request, reply) => {
    const { registry } = request.engine.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};
