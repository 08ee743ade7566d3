import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DecisionPointError, pointJson, type Decision, type PointStatus } from '../decisions/index.js';
import type { EngineConfig } from '../engine/index.js';
import { FieldError, readId } from '../events/index.js';
import type { JsonValue } from '../shared/types.js';
import { errorBody } from './errors.js';
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

const CODES: Readonly<Record<number, string>> = {
  400: 'invalid_request',
  404: 'not_found',
  409: 'conflict',
  410: 'gone',
  422: 'unprocessable',
};

function decisionJson(decision: Decision): { [key: string]: JsonValue } {
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
    ranking: decision.ranking.map((r) => ({ id: r.id, score: r.score, probability: r.probability })),
    experiment: decision.experiment
      ? { id: decision.experiment.id, variant: decision.experiment.variant }
      : null,
    reward_deadline: new Date(decision.deadline).toISOString(),
  };
}

function statusJson(status: PointStatus): { [key: string]: JsonValue } {
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

  app.post('/v1/decision-points', { schema: { body: DefinitionSchema } }, async (request, reply) => {
    const point = await request.engine.decisions.create(request.body);
    return reply.status(201).send(pointJson(point));
  });

  app.get('/v1/decision-points', async (request) => ({
    decision_points: request.engine.decisions.list().map(pointJson),
  }));

  app.get('/v1/decision-points/:id', { schema: { params: Params } }, async (request) => {
    const point = request.engine.decisions.get(request.params.id);
    return { ...pointJson(point), status: statusJson(await request.engine.decisions.status(point.id)) };
  });

  app.put(
    '/v1/decision-points/:id',
    { schema: { params: Params, body: DefinitionSchema } },
    async (request) => {
      const { point, learnerReset } = await request.engine.decisions.replace(request.params.id, request.body);
      return { ...pointJson(point), learner_reset: learnerReset };
    },
  );

  app.delete('/v1/decision-points/:id', { schema: { params: Params } }, async (request, reply) => {
    await request.engine.decisions.remove(request.params.id);
    return reply.status(204).send();
  });

  app.post('/v1/decisions/:id', { schema: { params: Params, body: DecideSchema } }, async (request) => {
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
  });

  app.post(
    '/v1/decisions/:id/reward',
    { schema: { params: Params, body: RewardSchema } },
    async (request) => {
      const { decision_id: decisionId, value } = request.body;
      const result = await request.engine.decisions.reward(request.params.id, decisionId, value);
      return { status: result.status, decision_id: result.decision, reward: result.reward };
    },
  );
};
