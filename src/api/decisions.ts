import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { DecisionPointError, pointJson, type Decision, type PointStatus } from '../decisions/index.js';
import type { EngineConfig } from '../engine/index.js';
import { FieldError, readId } from '../events/index.js';
import type { JsonValue } from '../shared/types.js';
import { errorBody } from './errors.js';
import { DecisionPointSchema, JsonSchema, NoContent, decisionPointFields, errors } from './reply-schemas.js';
import { IdSchema } from './url-params.js';

export interface DecisionRoutesOptions {
  /** The engine configuration every app shares (limits in schemas); each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

/** A definition's fields are checked by `decisions/` (every message names the field); here only its type. */
const DefinitionSchema = Type.Object({}, { additionalProperties: true });
const Params = Type.Object({ id: IdSchema });

const Bound = Type.Object(
  { min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) },
  { additionalProperties: false },
);

const DecideSchema = Type.Object(
  {
    user_id: Type.String(),
    context: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    actions: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 256 })),
    limits: Type.Optional(Type.Record(Type.String(), Bound)),
  },
  { additionalProperties: false },
);

const RewardSchema = Type.Object(
  { decision_id: Type.String({ minLength: 1, maxLength: 64 }), value: Type.Number() },
  { additionalProperties: false },
);

const closed = { additionalProperties: false } as const;
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

const PolicySchema = Type.Union(
  [
    Type.Literal('learner'),
    Type.Literal('apprentice'),
    Type.Literal('default'),
    Type.Literal('uniform'),
    Type.Literal('guardrail'),
    Type.Literal('consent'),
  ],
  {
    description:
      'Who chose: the learner, the default action (apprentice, paused, guardrail, consent), uniform.',
  },
);

const DecisionReply = Type.Object(
  {
    decision_id: Type.String({ description: 'Name it when sending the reward.' }),
    point: Type.String(),
    action: Type.Object(
      {
        id: Type.String(),
        params: Type.Record(Type.String(), Type.Number()),
        payload: JsonSchema,
      },
      closed,
    ),
    propensity: Type.Number({ description: 'The chosen action’s probability under the policy that chose.' }),
    policy: PolicySchema,
    ranking: Type.Array(
      Type.Object({ id: Type.String(), score: NullableNumber, probability: Type.Number() }, closed),
      { description: 'Every offered action, most probable first.' },
    ),
    experiment: Type.Union([Type.Object({ id: Type.String(), variant: Type.String() }, closed), Type.Null()]),
    reward_deadline: Type.String({ description: 'ISO 8601: the end of the reward window.' }),
  },
  closed,
);

const StatusSchema = Type.Object(
  {
    decisions: Type.Integer(),
    closed: Type.Integer(),
    open: Type.Integer(),
    mean_reward: NullableNumber,
    learner: Type.Object(
      { kind: Type.String(), updates: Type.Integer(), saved_version: Type.Integer() },
      closed,
    ),
    apprentice: Type.Union([
      Type.Object(
        {
          rounds: Type.Integer(),
          default_value: NullableNumber,
          agreement: NullableNumber,
          agreed_value: NullableNumber,
          learned_value_bounds: Type.Union([
            Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }),
            Type.Null(),
          ]),
        },
        { ...closed, description: 'Apprentice mode: how the learner would have done.' },
      ),
      Type.Null(),
    ]),
    guardrail: Type.Union([
      Type.Object(
        {
          decisions: Type.Integer(),
          learner_value: NullableNumber,
          default_value: NullableNumber,
          difference: NullableNumber,
          upper_bound: NullableNumber,
          tripped: Type.Boolean(),
        },
        { ...closed, description: 'The learner against the default action.' },
      ),
      Type.Null(),
    ]),
  },
  closed,
);

const PointErrors = errors({
  400: 'An invalid field; the message names it.',
  404: 'No such decision point.',
  409: 'A conflict (the id is taken, or the change is not allowed).',
});

const CODES: Readonly<Record<number, string>> = {
  400: 'invalid_request',
  404: 'not_found',
  409: 'conflict',
  410: 'gone',
  422: 'unprocessable',
};

function decisionJson(decision: Decision): Static<typeof DecisionReply> {
  return {
    decision_id: decision.id,
    point: decision.point,
    action: {
      id: decision.action.id,
      params: decision.action.params,
      payload: decision.action.payload,
    },
    propensity: decision.propensity,
    policy: decision.policy,
    // Made for this reply by the decision points (`RankedAction`: these three fields only).
    ranking: [...decision.ranking],
    experiment: decision.experiment
      ? { id: decision.experiment.id, variant: decision.experiment.variant }
      : null,
    reward_deadline: new Date(decision.deadline).toISOString(),
  };
}

function statusJson(status: PointStatus): Static<typeof StatusSchema> {
  const apprentice = status.apprentice;
  const guardrail = status.guardrail;
  return {
    decisions: status.decisions,
    closed: status.closed,
    open: status.open,
    mean_reward: status.meanReward,
    learner: {
      kind: status.learner.kind,
      updates: status.learner.updates,
      saved_version: status.learner.savedVersion,
    },
    apprentice: apprentice && {
      rounds: apprentice.rounds,
      default_value: apprentice.defaultValue,
      agreement: apprentice.agreement,
      agreed_value: apprentice.agreedValue,
      learned_value_bounds: apprentice.learnedValueBounds,
    },
    guardrail: guardrail && {
      decisions: guardrail.decisions,
      learner_value: guardrail.learnerValue,
      default_value: guardrail.defaultValue,
      difference: guardrail.difference,
      upper_bound: guardrail.upperBound,
      tripped: guardrail.tripped,
    },
  };
}

/** Decision points (admin), decisions and their rewards. */
export const decisionRoutes: FastifyPluginAsyncTypebox<DecisionRoutesOptions> = async (app) => {
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof DecisionPointError) {
      const body = errorBody(CODES[error.status] ?? 'invalid_request', error.message);
      return reply.status(error.status).send(error.code ? { ...body, status: error.code } : body);
    }
    throw error;
  });

  app.post(
    '/v1/decision-points',
    {
      schema: {
        body: DefinitionSchema,
        summary: 'Create a decision point',
        description:
          'Actions (with params and payloads), features, learner (linucb, thompson, epsilon_greedy), mode, ' +
          'default action, reward (explicit or an event within a window), rules and guardrails.',
        tags: ['decisions'],
        response: { 201: Type.Ref(DecisionPointSchema), ...PointErrors },
      },
    },
    async (request, reply) => {
      const point = await request.engine.decisions.create(request.body);
      return reply.status(201).send(pointJson(point));
    },
  );

  app.get(
    '/v1/decision-points',
    {
      schema: {
        summary: 'List decision points',
        tags: ['decisions'],
        response: {
          200: Type.Object({ decision_points: Type.Array(Type.Ref(DecisionPointSchema)) }, closed),
        },
      },
    },
    async (request) => ({
      decision_points: request.engine.decisions.list().map(pointJson),
    }),
  );

  app.get(
    '/v1/decision-points/:id',
    {
      schema: {
        params: Params,
        summary: 'Get a decision point and its status',
        description: 'The definition, with its decisions, rewards, learner, apprentice and guardrail status.',
        tags: ['decisions'],
        response: {
          200: Type.Object({ ...decisionPointFields, status: StatusSchema }, closed),
          ...errors({ 404: 'No such decision point.' }),
        },
      },
    },
    async (request) => {
      const point = request.engine.decisions.get(request.params.id);
      return { ...pointJson(point), status: statusJson(await request.engine.decisions.status(point.id)) };
    },
  );

  app.put(
    '/v1/decision-points/:id',
    {
      schema: {
        params: Params,
        body: DefinitionSchema,
        summary: 'Replace a decision point',
        description:
          'A new revision; `learner_reset` says whether the change reset what the learner had learnt.',
        tags: ['decisions'],
        response: {
          200: Type.Object({ ...decisionPointFields, learner_reset: Type.Boolean() }, closed),
          ...PointErrors,
        },
      },
    },
    async (request) => {
      const { point, learnerReset } = await request.engine.decisions.replace(request.params.id, request.body);
      return { ...pointJson(point), learner_reset: learnerReset };
    },
  );

  app.delete(
    '/v1/decision-points/:id',
    {
      schema: {
        params: Params,
        summary: 'Delete a decision point',
        tags: ['decisions'],
        response: { 204: NoContent, ...errors({ 404: 'No such decision point.' }) },
      },
    },
    async (request, reply) => {
      await request.engine.decisions.remove(request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/v1/decisions/:id',
    {
      schema: {
        params: Params,
        body: DecideSchema,
        summary: 'Decide',
        description:
          'The point’s learner chooses among the offered actions for the user and context (within `actions` ' +
          'and the parameter `limits`, when given). Send the reward with `decision_id` before the deadline, or ' +
          'let the point’s reward event close it.',
        tags: ['decisions'],
        response: {
          200: DecisionReply,
          ...errors({
            400: 'An invalid field; the message names it.',
            404: 'No such decision point.',
            422: 'No action can be offered (every one excluded by the request or the rules).',
          }),
        },
      },
    },
    async (request) => {
      const body = request.body;
      const userId = readId(body.user_id, 'user_id');
      if (userId instanceof FieldError) throw new DecisionPointError(400, 'user_id', userId.message);
      const decision = await request.engine.decisions.decide(request.params.id, {
        userId,
        context: (body.context ?? {}) as { [key: string]: JsonValue },
        available: body.actions ?? null,
        limits: body.limits ?? {},
      });
      return decisionJson(decision);
    },
  );

  app.post(
    '/v1/decisions/:id/reward',
    {
      schema: {
        params: Params,
        body: RewardSchema,
        summary: 'Send a decision’s reward',
        tags: ['decisions'],
        response: {
          200: Type.Object(
            { status: Type.Literal('recorded'), decision_id: Type.String(), reward: Type.Number() },
            closed,
          ),
          ...errors({
            400: 'An invalid field.',
            404: 'No such decision point or decision.',
            409: 'The decision already has its reward (`status`: `duplicate`).',
            410: 'The reward window has closed (`status`: `late`).',
          }),
        },
      },
    },
    async (request) => {
      const { decision_id: decisionId, value } = request.body;
      const result = await request.engine.decisions.reward(request.params.id, decisionId, value);
      return { status: result.status, decision_id: result.decision, reward: result.reward };
    },
  );
};
