import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig } from '../engine/index.js';

export interface HealthRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

/** `Engine.trainingState`. */
export const TrainingStateSchema = Type.Object(
  {
    state: Type.Union([Type.Literal('idle'), Type.Literal('running')]),
    stage: Type.Optional(Type.String({ description: 'While running: the stage of the run.' })),
    done: Type.Optional(Type.Number()),
    total: Type.Optional(Type.Number()),
  },
  { additionalProperties: false, description: 'Whether a training run is under way, and how far it is.' },
);

const Ready = Type.Object(
  {
    status: Type.Literal('ready'),
    model_version: Type.Integer(),
    primary_model: Type.String(),
  },
  { additionalProperties: false, description: 'A model is loaded and serving.' },
);

const Starting = Type.Object(
  { status: Type.Literal('starting'), model_version: Type.Null(), training: TrainingStateSchema },
  {
    additionalProperties: false,
    description: 'No model is loaded yet (the first training run is under way).',
  },
);

/** Readiness (a model is loaded) and Prometheus metrics. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Readiness',
        description: 'Ready once a model is loaded; 503 while the first one trains.',
        tags: ['health'],
        response: { 200: Ready, 503: Starting },
      },
    },
    async (request, reply) => {
      const bundle = request.engine.servingBundle;
      if (!bundle)
        return reply
          .status(503)
          .send({ status: 'starting', model_version: null, training: request.engine.trainingState });
      return { status: 'ready' as const, model_version: bundle.version, primary_model: bundle.primary };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        description: 'The engine’s metrics in the Prometheus text format.',
        tags: ['health'],
        response: {
          200: {
            description: 'Prometheus text exposition format.',
            content: { 'text/plain': { schema: Type.String() } },
          },
        },
      },
    },
    async (request, reply) => {
      const { registry } = request.engine.metrics;
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
};
