import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EngineConfig, TrainingRun } from '../engine/index.js';
import { formatTime } from '../events/index.js';
import { TrainingLeaseHeldError, storedPosition, type BundleInfo } from '../training/index.js';
import { errorBody } from './errors.js';
import { TrainingStateSchema } from './health.js';
import { JsonSchema, ModelVersionSchema, TimeSchema, errors } from './reply-schemas.js';

export interface AdminRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const closed = { additionalProperties: false } as const;

const TrainReply = Type.Object(
  {
    status: Type.Union([Type.Literal('serving'), Type.Literal('superseded')], {
      description: '`superseded`: stored, but a version trained on later events already serves.',
    }),
    model: Type.Ref(ModelVersionSchema),
  },
  { ...closed, description: 'With `wait=true`: the run finished.' },
);

const ModelsReply = Type.Object(
  {
    serving: Type.Union([
      Type.Object(
        {
          ...ModelVersionSchema.properties,
          chosen: Type.Union(
            [Type.Object({ model: Type.String(), params: JsonSchema }, closed), Type.Null()],
            {
              description:
                'The model or blend that serves, with its parameters (`attune evaluate --choice`).',
            },
          ),
        },
        closed,
      ),
      Type.Null(),
    ]),
    training: TrainingStateSchema,
    versions: Type.Array(
      Type.Object(
        {
          version: Type.Integer(),
          created_at: TimeSchema,
          position: Type.Integer({ description: 'The event-log position trained through.' }),
          bytes: Type.Integer(),
        },
        closed,
      ),
    ),
  },
  closed,
);

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
    {
      schema: {
        querystring: Type.Object({ wait: Type.Boolean({ default: false }) }),
        summary: 'Train a model now',
        description:
          'Starts a training run (202), or with `wait=true` waits for it and answers with the new version. ' +
          '409 while another process trains.',
        tags: ['admin'],
        response: {
          200: TrainReply,
          202: Type.Object(
            { status: Type.Literal('training') },
            { ...closed, description: 'The run started.' },
          ),
          ...errors({ 409: 'Another process is training (`training_in_progress`).' }),
        },
      },
    },
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
        return { status: serving ? ('serving' as const) : ('superseded' as const), model: bundleJson(info) };
      }
      // The engine logs a failed run with its cause and counts it.
      run.done.catch(() => undefined);
      return reply.status(202).send({ status: 'training' as const });
    },
  );

  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'Model versions',
        description: 'The serving version, whether a run is under way, and every stored version.',
        tags: ['admin'],
        response: { 200: ModelsReply },
      },
    },
    async (request) => {
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
    },
  );
};
