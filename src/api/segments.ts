import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../engine/index.js';
import type { SegmentModel } from '../segments/index.js';
import { errorBody, unknownUserBody } from './errors.js';
import { IdSchema } from './url-params.js';

export interface SegmentRoutesOptions {
  readonly engine: Engine;
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
export const segmentRoutes: FastifyPluginAsyncTypebox<SegmentRoutesOptions> = async (app, { engine }) => {
  app.get('/v1/segments', async (_request, reply) => {
    const model = engine.segments;
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
    const result = await engine.userSegment(userId);
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
