import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { EngineConfig } from '../engine/index.js';
import { FieldError, formatTime, readId, readTime } from '../events/index.js';
import {
  ExperimentError,
  targetText,
  type Assignment,
  type AudienceCondition,
  type Experiment,
  type ExperimentInput,
  type ExperimentUpdate,
  type VariantInput,
} from '../experiments/index.js';
import type { JsonValue } from '../shared/types.js';
import { errorBody } from './errors.js';
import { IdSchema } from './url-params.js';

export interface ExperimentRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);

const VariantSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    weight: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    control: Type.Optional(Type.Boolean()),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    preset: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    config: Type.Optional(Type.Unknown()),
    policy: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const AudienceSchema = Type.Object(
  {
    trait: Type.String({ minLength: 1, maxLength: 256 }),
    op: Type.Union(
      (['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'exists'] as const).map((op) => Type.Literal(op)),
    ),
    value: Type.Optional(Type.Union([Scalar, Type.Array(Scalar, { maxItems: 1000 })])),
  },
  { additionalProperties: false },
);

const MetricList = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 });

const CreateSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    target: Type.Optional(Type.String()),
    layer: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    traffic: Type.Optional(Type.Number()),
    variants: Type.Array(VariantSchema, { minItems: 2, maxItems: 20 }),
    audience: Type.Optional(Type.Array(AudienceSchema, { maxItems: 50 })),
    metrics: Type.Optional(MetricList),
    guardrails: Type.Optional(MetricList),
    salt: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    start: Type.Optional(Type.Boolean({ description: 'start at once (default: created as a draft)' })),
  },
  { additionalProperties: false },
);

const UpdateSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    traffic: Type.Optional(Type.Number()),
    variants: Type.Optional(Type.Array(VariantSchema, { minItems: 2, maxItems: 20 })),
    audience: Type.Optional(Type.Array(AudienceSchema, { maxItems: 50 })),
    metrics: Type.Optional(MetricList),
    guardrails: Type.Optional(MetricList),
    revision: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

// `config` is any JSON the body parser produced, so it is a JsonValue by construction.
const variantInputs = (variants: Static<typeof VariantSchema>[]): VariantInput[] =>
  variants.map(({ config, ...v }) => ({
    ...v,
    ...(config === undefined ? {} : { config: config as JsonValue }),
  }));

const audienceInput = (audience: Static<typeof AudienceSchema>[]): AudienceCondition[] =>
  audience.map((a) => ({ ...a }));

export function experimentJson(experiment: Experiment, exposures?: Record<string, number>) {
  const time = (t: number | null) => (t === null ? null : formatTime(t));
  return {
    id: experiment.id,
    name: experiment.name,
    description: experiment.description,
    status: experiment.status,
    target: targetText(experiment.target),
    layer: experiment.layer,
    traffic: experiment.traffic,
    layer_range: [experiment.slice.start, experiment.slice.start + experiment.traffic],
    variants: experiment.variants.map((v) => ({
      name: v.name,
      weight: v.weight,
      control: v.control,
      ...(v.treatment.model === undefined ? {} : { model: v.treatment.model }),
      ...(v.treatment.preset === undefined ? {} : { preset: v.treatment.preset }),
      ...(v.treatment.config === undefined ? {} : { config: v.treatment.config }),
      ...(v.treatment.policy === undefined ? {} : { policy: v.treatment.policy }),
      ...(exposures === undefined ? {} : { exposed_users: exposures[v.name] ?? 0 }),
    })),
    audience: experiment.audience,
    metrics: experiment.metrics,
    guardrails: experiment.guardrails,
    created_at: formatTime(experiment.createdAt),
    updated_at: formatTime(experiment.updatedAt),
    started_at: time(experiment.startedAt),
    stopped_at: time(experiment.stoppedAt),
    revision: experiment.revision,
  };
}

export function assignmentJson(assignment: Assignment) {
  return {
    experiment: assignment.experiment,
    variant: assignment.variant,
    control: assignment.control,
    ...(assignment.treatment.model === undefined ? {} : { model: assignment.treatment.model }),
    ...(assignment.treatment.preset === undefined ? {} : { preset: assignment.treatment.preset }),
    ...(assignment.treatment.policy === undefined ? {} : { policy: assignment.treatment.policy }),
    config: assignment.treatment.config ?? null,
  };
}

/** Experiments (admin), assignments and client-side exposures. */
export const experimentRoutes: FastifyPluginAsyncTypebox<ExperimentRoutesOptions> = async (app) => {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ExperimentError) {
      const code = error.status === 404 ? 'not_found' : error.status === 409 ? 'conflict' : 'invalid_request';
      return reply.status(error.status).send(errorBody(code, error.message));
    }
    throw error;
  });

  app.post('/v1/experiments', { schema: { body: CreateSchema } }, async (request, reply) => {
    const { start, variants, audience, ...rest } = request.body;
    const input: ExperimentInput = {
      ...rest,
      variants: variantInputs(variants),
      ...(audience === undefined ? {} : { audience: audienceInput(audience) }),
    };
    let experiment = await request.engine.experiments.create(input);
    if (start === true) experiment = await request.engine.experiments.start(experiment.id);
    return reply.status(201).send(experimentJson(experiment));
  });

  app.get('/v1/experiments', async (request) => ({
    experiments: request.engine.experiments.list().map((e) => experimentJson(e)),
    holdout: { share: request.engine.experiments.holdoutShare },
  }));

  app.get(
    '/v1/experiments/:id',
    { schema: { params: Type.Object({ id: IdSchema }) } },
    async (request, reply) => {
      const experiment = request.engine.experiments.get(request.params.id);
      if (!experiment)
        return reply.status(404).send(errorBody('not_found', `no experiment "${request.params.id}"`));
      return experimentJson(experiment, await request.engine.store.countExposures(experiment.id));
    },
  );

  app.patch(
    '/v1/experiments/:id',
    { schema: { params: Type.Object({ id: IdSchema }), body: UpdateSchema } },
    async (request) => {
      const { variants, audience, ...rest } = request.body;
      const update: ExperimentUpdate = {
        ...rest,
        ...(variants === undefined ? {} : { variants: variantInputs(variants) }),
        ...(audience === undefined ? {} : { audience: audienceInput(audience) }),
      };
      return experimentJson(await request.engine.experiments.update(request.params.id, update));
    },
  );

  app.post(
    '/v1/experiments/:id/start',
    { schema: { params: Type.Object({ id: IdSchema }) } },
    async (request) => experimentJson(await request.engine.experiments.start(request.params.id)),
  );

  app.post(
    '/v1/experiments/:id/stop',
    { schema: { params: Type.Object({ id: IdSchema }) } },
    async (request) => experimentJson(await request.engine.experiments.stop(request.params.id)),
  );

  app.get(
    '/v1/experiments/:id/results',
    { schema: { params: Type.Object({ id: IdSchema }) } },
    async (request) => request.engine.experimentReport(request.params.id),
  );

  app.get('/v1/metrics', async (request) => ({
    metrics: request.engine.metricCatalog
      .list()
      .map(({ definition, builtIn }) => ({ ...definition, built_in: builtIn })),
  }));

  app.put(
    '/v1/metrics/:name',
    {
      schema: {
        params: Type.Object({ name: Type.String() }),
        body: Type.Object({}, { additionalProperties: true }),
      },
    },
    async (request, reply) => {
      const body = request.body as Record<string, unknown>;
      if (body['name'] !== undefined && body['name'] !== request.params.name) {
        return reply
          .status(400)
          .send(
            errorBody('invalid_request', `body field "name": must equal the path's "${request.params.name}"`),
          );
      }
      return request.engine.metricCatalog.put({ ...body, name: request.params.name });
    },
  );

  app.get(
    '/v1/assignments',
    { schema: { querystring: Type.Object({ user_id: IdSchema }) } },
    async (request) => {
      const { holdout, assignments } = await request.engine.assignments(request.query.user_id);
      return { user_id: request.query.user_id, holdout, assignments: assignments.map(assignmentJson) };
    },
  );

  app.post(
    '/v1/exposures',
    {
      schema: {
        body: Type.Object(
          {
            user_id: Type.String({ minLength: 1, maxLength: 256 }),
            experiment: Type.String({ minLength: 1, maxLength: 64 }),
            timestamp: Type.Optional(Type.Union([Type.String(), Type.Number()])),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { experiment, timestamp } = request.body;
      const userId = readId(request.body.user_id, 'user_id');
      if (userId instanceof FieldError) {
        return reply
          .status(400)
          .send(errorBody('invalid_request', `body field "user_id": ${userId.message}`));
      }
      let at = request.engine.now();
      if (timestamp !== undefined) {
        const parsed = readTime(timestamp, 'timestamp');
        if (parsed instanceof FieldError) {
          return reply
            .status(400)
            .send(errorBody('invalid_request', `body field "timestamp": ${parsed.message}`));
        }
        // An exposure from the future would count events before the user saw anything.
        at = Math.min(parsed, at);
      }
      const assignment = await request.engine.exposeClient(userId, experiment, at);
      return reply.status(202).send({ user_id: userId, ...assignmentJson(assignment) });
    },
  );
};
