import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig, TrainingRun } from '../engine/index.js';
import { formatTime } from '../events/index.js';
import { TrainingLeaseHeldError, storedPosition, type BundleInfo } from '../training/index.js';
import { errorBody } from './errors.js';

export interface AdminRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

export function bundleJson(info: BundleInfo) {
  return {
    version: info.version,
    trained_at: formatTime(info.trainedAt),
    // The event-log position trained through: versions are ordered by it first (then by version).
    position: info.position,
    primary_model: info.primary,
    events_read: info.eventsRead,
    users: info.users,
    items: info.items,
    interactions: info.interactions,
    fit_seconds: info.fitSeconds,
    // What automatic selection tried and chose for this version; null when the model was fixed by config.
    selection: info.selection ?? null,
    // Whether this version re-ranks the model's top candidates, what validation measured, or why not; null
    // when the run did not try (ATTUNE_RERANK=off, or a version trained before re-rankers existed).
    reranking: info.reranking ?? null,
  };
}

/** Training on demand and what is serving. */
export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (app) => {
  app.post(
    '/v1/admin/train',
    { schema: { querystring: Type.Object({ wait: Type.Boolean({ default: false }) }) } },
    async (request, reply) => {
      let run: TrainingRun;
      try {
        run = await request.engine.beginTraining();
      } catch (error) {
        // Another process (or `attune train`) is training: say who and since when, and change nothing.
        if (error instanceof TrainingLeaseHeldError) {
          return reply.status(409).send(errorBody('training_in_progress', error.message));
        }
        throw error;
      }
      if (request.query.wait) {
        const info = await run.done;
        // 'superseded': stored, but a bundle trained on later events already serves.
        const serving = request.engine.servingBundle?.version === info.version;
        return { status: serving ? 'serving' : 'superseded', model: bundleJson(info) };
      }
      // The engine logs a failed run with its cause and counts it.
      run.done.catch(() => undefined);
      return reply.status(202).send({ status: 'training' });
    },
  );

  app.get('/v1/models', async (request) => {
    const serving = request.engine.servingBundle;
    const versions = await request.engine.listBundles();
    return {
      // `chosen`: the model or blend that serves, with its parameters, as `attune evaluate --choice` takes it.
      serving: serving ? { ...bundleJson(serving), chosen: request.engine.servingChoice() } : null,
      training: request.engine.trainingState,
      versions: versions.map((v) => ({
        version: v.version,
        created_at: formatTime(v.createdAt),
        position: storedPosition(v.meta),
        bytes: v.bytes,
      })),
    };
  });
};
