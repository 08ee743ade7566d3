import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig } from '../engine/index.js';
import type { SegmentModel } from '../segments/index.js';
import { consentWithheldBody, errorBody, unknownUserBody } from './errors.js';
import { IdSchema } from './url-params.js';

export interface SegmentRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const Params = Type.Object({ id: IdSchema });

const NO_MODEL = errorBody('no_segments_model', 'no segments are trained yet: run `attune segments train`');

function modelJson(model: SegmentModel) {
  const { data } = model;
  return {
    version: model.version,
    algorithm: data.clustering.algorithm,
    trained_at: new Date(data.trainedAt).toISOString(),
    features_at: new Date(data.at).toISOString(),
    users: data.users,
    silhouette: data.silhouette,
    columns: data.columns.map((c) => c.name),
  };
}

/**
 * The segments `attune segments train` stored, and the segment of one user on their online features at
 * the engine's clock (the nearest k-means centre, or DBSCAN's nearest core point within eps).
 */
export const segmentRoutes: FastifyPluginAsyncTypebox<SegmentRoutesOptions> = async (app) => {
  app.get('/v1/segments', async (request, reply) => {
    const model = request.engine.segments;
    if (model === null) return reply.status(404).send(NO_MODEL);
    return {
      model: modelJson(model),
      segments: model.data.segments.map((s) => ({
        id: s.id,
        size: s.size,
        share: s.share,
        description: s.description,
        features: s.features.map((f) => ({
          name: f.name,
          column: f.column,
          direction: f.direction,
          effect: f.effect,
          segment_mean: f.segmentMean,
          rest_mean: f.restMean,
        })),
      })),
    };
  });

  app.get('/v1/users/:id/segment', { schema: { params: Params } }, async (request, reply) => {
    const userId = request.params.id;
    const result = await request.engine.userSegment(userId);
    if ('withheld' in result) return reply.status(451).send(consentWithheldBody(userId, result.withheld));
    if ('unknown' in result) {
      return result.unknown === 'model'
        ? reply.status(404).send(NO_MODEL)
        : reply.status(404).send(unknownUserBody(userId));
    }
    const { assignment, model, at } = result;
    return {
      user_id: userId,
      at: new Date(at).toISOString(),
      segment: { id: assignment.segment.id, description: assignment.segment.description },
      distance: assignment.distance,
      confidence: assignment.confidence,
      model: { version: model.version, algorithm: model.data.clustering.algorithm },
    };
  });
};
