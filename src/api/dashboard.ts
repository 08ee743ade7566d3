import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DecisionPointError } from '../decisions/index.js';
import {
  dashboardDecisionTimeline,
  dashboardExperimentTimeline,
  dashboardOverview,
  modelVersions,
  segmentProjection,
  type StoredModelVersion,
} from '../engine/dashboard.js';
import type { EngineConfig, TrainingState } from '../engine/index.js';
import { formatTime } from '../events/index.js';
import { ExperimentError } from '../experiments/index.js';
import type { ServedListClicks } from '../store/index.js';
import type { BundleInfo, RerankingRecord, SelectionRecord } from '../training/index.js';
import {
  DecisionTimelineQuerySchema,
  DecisionTimelineReplySchema,
  EventsQuerySchema,
  EventsReplySchema,
  ExperimentTimelineReplySchema,
  IdParamsSchema,
  ModelsReplySchema,
  OverviewReplySchema,
  ProjectionQuerySchema,
  ProjectionReplySchema,
  UsersQuerySchema,
  UsersReplySchema,
  type ClickThrough,
  type ModelVersion,
  type ServingModel,
  type TrainingStateJson,
  type TrialJson,
  type Validation,
} from './dashboard-schemas.js';
import { errorBody } from './errors.js';
import { eventToJson } from './events.js';

export interface DashboardRoutesOptions {
  /** The engine configuration every app shares; each request has its app's `request.engine`. */
  readonly config: EngineConfig;
}

const TAGS = ['dashboard'];

/** A 404 with its own code, thrown so that the reply schema stays the 200's. */
class NotFound extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function clickThroughJson({ lists, clicked }: ServedListClicks): ClickThrough {
  return { lists, clicked, rate: lists > 0 ? clicked / lists : null };
}

function trainingJson(state: TrainingState): TrainingStateJson {
  return state.state === 'idle' ? { state: 'idle' } : { ...state };
}

function validationJson(selection: SelectionRecord | null | undefined): Validation | null {
  if (!selection) return null;
  return {
    ndcg_at_20: selection.valNdcg,
    users: selection.validationUsers,
    pairs: selection.validationPairs,
    seconds: selection.seconds,
    fallback: selection.fallback,
  };
}

function rerankerJson(record: RerankingRecord | null | undefined): ServingModel['reranker'] {
  if (!record) return null;
  return {
    chosen: record.chosen,
    skipped: record.skipped,
    ndcg: record.info?.ndcg ?? null,
    generator_ndcg: record.info?.generatorNdcg ?? null,
  };
}

function servingJson(info: BundleInfo, choice: ServingModel['chosen'] | null): ServingModel {
  return {
    version: info.version,
    trained_at: formatTime(info.trainedAt),
    position: info.position,
    primary_model: info.primary,
    events_read: info.eventsRead,
    users: info.users,
    items: info.items,
    chosen: choice ?? { model: info.primary, params: null },
    validation: validationJson(info.selection),
    reranker: rerankerJson(info.reranking),
  };
}

function trialsJson(selection: SelectionRecord | null): TrialJson[] {
  if (!selection) return [];
  const chosen = JSON.stringify([selection.chosen.model, selection.chosen.params]);
  return selection.tried.map((t) => ({
    model: t.model,
    params: t.params,
    val_ndcg: t.valNdcg,
    seconds: t.seconds,
    skipped: t.skipped ?? null,
    ms_per_user: t.msPerUser ?? null,
    over_budget: t.overBudget ?? false,
    chosen: JSON.stringify([t.model, t.params]) === chosen,
  }));
}

function modelVersionJson(v: StoredModelVersion, servingVersion: number | null): ModelVersion {
  return {
    version: v.version,
    created_at: formatTime(v.createdAt),
    trained_at: v.trainedAt === null ? null : formatTime(v.trainedAt),
    position: v.position,
    bytes: v.bytes,
    serving: v.version === servingVersion,
    primary_model: v.primary,
    events_read: v.eventsRead,
    users: v.users,
    items: v.items,
    interactions: v.interactions,
    fit_seconds: { ...v.fitSeconds },
    chosen: v.selection ? { model: v.selection.chosen.model, params: v.selection.chosen.params } : null,
    validation: validationJson(v.selection),
    tried: trialsJson(v.selection),
    reranker: rerankerJson(v.reranking),
  };
}

/** The dashboard's data (admin): activity over time, model versions, experiments and decision points over time. */
export const dashboardRoutes: FastifyPluginAsyncTypebox<DashboardRoutesOptions> = async (app) => {
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof NotFound) return reply.status(404).send(errorBody(error.code, error.message));
    if (error instanceof ExperimentError || error instanceof DecisionPointError) {
      const code = error.status === 404 ? 'not_found' : 'invalid_request';
      return reply.status(error.status).send(errorBody(code, error.message));
    }
    throw error;
  });

  app.get(
    '/v1/dashboard/overview',
    {
      schema: {
        summary: 'Activity, click-through, totals, the serving model and health at a glance',
        tags: TAGS,
        response: { 200: OverviewReplySchema },
      },
    },
    async (request) => {
      const started = performance.now();
      const engine = request.engine;
      const o = await dashboardOverview(engine);
      const points = (s: { starts: readonly number[]; counts: readonly number[] }) =>
        s.starts.map((start, k) => ({ start: formatTime(start), count: s.counts[k] ?? 0 }));
      return {
        as_of: formatTime(o.asOf),
        events_per_minute: points(o.perMinute),
        events_per_day: points(o.perDay),
        active_users: {
          last_hour: o.activeUsers.hour,
          last_day: o.activeUsers.day,
          last_7_days: o.activeUsers.week,
        },
        click_through: {
          as_of: formatTime(o.clickThrough.at),
          last_24_hours: clickThroughJson(o.clickThrough.day),
          last_7_days: clickThroughJson(o.clickThrough.week),
        },
        totals: o.totals,
        model: o.serving === null ? null : servingJson(o.serving, o.choice),
        training: trainingJson(o.training),
        health: { status: o.serving === null ? ('starting' as const) : ('ready' as const) },
        uptime_seconds: process.uptime(),
        store: o.store,
        took_ms: performance.now() - started,
      };
    },
  );

  app.get(
    '/v1/dashboard/events',
    {
      schema: {
        summary: 'The event log, newest first, with filters; poll with `after` for a live stream',
        tags: TAGS,
        querystring: EventsQuerySchema,
        response: { 200: EventsReplySchema },
      },
    },
    async (request) => {
      const q = request.query;
      const store = request.engine.store;
      const [found, lastSeq] = await Promise.all([
        store.recentEvents({
          limit: q.limit,
          ...(q.before === undefined ? {} : { beforeSeq: q.before }),
          ...(q.after === undefined ? {} : { afterSeq: q.after }),
          ...(q.event === undefined ? {} : { name: q.event }),
          ...(q.user_id === undefined ? {} : { userId: q.user_id }),
          ...(q.item_id === undefined ? {} : { itemId: q.item_id }),
        }),
        store.lastEventSeq(),
      ]);
      return {
        events: found.events.map(({ seq, event }) => ({ seq, ...eventToJson(event) })),
        next_before: found.nextBefore,
        last_seq: lastSeq,
      };
    },
  );

  app.get(
    '/v1/dashboard/models',
    {
      schema: {
        summary: 'Every stored model version with its validation and what model selection tried',
        tags: TAGS,
        response: { 200: ModelsReplySchema },
      },
    },
    async (request) => {
      const serving = request.engine.servingBundle?.version ?? null;
      const versions = await modelVersions(request.engine);
      return {
        serving_version: serving,
        training: trainingJson(request.engine.trainingState),
        versions: versions.map((v) => modelVersionJson(v, serving)),
      };
    },
  );

  app.get(
    '/v1/dashboard/experiments/:id/timeline',
    {
      schema: {
        summary: "An experiment's results day by day: exposure, estimates with intervals, lift",
        tags: TAGS,
        params: IdParamsSchema,
        response: { 200: ExperimentTimelineReplySchema },
      },
    },
    async (request) => dashboardExperimentTimeline(request.engine, request.params.id),
  );

  app.get(
    '/v1/dashboard/segments/projection',
    {
      schema: {
        summary: "Recently active users' segment vectors and the segment centres on two principal axes",
        tags: TAGS,
        querystring: ProjectionQuerySchema,
        response: { 200: ProjectionReplySchema },
      },
    },
    async (request) => {
      const projection = await segmentProjection(request.engine, request.query.limit);
      if (projection === null) {
        throw new NotFound('no_segments_model', 'no segments are trained yet: run `attune segments train`');
      }
      const { model } = projection;
      return {
        version: model.version,
        algorithm: model.data.clustering.algorithm,
        columns: model.data.columns.map((c) => c.name),
        explained_variance: [...projection.explained],
        points: projection.points.map((p) => ({ user_id: p.userId, x: p.x, y: p.y, segment: p.segment })),
        centres: projection.centres.map((c) => ({ ...c })),
      };
    },
  );

  app.get(
    '/v1/dashboard/decision-points/:id/timeline',
    {
      schema: {
        summary: 'A decision point hour by hour or day by day: decisions, rewards, exploration',
        tags: TAGS,
        params: IdParamsSchema,
        querystring: DecisionTimelineQuerySchema,
        response: { 200: DecisionTimelineReplySchema },
      },
    },
    async (request) => {
      const { bucket, limit } = request.query;
      const timeline = await dashboardDecisionTimeline(request.engine, request.params.id, bucket, limit);
      return {
        point: request.params.id,
        bucket,
        buckets: timeline.buckets.map((b) => ({
          start: formatTime(b.start),
          decisions: b.decisions,
          rewarded: b.rewarded,
          reward_sum: b.rewardSum,
          mean_reward: b.rewarded > 0 ? b.rewardSum / b.rewarded : null,
          explored: b.explored,
          exploration_rate: b.decisions > 0 ? b.explored / b.decisions : null,
          mean_propensity: b.decisions > 0 ? b.propensitySum / b.decisions : null,
        })),
        earlier: timeline.earlier,
      };
    },
  );

  app.get(
    '/v1/dashboard/users',
    {
      schema: {
        summary: 'Recently active users, to pick one to inspect',
        tags: TAGS,
        querystring: UsersQuerySchema,
        response: { 200: UsersReplySchema },
      },
    },
    async (request) => {
      const { prefix, limit } = request.query;
      const users = await request.engine.store.recentUsers({
        limit,
        ...(prefix === undefined ? {} : { prefix }),
      });
      return {
        users: users.map((u) => ({ user_id: u.userId, last_seen: formatTime(u.lastSeen), events: u.events })),
      };
    },
  );
};
