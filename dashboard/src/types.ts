/**
 * Reply shapes of the engine's routes the dashboard reads. The `/v1/dashboard/*` replies come from their
 * TypeBox schemas; the others are written here as the routes in `src/api/` build them.
 */
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

export interface ErrorDetail {
  readonly code: string;
  readonly message: string;
}

export interface HealthReply {
  readonly status: 'ready' | 'starting';
  readonly model_version: number | null;
  readonly primary_model?: string;
}

export interface ItemJson {
  readonly id: string;
  readonly categories: string[];
  readonly tags: string[];
  readonly price: number | null;
  readonly available: boolean;
  readonly created_at: string;
  readonly expires_at: string | null;
  readonly attributes: Record<string, unknown>;
  readonly updated_at: string;
}

export interface ItemsReply {
  readonly items: ItemJson[];
  readonly next: string | null;
}

export interface RecommendedItem {
  readonly item_id: string;
  readonly score: number;
  readonly reason: string;
  readonly reason_kind: string;
  readonly reason_item_id?: string;
}

export interface RecommendationsReply {
  readonly request_id: string;
  readonly user_id: string;
  readonly model: string;
  readonly model_version: number | null;
  readonly fallback: string | null;
  readonly holdout: boolean;
  readonly consent?: string;
  readonly experiments: { experiment: string; variant: string; control: boolean; served: boolean }[];
  readonly items: RecommendedItem[];
}

export interface SimilarReply {
  readonly item_id: string;
  readonly model: string;
  readonly model_version: number | null;
  readonly fallback: string | null;
  readonly items: RecommendedItem[];
}

export interface ExplainReply {
  readonly user_id: string;
  readonly item_id: string;
  readonly model: string;
  readonly model_version: number | null;
  readonly fallback: string | null;
  readonly reason: string;
  readonly reason_kind: string;
  readonly score: number | null;
  readonly session: { added: number; item_id: string; action: string } | null;
  readonly explanation: Explanation | null;
}

export type Explanation =
  | {
      kind: 'neighbors';
      score: number;
      neighbors: {
        item_id: string;
        action: string | null;
        similarity: number;
        weight: number;
        contribution: number;
      }[];
    }
  | { kind: 'factors'; score: number; factors: Record<string, unknown>[]; similar_items: HistoryRef[] }
  | {
      kind: 'features';
      score: number;
      bias: number;
      item_features: Record<string, unknown>[];
      user_features: Record<string, unknown>[];
      similar_items: HistoryRef[];
    }
  | {
      kind: 'blend';
      score: number;
      components: {
        model: string;
        weight: number;
        standardized: number;
        contribution: number;
        explanation: Explanation | null;
      }[];
    }
  | { kind: 'popularity'; [key: string]: unknown }
  | { kind: 'evidence'; evidence: Record<string, unknown> };

export interface HistoryRef {
  readonly item_id: string;
  readonly action: string | null;
  readonly similarity: number;
}

export interface UserReply {
  readonly user: {
    readonly id: string;
    readonly traits: Record<string, unknown>;
    readonly created_at?: string;
    readonly updated_at?: string;
    readonly consent: string;
  };
}

export interface EventJson {
  readonly event_id: string;
  readonly event: string;
  readonly user_id: string;
  readonly item_id: string | null;
  readonly timestamp: string;
  readonly received_at: string;
  readonly context: Record<string, unknown>;
  readonly properties: Record<string, unknown>;
}

export interface UserEventsReply {
  readonly user_id: string;
  readonly events: EventJson[];
}

export interface FeaturesReply {
  readonly at: string;
  readonly features: Record<string, number | string | boolean | null>;
}

export interface SegmentOfUserReply {
  readonly segment: { id: string; description: string };
  readonly distance: number;
  readonly confidence: number;
  readonly model: { version: number; algorithm: string };
}

export interface ChurnReply {
  readonly probability: number;
  readonly risk_band: string;
  readonly drivers: { feature: string; value: number | null; contribution: number; text: string }[];
  readonly model: { version: number; trained_at: string; kind: string; window_days: number };
}

export interface ExperimentJson {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly status: string;
  readonly target: string;
  readonly layer: string;
  readonly traffic: number;
  readonly variants: {
    name: string;
    weight: number;
    control: boolean;
    model?: string;
    preset?: string;
    policy?: string;
    exposed_users?: number;
  }[];
  readonly metrics: string[];
  readonly guardrails: string[];
  readonly created_at: string;
  readonly started_at: string | null;
  readonly stopped_at: string | null;
}

export interface ExperimentsReply {
  readonly experiments: ExperimentJson[];
  readonly holdout: { share: number };
}

export interface SegmentsReply {
  readonly model: {
    version: number;
    algorithm: string;
    trained_at: string;
    features_at: string;
    users: number;
    silhouette: number | null;
    columns: string[];
  };
  readonly segments: {
    id: string;
    size: number;
    share: number;
    description: string;
    features: {
      name: string;
      column: string;
      direction: string;
      effect: number;
      segment_mean: number;
      rest_mean: number;
    }[];
  }[];
}

export interface DecisionPointJson {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly actions: { id: string }[];
  readonly learner: { kind: string; [key: string]: unknown };
  readonly mode: string;
  readonly default_action: string;
  readonly reward: { source: string; window: string; event?: string };
  readonly status?: {
    decisions: number;
    closed: number;
    open: number;
    mean_reward: number | null;
    learner: { kind: string; updates: number; saved_version: number | null };
    guardrail: { tripped: boolean; difference: number | null; upper_bound: number | null } | null;
  };
}

export interface DecisionPointsReply {
  readonly decision_points: DecisionPointJson[];
}
