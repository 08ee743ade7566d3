import { Type, type Static } from '@sinclair/typebox';
import { IdSchema } from './url-params.js';

/*
 * The dashboard's data (`GET /v1/dashboard/...`, admin): the query schemas and the 200 reply schemas with
 * their static types, which the dashboard (`dashboard/`) imports. Times are ISO 8601 strings (UTC), counts
 * integers; an estimate that cannot be made yet (no data, too few users) is `null`, never NaN.
 */

const Time = Type.String({ description: 'ISO 8601 time, UTC' });
const Count = Type.Integer({ minimum: 0 });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

// --- GET /v1/dashboard/overview -------------------------------------------------------------------

export const CountPointSchema = Type.Object({
  /** The start of the bucket (a minute, or a UTC day). */
  start: Time,
  count: Count,
});
export type CountPoint = Static<typeof CountPointSchema>;

export const ClickThroughSchema = Type.Object({
  /** Served lists logged in the window (the impression log). */
  lists: Count,
  /** Of them, lists followed by a click or other positive interaction on a listed item (linked by request id). */
  clicked: Count,
  /** clicked / lists; null without lists. */
  rate: NullableNumber,
});
export type ClickThrough = Static<typeof ClickThroughSchema>;

export const TrainingStateSchema = Type.Object({
  state: Type.Union([Type.Literal('idle'), Type.Literal('running')]),
  stage: Type.Optional(Type.String()),
  done: Type.Optional(Type.Number()),
  total: Type.Optional(Type.Number()),
});
export type TrainingStateJson = Static<typeof TrainingStateSchema>;

export const ValidationSchema = Type.Object({
  /** Validation ndcg@20 of the chosen model or blend; null when selection fell back without measuring. */
  ndcg_at_20: NullableNumber,
  users: Count,
  pairs: Count,
  seconds: Type.Number(),
  /** Why the configured model was taken without measuring, or null. */
  fallback: NullableString,
});
export type Validation = Static<typeof ValidationSchema>;

export const ServingModelSchema = Type.Object({
  version: Type.Integer(),
  trained_at: Time,
  /** The event-log position the version trained through. */
  position: Count,
  primary_model: Type.String(),
  events_read: Count,
  users: Count,
  items: Count,
  /** The model or blend that serves, with its parameters. */
  chosen: Type.Object({ model: Type.String(), params: Type.Unknown() }),
  /** What automatic selection measured; null when the model was fixed by configuration. */
  validation: Type.Union([ValidationSchema, Type.Null()]),
  /** Whether the version re-ranks with a learnt re-ranker, and its validation ndcg (null: none tried). */
  reranker: Type.Union([
    Type.Object({
      chosen: Type.Boolean(),
      skipped: NullableString,
      ndcg: NullableNumber,
      generator_ndcg: NullableNumber,
    }),
    Type.Null(),
  ]),
});
export type ServingModel = Static<typeof ServingModelSchema>;

export const OverviewReplySchema = Type.Object({
  /** The engine's clock when the overview was made: every window ends here. */
  as_of: Time,
  /** The last 60 minutes, oldest first, by event timestamp; minutes without events are 0. */
  events_per_minute: Type.Array(CountPointSchema),
  /** The last 30 UTC days (today included, so far), oldest first, by event timestamp. */
  events_per_day: Type.Array(CountPointSchema),
  /** Distinct users with an event in the window (by event timestamp). */
  active_users: Type.Object({ last_hour: Count, last_day: Count, last_7_days: Count }),
  /**
   * Served lists and their clicks; computed off the serving thread and kept for 30 seconds, so `as_of`
   * (when it was computed) may be a little before the overview's own.
   */
  click_through: Type.Object({
    as_of: Time,
    last_24_hours: ClickThroughSchema,
    last_7_days: ClickThroughSchema,
  }),
  totals: Type.Object({
    events: Count,
    /** Distinct users with at least one stored event. */
    users: Count,
    items: Count,
  }),
  /** The serving model version; null before the first training. */
  model: Type.Union([ServingModelSchema, Type.Null()]),
  training: TrainingStateSchema,
  health: Type.Object({ status: Type.Union([Type.Literal('ready'), Type.Literal('starting')]) }),
  uptime_seconds: Type.Number(),
  /** The store's backend (`sqlite`, `postgres`). */
  store: Type.String(),
  /** How long the overview took to compute, in milliseconds. */
  took_ms: Type.Number(),
});
export type OverviewReply = Static<typeof OverviewReplySchema>;

// --- GET /v1/dashboard/events ---------------------------------------------------------------------

export const EventsQuerySchema = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  /** Only events with a log position below this (the next page of older events). */
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Only events with a log position above this (polling for new events: the last `seq` seen). */
  after: Type.Optional(Type.Integer({ minimum: 0 })),
  event: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  user_id: Type.Optional(IdSchema),
  item_id: Type.Optional(IdSchema),
});
export type EventsQuery = Static<typeof EventsQuerySchema>;

const Scalars = Type.Record(
  Type.String(),
  Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
);

export const DashboardEventSchema = Type.Object({
  /** The event's log position: increasing in commit order. */
  seq: Type.Integer({ minimum: 1 }),
  event_id: Type.String(),
  event: Type.String(),
  user_id: Type.String(),
  item_id: NullableString,
  timestamp: Time,
  received_at: Time,
  context: Scalars,
  properties: Scalars,
});
export type DashboardEvent = Static<typeof DashboardEventSchema>;

export const EventsReplySchema = Type.Object({
  /** Newest first (highest log position first). */
  events: Type.Array(DashboardEventSchema),
  /**
   * Pass as `before` for the next page of older events; null when there are none. A filter by event name
   * alone reads at most 25,000 log positions per call, so such a page may hold fewer than `limit` events
   * (even none) while `next_before` still points further back.
   */
  next_before: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Pass as `before` for older events; null when none remain.',
  }),
  /** The log position now: pass as `after` to poll for what arrives next. */
  last_seq: Count,
});
export type EventsReply = Static<typeof EventsReplySchema>;

// --- GET /v1/dashboard/models ---------------------------------------------------------------------

export const TrialSchema = Type.Object({
  model: Type.String(),
  params: Type.Unknown(),
  /** Validation ndcg@20; null when it was not measured (skipped). */
  val_ndcg: NullableNumber,
  seconds: Type.Number(),
  skipped: NullableString,
  /** Milliseconds per validation user to score the catalog; null when not measured. */
  ms_per_user: NullableNumber,
  /** Over the scoring budget, so it could not be chosen. */
  over_budget: Type.Boolean(),
  /** This candidate is the one chosen. */
  chosen: Type.Boolean(),
});
export type TrialJson = Static<typeof TrialSchema>;

export const ModelVersionSchema = Type.Object({
  version: Type.Integer(),
  created_at: Time,
  /** When training finished (null in versions that did not record it). */
  trained_at: Type.Union([Time, Type.Null()]),
  position: Count,
  bytes: Count,
  serving: Type.Boolean(),
  primary_model: NullableString,
  events_read: Type.Union([Count, Type.Null()]),
  users: Type.Union([Count, Type.Null()]),
  items: Type.Union([Count, Type.Null()]),
  interactions: Type.Union([Count, Type.Null()]),
  fit_seconds: Type.Record(Type.String(), Type.Number()),
  /** The model or blend selection chose; null when the model was fixed by configuration. */
  chosen: Type.Union([Type.Object({ model: Type.String(), params: Type.Unknown() }), Type.Null()]),
  validation: Type.Union([ValidationSchema, Type.Null()]),
  /** Every candidate selection measured, in the order it tried them (empty when there was no selection). */
  tried: Type.Array(TrialSchema),
  reranker: ServingModelSchema.properties.reranker,
});
export type ModelVersion = Static<typeof ModelVersionSchema>;

export const ModelsReplySchema = Type.Object({
  serving_version: Type.Union([Type.Integer(), Type.Null()]),
  training: TrainingStateSchema,
  /** Newest version first. */
  versions: Type.Array(ModelVersionSchema),
});
export type ModelsReply = Static<typeof ModelsReplySchema>;

// --- GET /v1/dashboard/experiments/:id/timeline ---------------------------------------------------

export const VariantPointSchema = Type.Object({
  variant: Type.String(),
  /** Users exposed by the end of the day. */
  users: Count,
  /** The metric's cumulative estimate (mean per user, or the ratio) and its 95% interval; null: too few users. */
  estimate: NullableNumber,
  ci_low: NullableNumber,
  ci_high: NullableNumber,
  /** Relative lift against control and its 95% interval (unadjusted); null for control and when too few users. */
  rel_lift: NullableNumber,
  lift_ci_low: NullableNumber,
  lift_ci_high: NullableNumber,
});
export type VariantPoint = Static<typeof VariantPointSchema>;

export const TimelineDaySchema = Type.Object({
  /** The end of the day (or now, for the last): what counted happened before it. */
  as_of: Time,
  variants: Type.Array(VariantPointSchema),
});
export type TimelineDay = Static<typeof TimelineDaySchema>;

export const MetricTimelineSchema = Type.Object({
  metric: Type.String(),
  role: Type.Union([Type.Literal('primary'), Type.Literal('secondary'), Type.Literal('guardrail')]),
  kind: Type.String(),
  higher_is_better: Type.Boolean(),
  days: Type.Array(TimelineDaySchema),
});
export type MetricTimeline = Static<typeof MetricTimelineSchema>;

export const ExperimentTimelineReplySchema = Type.Object({
  experiment: Type.String(),
  name: Type.String(),
  status: Type.String(),
  as_of: Time,
  control: Type.String(),
  /** In the experiment's order, control included. */
  variants: Type.Array(Type.String()),
  /** Users exposed per variant by the end of each day (every metric's `users` agree with it). */
  exposure: Type.Array(
    Type.Object({
      as_of: Time,
      variants: Type.Array(Type.Object({ variant: Type.String(), users: Count })),
    }),
  ),
  metrics: Type.Array(MetricTimelineSchema),
});
export type ExperimentTimelineReply = Static<typeof ExperimentTimelineReplySchema>;

// --- GET /v1/dashboard/segments/projection --------------------------------------------------------

export const ProjectionQuerySchema = Type.Object({
  limit: Type.Integer({ minimum: 2, maximum: 2000, default: 300 }),
});
export type ProjectionQuery = Static<typeof ProjectionQuerySchema>;

export const ProjectionReplySchema = Type.Object({
  /** The segmentation's version. */
  version: Type.Integer(),
  algorithm: Type.String(),
  /** The columns of the standardized vectors that were projected. */
  columns: Type.Array(Type.String()),
  /** Share of the sample's variance along each of the two axes (0–1). */
  explained_variance: Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }),
  /** The most recently active users placed now (up to `limit`); each with the segment it falls in. */
  points: Type.Array(
    Type.Object({ user_id: Type.String(), x: Type.Number(), y: Type.Number(), segment: Type.String() }),
  ),
  /** Each segment's centre on the same axes (k-means centres; DBSCAN: the mean of its core points). */
  centres: Type.Array(Type.Object({ segment: Type.String(), x: Type.Number(), y: Type.Number() })),
});
export type ProjectionReply = Static<typeof ProjectionReplySchema>;

// --- GET /v1/dashboard/decision-points/:id/timeline -----------------------------------------------

export const DecisionTimelineQuerySchema = Type.Object({
  bucket: Type.Union([Type.Literal('hour'), Type.Literal('day')], { default: 'hour' }),
  /** How many buckets back from now (the current one included). */
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 48 }),
});
export type DecisionTimelineQuery = Static<typeof DecisionTimelineQuerySchema>;

export const DecisionBucketSchema = Type.Object({
  start: Time,
  /** Decisions made in the bucket. */
  decisions: Count,
  /** Of them, those whose outcome is known (a reward, or the default at the window's end). */
  rewarded: Count,
  reward_sum: Type.Number(),
  /** reward_sum / rewarded; null when none is rewarded. */
  mean_reward: NullableNumber,
  /** Decisions whose chosen action was not the policy's most probable one (exploration). */
  explored: Count,
  /** explored / decisions; null without decisions. */
  exploration_rate: NullableNumber,
  /** Mean probability of the chosen action under the policy that chose; null without decisions. */
  mean_propensity: NullableNumber,
});
export type DecisionBucket = Static<typeof DecisionBucketSchema>;

export const DecisionTimelineReplySchema = Type.Object({
  point: Type.String(),
  bucket: Type.Union([Type.Literal('hour'), Type.Literal('day')]),
  /** Oldest first, zero-filled, ending with the bucket holding now. */
  buckets: Type.Array(DecisionBucketSchema),
  /** Decisions before the first bucket (not shown). */
  earlier: Count,
});
export type DecisionTimelineReply = Static<typeof DecisionTimelineReplySchema>;

// --- GET /v1/dashboard/users ----------------------------------------------------------------------

export const UsersQuerySchema = Type.Object({
  /** Only user ids starting with this. */
  prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
});
export type UsersQuery = Static<typeof UsersQuerySchema>;

export const UsersReplySchema = Type.Object({
  /** Most recently active first. */
  users: Type.Array(Type.Object({ user_id: Type.String(), last_seen: Time, events: Count })),
});
export type UsersReply = Static<typeof UsersReplySchema>;

export const IdParamsSchema = Type.Object({ id: IdSchema });
