import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../engine/index.js';
import { formatTime } from '../events/index.js';
import type { BundleInfo } from '../training/index.js';

export interface AdminRoutesOptions {
  readonly engine: Engine;
}

export function bundleJson(info: BundleInfo) {
  return {
    version: info.version,
    trained_at: formatTime(info.trainedAt),
    primary_model: info.primary,
    events_read: info.eventsRead,
    users: info.users,
    items: info.items,
    interactions: info.interactions,
    fit_seconds: info.fitSeconds,
    // What automatic selection tried and chose for this version; null when the model was fixed by config.
    selection: info.selection ?? null,
  };
}

/** Training on demand and what is serving. */
export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (app, { engine }) => {
  app.post(
    '/v1/admin/train',
    { schema: { querystring: Type.Object({ wait: Type.Boolean({ default: false }) }) } },
    async (request, reply) => {
      const run = engine.train();
      if (request.query.wait) {
        const info = await run;
        return { status: 'serving', model: bundleJson(info) };
      }
      run.catch((error: unknown) => request.log.error({ err: error }, 'training failed'));
      return reply.status(202).send({ status: 'training' });
    },
  );

  app.get('/v1/models', async () => {
    const serving = engine.servingBundle;
    const versions = await engine.listBundles();
    return {
      serving: serving ? bundleJson(serving) : null,
      training: engine.trainingState,
      versions: versions.map((v) => ({
        version: v.version,
        created_at: formatTime(v.createdAt),
        bytes: v.bytes,
      })),
    };
  });
};
