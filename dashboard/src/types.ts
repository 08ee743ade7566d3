/**
 * Reply shapes of the engine's routes the dashboard reads: the `/v1/dashboard/*` replies from their TypeBox
 * schemas, the others from the types the SDK generates from docs/openapi.json — one source, so a route
 * whose reply changes fails the dashboard's type-check instead of its pages.
 */
import type * as Api from '../../packages/sdk/src/generated/api';

export type {
  DashboardEvent,
  DecisionBucket,
  DecisionTimelineReply,
  EventsReply,
  ExperimentTimelineReply,
  MetricTimeline,
  ModelsReply,
  ModelVersion,
  OverviewReply,
  ProjectionReply,
  ServingModel,
  TrialJson,
  UsersReply,
} from '../../src/api/dashboard-schemas';
export type { ExperimentReport, MetricReport, Verdict } from '../../src/experiments/report';

export type ErrorDetail = Api.ErrorReply['error'];
export type HealthReply = Api.GetRootHealthReply;
export type ItemJson = Api.Item;
export type ItemsReply = Api.GetItemsReply;
export type RecommendedItem = Api.RecommendedItem;
export type RecommendationsReply = Api.GetRecommendationsReply;
export type SimilarReply = Api.GetItemsSimilarReply;
export type ExplainReply = Api.GetRecommendationsExplainReply;
export type Explanation = NonNullable<ExplainReply['explanation']>;
export type UserReply = Api.GetUsersByIdReply;
export type EventJson = Api.Event;
export type UserEventsReply = Api.GetUsersEventsReply;
export type FeaturesReply = Api.GetUsersFeaturesReply;
export type SegmentOfUserReply = Api.GetUsersSegmentReply;
export type ChurnReply = Api.GetUsersChurnReply;
export type ExperimentJson = Api.Experiment;
export type ExperimentsReply = Api.GetExperimentsReply;
export type SegmentsReply = Api.GetSegmentsReply;
export type DecisionPointsReply = Api.GetDecisionPointsReply;
export type DecisionPointDetail = Api.GetDecisionPointsByIdReply;
