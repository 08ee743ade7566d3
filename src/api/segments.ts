import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig } from '../engine/index.js';
import type { SegmentModel } from '../segments/index.js';
import { consentWithheldBody, errorBody, unknownUserBody } from './errors.js';
import { TimeSchema, errors } from './reply-schemas.js';
import { IdSchema } from './url-params.js';

export interface SegmentRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const Params = Type.Object({ id: IdSchema });

const closed = { additionalProperties: false } as const;
const Algorithm = Type.Union([Type.Literal('kmeans'), Type.Literal('dbscan')]);
const NO_MODEL_TEXT = 'No segments are trained yet (`no_segments_model`).';

const SegmentsReply = Type.Object(
  {
    model: Type.Object(
      {
        version: Type.Integer(),
        algorithm: Algorithm,
        trained_at: TimeSchema,
        features_at: TimeSchema,
        users: Type.Integer(),
        silhouette: Type.Union([Type.Number(), Type.Null()], {
          description: 'Mean silhouette on a sample; null under two clusters.',
        }),
        columns: Type.Array(Type.String()),
      },
      closed,
    ),
    segments: Type.Array(
      Type.Object(
        {
          id: Type.String({ description: '`seg-1`, `seg-2`, … by size; `unsegmented` for DBSCAN’s noise.' }),
          size: Type.Integer(),
          share: Type.Number(),
          description: Type.String({ description: 'The segment in words.' }),
          features: Type.Array(
            Type.Object(
              {
                name: Type.String(),
                column: Type.String(),
                direction: Type.Union([Type.Literal('higher'), Type.Literal('lower')]),
                effect: Type.Number({ description: '(segment mean − rest mean) / overall sd.' }),
                segment_mean: Type.Number(),
                rest_mean: Type.Number(),
              },
              closed,
            ),
            { description: 'Most distinctive first.' },
          ),
        },
        closed,
      ),
    ),
  },
  closed,
);

const UserSegmentReply = Type.Object(
  {
    user_id: Type.String(),
    at: TimeSchema,
    segment: Type.Object({ id: Type.String(), description: Type.String() }, closed),
    distance: Type.Number({ description: 'To the nearest centre or core point, in standardized units.' }),
    confidence: Type.Number({ description: '1 at the centre, 0 on a boundary (or for noise).' }),
    model: Type.Object({ version: Type.Integer(), algorithm: Algorithm }, closed),
  },
  closed,
);

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
  app.get(
    '/v1/segments',
    {
      schema: {
        summary: 'Trained segments',
        description:
          'The segments `attune segments train` stored, each described by its distinctive features.',
        tags: ['segments'],
        response: { 200: SegmentsReply, ...errors({ 404: NO_MODEL_TEXT }) },
      },
    },
    async (request, reply) => {
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
    },
  );

  app.get(
    '/v1/users/:id/segment',
    {
      schema: {
        params: Params,
        summary: 'A user’s segment',
        description: 'The segment of the user’s online features now: the nearest centre, or core point.',
        tags: ['segments'],
        response: {
          200: UserSegmentReply,
          ...errors({
            404: `${NO_MODEL_TEXT} Or nothing is known of the user.`,
            451: 'The user’s consent withholds personalization (`consent_withheld`).',
          }),
        },
      },
    },
    async (request, reply) => {
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
    },
  );
};
