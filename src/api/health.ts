import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Engine } from '../engine/index.js';

export interface HealthRoutesOptions {
  readonly engine: Engine;
}

/** Readiness (a model is loaded) and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { engine }) => {
  app.get('/health', async (_request, reply) => {
    const bundle = engine.servingBundle;
    if (!bundle)
      return reply
        .status(503)
        .send({ status: 'starting', model_version: null, training: engine.trainingState });
    return { status: 'ready', model_version: bundle.version, primary_model: bundle.primary };
  });

  app.get('/metrics', async (_request, reply) => {
    const { registry } = engine.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};
