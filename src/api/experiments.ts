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
import {
  AssignmentSchema,
  AudienceOpSchema,
  ExperimentSchema,
  JsonSchema,
  TimeSchema,
  errors,
  readonlyArray,
} from './reply-schemas.js';
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
    op: AudienceOpSchema,
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

const closed = { additionalProperties: false } as const;
const open = (description: string) => Type.Object({}, { additionalProperties: true, description });
/** A statistic of the report: JSON has no NaN, so one that is undefined (no data, zero variance) is null. */
const Stat = (description?: string) =>
  Type.Union([Type.Number(), Type.Null()], description === undefined ? {} : { description });

const ExperimentReply = Type.Ref(ExperimentSchema);
const ExperimentErrors = errors({
  400: 'An invalid field; the message names it.',
  404: 'No such experiment.',
  409: 'A conflict: an older `revision`, a state change that is not allowed, a metric no longer defined.',
});

const VerdictSchema = Type.Object(
  {
    treatment: Type.String(),
    rel_lift: Stat('Relative lift over control.'),
    rel_ci: readonlyArray(Stat(), { description: 'Its always-valid interval [low, high].' }),
    chance_to_beat_control: Stat(),
    significant: Type.Boolean({ description: 'The always-valid interval excludes no change.' }),
    harmed: Type.Boolean({
      description: 'Significantly worse in the metric’s direction (a guardrail alarm).',
    }),
    p_adjusted: Stat('Holm-adjusted always-valid p-value across every treatment × metric.'),
    line: Type.String({ description: 'The verdict in words.' }),
  },
  closed,
);

const MetricReportSchema = Type.Object(
  {
    metric: Type.String(),
    kind: Type.String({ description: 'conversion, count, sum, retention or ratio.' }),
    role: Type.Union([Type.Literal('primary'), Type.Literal('secondary'), Type.Literal('guardrail')]),
    higher_is_better: Type.Boolean(),
    adjustment: Type.Union([Type.Literal('cuped'), Type.Literal('none')]),
    analysis: Type.Union(
      [
        Type.Object(
          {
            kind: Type.String(),
            control: Type.String(),
            treatments: readonlyArray(Type.String()),
            rows: Type.Integer({ description: 'Users, all variants together.' }),
            weights: Type.Record(Type.String(), Type.Number()),
            confidence: Type.Number(),
            z_crit: Stat(),
            variants: Type.Record(Type.String(), open('The variant’s summary statistics.')),
            comparisons: Type.Record(Type.String(), open('A treatment against control.')),
            srm: open('The sample-ratio test.'),
            corrections: Type.Optional(Type.Record(Type.String(), open('Multiple-testing corrections.'))),
            cuped: Type.Optional(open('The CUPED fit.')),
            unadjusted_comparisons: Type.Optional(
              Type.Record(Type.String(), open('A comparison on the raw values.')),
            ),
          },
          { ...closed, description: 'The full analysis, variant names as the experiment has them.' },
        ),
        Type.Null(),
      ],
      { description: 'Null when there is not enough data (see `problem`).' },
    ),
    problem: Type.Union([Type.String(), Type.Null()]),
    verdicts: readonlyArray(VerdictSchema),
    series: readonlyArray(
      Type.Object(
        {
          as_of: TimeSchema,
          users: Type.Record(Type.String(), Type.Number()),
          lift: Type.Record(
            Type.String(),
            Type.Union([
              Type.Object({ rel_lift: Stat(), ci_low: Stat(), ci_high: Stat() }, closed),
              Type.Null(),
            ]),
          ),
        },
        closed,
      ),
      { description: 'Daily cumulative users and lift per treatment.' },
    ),
  },
  closed,
);

const ReportReply = Type.Object(
  {
    experiment: Type.String(),
    name: Type.String(),
    status: Type.String(),
    as_of: TimeSchema,
    control: Type.String(),
    exposed: Type.Record(Type.String(), Type.Integer(), { description: 'Exposed users per variant.' }),
    sample_ratio: Type.Union([
      Type.Object({ chi2: Stat(), p_value: Stat(), mismatch: Type.Boolean() }, closed),
      Type.Null(),
    ]),
    metrics: readonlyArray(MetricReportSchema),
    summary: readonlyArray(Type.String(), { description: 'One line per metric and treatment.' }),
    scanned: Type.Object({ events: Type.Integer(), served_lists: Type.Integer() }, closed),
  },
  closed,
);

/** A metric definition (`experiments/metrics`), as stored: the body `PUT /v1/metrics/:name` takes. */
const MetricDefinition = Type.Object(
  {
    name: Type.String(),
    kind: Type.Union([
      Type.Literal('conversion'),
      Type.Literal('count'),
      Type.Literal('sum'),
      Type.Literal('retention'),
      Type.Literal('ratio'),
    ]),
    description: Type.Optional(Type.String()),
    higherIsBetter: Type.Optional(Type.Boolean()),
    windowHours: Type.Optional(Type.Number()),
    day: Type.Optional(Type.Integer({ description: 'retention: the day counted.' })),
    source: Type.Optional(
      Type.Union([Type.Literal('events'), Type.Literal('clicks'), Type.Literal('served_lists')]),
    ),
    event: Type.Optional(Type.Union([Type.String(), readonlyArray(Type.String())])),
    where: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
    ),
    value: Type.Optional(JsonSchema),
    numerator: Type.Optional(open('ratio: a count or sum.')),
    denominator: Type.Optional(open('ratio: a count or sum.')),
  },
  { ...closed, description: 'A metric definition; the fields present depend on `kind`.' },
);

const AssignmentsReply = Type.Object(
  {
    user_id: Type.String(),
    holdout: Type.Boolean({ description: 'The user is in the global holdout.' }),
    assignments: Type.Array(Type.Ref(AssignmentSchema)),
  },
  closed,
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

  app.post(
    '/v1/experiments',
    {
      schema: {
        body: CreateSchema,
        summary: 'Create an experiment',
        description: 'Created as a draft, or started at once with `start: true`.',
        tags: ['experiments'],
        response: { 201: ExperimentReply, ...ExperimentErrors },
      },
    },
    async (request, reply) => {
      const { start, variants, audience, ...rest } = request.body;
      const input: ExperimentInput = {
        ...rest,
        variants: variantInputs(variants),
        ...(audience === undefined ? {} : { audience: audienceInput(audience) }),
      };
      let experiment = await request.engine.experiments.create(input);
      if (start === true) experiment = await request.engine.experiments.start(experiment.id);
      return reply.status(201).send(experimentJson(experiment));
    },
  );

  app.get(
    '/v1/experiments',
    {
      schema: {
        summary: 'List experiments',
        tags: ['experiments'],
        response: {
          200: Type.Object(
            {
              experiments: Type.Array(ExperimentReply),
              holdout: Type.Object(
                { share: Type.Number({ description: 'The share of users in the global holdout.' }) },
                closed,
              ),
            },
            closed,
          ),
        },
      },
    },
    async (request) => ({
      experiments: request.engine.experiments.list().map((e) => experimentJson(e)),
      holdout: { share: request.engine.experiments.holdoutShare },
    }),
  );

  app.get(
    '/v1/experiments/:id',
    {
      schema: {
        params: Type.Object({ id: IdSchema }),
        summary: 'Get an experiment',
        description: 'The experiment, each variant with its exposed users so far.',
        tags: ['experiments'],
        response: { 200: ExperimentReply, ...errors({ 404: 'No such experiment.' }) },
      },
    },
    async (request, reply) => {
      const experiment = request.engine.experiments.get(request.params.id);
      if (!experiment)
        return reply.status(404).send(errorBody('not_found', `no experiment "${request.params.id}"`));
      return experimentJson(experiment, await request.engine.store.countExposures(experiment.id));
    },
  );

  app.patch(
    '/v1/experiments/:id',
    {
      schema: {
        params: Type.Object({ id: IdSchema }),
        body: UpdateSchema,
        summary: 'Change an experiment',
        description:
          'Name, description, traffic, variants, audience, metrics. With `revision`, refused (409) when the ' +
          'experiment changed since.',
        tags: ['experiments'],
        response: { 200: ExperimentReply, ...ExperimentErrors },
      },
    },
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
    {
      schema: {
        params: Type.Object({ id: IdSchema }),
        summary: 'Start an experiment',
        tags: ['experiments'],
        response: { 200: ExperimentReply, ...ExperimentErrors },
      },
    },
    async (request) => experimentJson(await request.engine.experiments.start(request.params.id)),
  );

  app.post(
    '/v1/experiments/:id/stop',
    {
      schema: {
        params: Type.Object({ id: IdSchema }),
        summary: 'Stop an experiment',
        tags: ['experiments'],
        response: { 200: ExperimentReply, ...ExperimentErrors },
      },
    },
    async (request) => experimentJson(await request.engine.experiments.stop(request.params.id)),
  );

  app.get(
    '/v1/experiments/:id/results',
    {
      schema: {
        params: Type.Object({ id: IdSchema }),
        summary: 'An experiment’s results',
        description:
          'Per metric: the analysis (CUPED where it helps), always-valid intervals, verdicts in words, the ' +
          'sample-ratio check and daily series. `holdout` reports the global holdout.',
        tags: ['experiments'],
        response: { 200: ReportReply, ...ExperimentErrors },
      },
    },
    async (request) => request.engine.experimentReport(request.params.id),
  );

  app.get(
    '/v1/metrics',
    {
      schema: {
        summary: 'List metric definitions',
        description: 'The built-in metrics and the ones defined with `PUT /v1/metrics/:name`.',
        tags: ['experiments'],
        response: {
          200: Type.Object(
            {
              metrics: Type.Array(
                Type.Object({ ...MetricDefinition.properties, built_in: Type.Boolean() }, closed),
              ),
            },
            closed,
          ),
        },
      },
    },
    async (request) => ({
      metrics: request.engine.metricCatalog
        .list()
        .map(({ definition, builtIn }) => ({ ...definition, built_in: builtIn })),
    }),
  );

  app.put(
    '/v1/metrics/:name',
    {
      schema: {
        params: Type.Object({ name: Type.String() }),
        body: Type.Object({}, { additionalProperties: true }),
        summary: 'Define a metric',
        description:
          'A conversion, count, sum, retention or ratio metric over events, clicks or served lists; the ' +
          'reply is the definition as stored.',
        tags: ['experiments'],
        response: {
          200: MetricDefinition,
          ...errors({
            400: 'An invalid definition; the message names the field.',
            409: 'A built-in metric.',
          }),
        },
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
    {
      schema: {
        querystring: Type.Object({ user_id: IdSchema }),
        summary: 'A user’s experiment assignments',
        description:
          'Whether the user is in the global holdout, and their variant in each running experiment.',
        tags: ['experiments'],
        response: { 200: AssignmentsReply },
      },
    },
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
        summary: 'Record a client-side exposure',
        description:
          'A client rendered the user’s variant of a client-side experiment: the first exposure per user ' +
          'counts. The reply is the user’s assignment.',
        tags: ['experiments'],
        response: {
          202: Type.Object({ user_id: Type.String(), ...AssignmentSchema.properties }, closed),
          ...ExperimentErrors,
        },
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
