import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import { BoundHistogram } from './bound-histogram.js';

/** What the online feature store holds (`OnlineFeatures.stats`). */
interface HeldFeatures {
  readonly users: number;
  readonly items: number;
  readonly bytes: number;
}

/** The engine's Prometheus metrics, in a registry of its own so that several engines (tests) coexist. */
export class EngineMetrics {
  readonly registry = new Registry();

  readonly eventsStored = new Counter({
    name: 'attune_events_stored_total',
    help: 'Events committed to the store.',
    registers: [this.registry],
  });

  readonly eventsDuplicate = new Counter({
    name: 'attune_events_duplicate_total',
    help: 'Events skipped because their event_id was already stored.',
    registers: [this.registry],
  });

  readonly eventsWithheld = new Counter({
    name: 'attune_events_withheld_total',
    help: 'Events not stored because their user gave no consent (consent "none").',
    registers: [this.registry],
  });

  readonly erasures = new Counter({
    name: 'attune_user_erasures_total',
    help: 'Users erased (DELETE /v1/users/:id) that the engine held data about.',
    registers: [this.registry],
  });

  readonly eventsExpired = new Counter({
    name: 'attune_events_expired_total',
    help: 'Events deleted because they were older than the retention period.',
    registers: [this.registry],
  });

  readonly eventsRejected = new Counter({
    name: 'attune_events_rejected_total',
    help: 'Events rejected by validation.',
    registers: [this.registry],
  });

  readonly recommendations = new Counter({
    name: 'attune_recommendations_total',
    help: 'Recommendation lists served, by model and fallback reason.',
    labelNames: ['model', 'fallback'] as const,
    registers: [this.registry],
  });

  readonly recommendationCache = new Counter({
    name: 'attune_recommendation_cache_total',
    help: 'Personal lists served again from this instance’s result cache (hit), from the lists the deployment shares in Redis (shared_hit), or computed (miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly featureSnapshots = new Counter({
    name: 'attune_feature_snapshots_total',
    help: 'Users’ feature loads from a shared snapshot (loaded_from_snapshot) or their whole history (loaded_from_store), and snapshots taken (taken); with REDIS_URL only.',
    labelNames: ['what'] as const,
    registers: [this.registry],
  });

  /** Observed on every request: bound label sets (`BoundHistogram`), not prom-client's per-call hashing. */
  readonly httpDuration = new BoundHistogram(
    'attune_http_request_duration_seconds',
    'HTTP request duration by route and status code.',
    ['method', 'route', 'status'],
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    this.registry,
  );

  /** Observed for every stage of every computed list, hence bound too. */
  readonly stageSeconds = new BoundHistogram(
    'attune_pipeline_stage_seconds',
    'Time each stage of the recommendation pipeline takes per computed list (lists served again from the result cache run no stage).',
    ['stage'],
    [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025],
    this.registry,
  );

  readonly trainingSeconds = new Histogram({
    name: 'attune_training_duration_seconds',
    help: 'Wall time of training runs, from start to the new bundle serving.',
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });

  readonly modelVersion = new Gauge({
    name: 'attune_model_version',
    help: 'Version of the bundle now serving (0: none).',
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'attune_background_errors_total',
    help: 'Errors in background work (training, bundle loads and polls, impression logging).',
    labelNames: ['where'] as const,
    registers: [this.registry],
  });

  readonly impressionsDropped = new Counter({
    name: 'attune_impressions_dropped_total',
    help: 'Served lists not logged because the impression backlog was full (the store fell behind).',
    registers: [this.registry],
  });

  readonly exposuresDropped = new Counter({
    name: 'attune_exposures_dropped_total',
    help: 'Experiment exposures not logged because the exposure backlog was full (the store fell behind).',
    registers: [this.registry],
  });

  /** Where `onlineFeatures` reads at each scrape; set once the engine's feature store exists. */
  #onlineFeatureStats: (() => HeldFeatures) | null = null;

  readonly onlineFeatures = new Gauge({
    name: 'attune_online_features_held',
    help: 'What the online feature store holds in memory: users, items (accumulators) and bytes (estimated).',
    labelNames: ['what'] as const,
    registers: [this.registry],
    collect: () => {
      const stats = this.#onlineFeatureStats?.();
      if (stats === undefined) return;
      this.onlineFeatures.set({ what: 'users' }, stats.users);
      this.onlineFeatures.set({ what: 'items' }, stats.items);
      this.onlineFeatures.set({ what: 'bytes' }, stats.bytes);
    },
  });

  /** Reports what the online feature store holds (`attune_online_features_held`). */
  watchOnlineFeatures(stats: () => HeldFeatures): void {
    this.#onlineFeatureStats = stats;
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'attune_' });
  }
}
