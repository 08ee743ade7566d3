import { pino, type Logger } from 'pino';
import { AccessKeys, AuditLog, DEFAULT_APP } from '../access/index.js';
import type { ClusterBus, ClusterChange, ClusterNotice } from '../cluster/index.js';
import { personalizes, redactPersonalData, type Consent, type Redaction } from '../privacy/index.js';
import type { Item, ItemFilter, User, ValidItem } from '../catalog/index.js';
import { CatalogIndex, placeholderItem } from '../catalog/index.js';
import type { AppendResult, RecordRedactor, TrackedEvent } from '../events/index.js';
import type { ModelName } from '../models/index.js';
import {
  buildProfile,
  defaultStages,
  impersonalProfile,
  ImpressionLog,
  ResultCache,
  UserHistories,
  UserHistory,
  runPipeline,
  type StageTimer,
  explainRecommendation,
  forgetServedUser,
  similarItems,
  type ExplainResult,
  type Impression,
  type ImpressionItem,
  type ProfileSettings,
  type RecommendationRequest,
  type RecommendationResult,
  type RecommendedItem,
  type Rules,
  type ServingProfile,
  type SimilarResult,
  type Stage,
  type ServedList,
  type SharedLists,
} from '../recommendations/index.js';
import { wantsTraits, withTraits } from '../recommendations/cold-start.js';
import { ShownLists } from '../recommendations/shown-lists.js';
import {
  ExperimentError,
  ExperimentRegistry,
  HOLDOUT,
  MetricCatalog,
  reportInWorker,
  SEGMENT_TRAIT,
  type Assignment,
  type ExperimentReport,
  type Exposure,
  type ServingPlan,
} from '../experiments/index.js';
import {
  OnlineFeatures,
  type FeatureRow,
  type FeatureSnapshots,
  type SnapshotLoader,
} from '../features/index.js';
import { Fingerprint } from '../shared/content-hash.js';
import { servedChurnModel, type ChurnScore, type ChurnScorer } from '../churn/index.js';
import { servedSegments, type SegmentAssignment, type SegmentModel } from '../segments/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { extend } from '../shared/extend.js';
import { derivedOnce } from '../shared/frozen-memo.js';
import { LruMap } from '../shared/lru.js';
import { Serial } from '../shared/serial.js';
import { timeOrderedId } from '../shared/time-ordered-id.js';
import type { JsonValue, ScalarRecord } from '../shared/types.js';
import {
  openStore,
  ServedArtifact,
  type ArtifactInfo,
  type ArtifactRewrite,
  type ErasedRows,
  type Store,
} from '../store/index.js';
import {
  BUNDLE_ARTIFACT,
  BundleDecodeError,
  ModelBundle,
  TrainingLease,
  TrainingLeaseHeldError,
  TrainingRunner,
  compareBundles,
  storedPosition,
  trainerId,
  type BundleInfo,
  type TrainingProgress,
} from '../training/index.js';
import type { EngineConfig } from './config.js';
import { EngineMetrics } from './metrics.js';
import { rankItems, type RankResult } from '../ranking/rank-items.js';
import {
  DecisionPoints,
  NotificationTiming,
  populationInWorker,
  type DecisionEnvironment,
  type LoggedDecision,
  type SendPolicy,
  type TimingAnswer,
} from '../decisions/index.js';

/** The impression log's surface of personal recommendation lists. */
const RECOMMENDATIONS = 'recommendations';

/** Why an instance with `ATTUNE_RERANK=off` serves a bundle's re-ranker no more (`GET /v1/models`). */
const RERANK_OFF =
  "ATTUNE_RERANK=off on this instance: it serves the model's order, not the bundle's re-ranker";

/** Whether the bundle's re-ranker splits on what the user was shown lately (`user_item_shown`). */
const readsShown = (bundle: ModelBundle | null): boolean =>
  bundle?.reranker?.splitsOn.has('user_item_shown') === true;

export interface RecommendOptions {
  readonly userId: string;
  readonly n: number;
  readonly excludeSeen: boolean;
  readonly filter: ItemFilter | null;
  /** The client's id for this request; one is generated when absent. */
  readonly requestId?: string;
  /** How the user is served (holdout, experiment variants); `servingPlan` computes it when absent. */
  readonly plan?: ServingPlan;
  /**
   * Compiled business rules, diversity and freshness. Their property filter is not applied from here:
   * pass it (combined with any request filter) as `filter`.
   */
  readonly rules?: Rules;
  /**
   * A variant's preset that no longer exists: the list was built without it, so the assignments naming it
   * are not exposed (as with a variant's model the bundle lacks).
   */
  readonly missingPreset?: string;
  /**
   * Look without serving: no impression is logged and no experiment exposure recorded, so an admin
   * inspecting a user (the dashboard) never adds them to an experiment's analysis.
   */
  readonly preview?: boolean;
}

export interface ExplainOptions {
  readonly userId: string;
  readonly itemId: string;
  readonly model?: ModelName;
  readonly limit: number;
}

export interface SimilarOptions {
  readonly itemId: string;
  readonly n: number;
  readonly filter: ItemFilter | null;
  /** When given, the list is logged as an impression for this user. */
  readonly userId?: string;
}

/** What a reply says about the experiments behind a list. */
export interface ServedPlan {
  readonly holdout: boolean;
  /** Set when the user's consent withheld personalization (`analytics` or `none`): the list is not personal. */
  readonly consent?: Consent;
  /** `served` false: the variant's model was not in the serving bundle yet, so the default served. */
  readonly experiments: readonly (Assignment & { readonly served: boolean })[];
}

/** How often expired events are looked for, with a retention period set. */
const RETENTION_SWEEP_MS = 10 * 60_000;
/** Events one retention transaction deletes at most: a few milliseconds of write lock. */
const RETENTION_BATCH = 2_000;

/** Everything held about one user (`Engine.exportUser`); the HTTP layer shapes it as JSON. */
export interface UserExport {
  readonly userId: string;
  readonly at: number;
  readonly profile: User | null;
  /** The consent in force, and whether it was recorded (else it is the configured default). */
  readonly consent: Consent;
  readonly consentRecorded: boolean;
  /** Newest first. */
  readonly events: readonly TrackedEvent[];
  readonly impressions: readonly Impression[];
  readonly assignments: { readonly holdout: boolean; readonly assignments: readonly Assignment[] };
  readonly exposures: readonly Exposure[];
  readonly decisions: readonly LoggedDecision[];
  readonly features: FeatureRow | null;
  readonly churn: ChurnScore | null;
  readonly segment: SegmentAssignment | null;
}

/** A user's consent withholds personalization: nothing personal is computed from what they did. */
export interface Withheld {
  readonly withheld: Consent;
}

/** What an erasure removed: counts and flags only, nothing personal. */
export interface UserErasure extends ErasedRows {
  /** Stored model versions rewritten without the user (the serving one included). */
  readonly modelVersions: number;
}

/** What an engine is given besides its configuration: collaborators, not settings. */
export interface EngineOptions {
  /**
   * Where background work (training runs, bundle loads, the schedule) is logged. Default: warnings and
   * errors as JSON lines on stderr. Tests pass one writing to memory to read what was logged.
   */
  readonly logger?: Logger;
  /** What this engine is called in the training lease (`attune serve`, `attune train`), for other trainers. */
  readonly trainerName?: string;
  /** Where the time comes from (default the system clock; `attune simulate` moves its own). */
  readonly clock?: Clock;
  /** The app (tenant) this engine serves, as the cluster's messages and the event stream name it. */
  readonly app?: string;
  /**
   * The other instances of this deployment (several `attune serve` and one `attune worker` on one
   * database): what this engine changes is announced on the bus, and what the others announce drops the
   * caches it makes stale. Without it the engine assumes it is the only writer of its store.
   */
  readonly cluster?: ClusterBus;
  /**
   * The event stream in front of ingestion (`ATTUNE_EVENT_STREAM`): `appendEvents` publishes the events
   * consent lets be stored and answers once the stream persisted them; the worker stores them
   * (`attune worker`, whose engine has no stream). Without it events go to the store directly.
   */
  readonly eventStream?: EventPublisher;
  /**
   * Lists shared by the deployment's instances (Redis: `cluster/redis-lists.ts`), one tier under each
   * instance's own result cache; per app. Without it each instance keeps only its own.
   */
  readonly sharedLists?: { forApp(app: string): SharedLists };
  /**
   * Users' feature accumulators shared by the deployment's instances (Redis:
   * `cluster/redis-feature-snapshots.ts`), per app and feature definitions (`scope`). Without it each
   * instance reads a user's whole history on first use.
   */
  readonly featureSnapshots?: { forApp(app: string, scope: string): FeatureSnapshots };
}

/** Where an API instance publishes events when a stream is in front of ingestion (`events/stream/`). */
export interface EventPublisher {
  publish(
    app: string,
    events: readonly TrackedEvent[],
  ): Promise<{ readonly persisted: number; readonly duplicates: readonly string[] }>;
}

/** A training run this engine holds the training lease for. */
export interface TrainingRun {
  /** Settles when the run ends: the new bundle's info (serving or not, see `Engine.train`), or the failure. */
  readonly done: Promise<BundleInfo>;
}

export type TrainingState =
  | { readonly state: 'idle' }
  | { readonly state: 'running'; readonly stage: string; readonly done: number; readonly total: number };

/**
 * The engine: the one object the HTTP layer and the CLI talk to. It owns the store, the in-memory
 * catalog, the serving bundle and the training runner; it holds no HTTP concerns.
 */
export class Engine {
  private bundle: ModelBundle | null = null;
  private training: TrainingState = { state: 'idle' };
  private retrainTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private readonly runner: TrainingRunner;
  private readonly impressions: ImpressionLog;
  /** The run this engine has started (or is starting), which later callers join. */
  private currentRun: Promise<TrainingRun> | null = null;
  private lease: TrainingLease | null = null;
  /**
   * Bundle versions never to load again: ones that failed to decode (so the poller does not retry them
   * every tick) and ones found older than what serves (serving only moves forward, so they stay older).
   */
  private readonly rejectedBundles = new Set<number>();
  /** Loading a bundle and erasing a user from bundles, one at a time: neither may miss the other's change. */
  private readonly bundleChanges = new Serial();
  /** This engine as a holder of the training lease. */
  private readonly trainer: string;
  private readonly histories: UserHistories;
  /** Online feature values of active users and items, kept current by every committed event. */
  private readonly features: OnlineFeatures;
  /** The newest churn model `attune churn train` stored; polled like the bundle. */
  private readonly churnModel: ServedArtifact<ChurnScorer>;
  /** The newest segmentation `attune segments train` stored; polled like the bundle. */
  private readonly segmentModel: ServedArtifact<SegmentModel>;
  private readonly profileSettings: ProfileSettings;
  /**
   * Stored users (traits) by id, `null` for ids with no stored row, so that serving a user nobody has
   * described costs one read, not one per request. Kept exact by `putUser`.
   */
  private readonly users: LruMap<string, User | null>;
  /** Users' recorded consent (null: none recorded, the default applies), as `users` caches traits. */
  private readonly consents: LruMap<string, Consent | null>;

  /**
   * When to reach each user (`GET /v1/users/:id/notification-time`): the population prior is built on a
   * worker thread with its own store connection on first use, and refreshed hourly.
   */
  readonly notifications: NotificationTiming;
  /** Lists served, for the same user asking again (`recommendations/result-cache.ts`). */
  readonly #results: ResultCache;
  /** What each user was shown lately, for the re-ranker (`recommendations/shown-lists.ts`). */
  readonly #shown: ShownLists;
  /** Served lists' items as logged, by list (`#impressionItems`). */
  readonly #loggedItems = new WeakMap<readonly RecommendedItem[], readonly ImpressionItem[]>();
  /** Decision points: contextual bandits, their log and rewards (`decisions/points`). */
  #decisions: DecisionPoints | null = null;
  #app: string = DEFAULT_APP;
  #cluster: ClusterBus | null = null;
  #leaveCluster: (() => void) | null = null;
  #eventStream: EventPublisher | null = null;
  #sharedLists: SharedLists | null = null;
  /** Loads users' features through snapshots the deployment shares, when it shares them. */
  #snapshots: SnapshotLoader | null = null;
  /** What the lists depend on beyond their keys' content: settings that must match to share a list. */
  #sharedListScope = '';
  /** Each pipeline stage's duration per computed list (`attune_pipeline_stage_seconds`). */
  readonly #timeStage: StageTimer = (stage, seconds) =>
    this.metrics.stageSeconds.child({ stage }).observe(seconds);
  /** API keys: who may call which routes (`access/`). */
  readonly access: AccessKeys;
  /** Admin actions: who did what, when (`access/`). */
  readonly audit: AuditLog;
  /** What of an event's context and properties may be stored (`privacy/`, `config.personalData`). */
  readonly redactPersonalData: RecordRedactor = (record, field) =>
    redactPersonalData(record, field, this.config.personalData);

  private constructor(
    readonly config: EngineConfig,
    readonly store: Store,
    readonly catalog: CatalogIndex,
    readonly metrics: EngineMetrics,
    /** Experiments and the global holdout: definitions, assignment, exposures. */
    readonly experiments: ExperimentRegistry,
    /** The metrics experiments report: built in and stored. */
    readonly metricCatalog: MetricCatalog,
    private readonly stages: readonly Stage[],
    readonly logger: Logger,
    trainerName: string,
    /** The time as this engine sees it: receiving time of events, exposures, reports. */
    readonly now: Clock,
  ) {
    this.access = new AccessKeys(store, { bootstrapAdminKey: config.adminKey, now });
    this.audit = new AuditLog(store);
    this.trainer = trainerId(trainerName);
    this.runner = new TrainingRunner(config.storeUrl, {
      feedback: config.feedback,
      primaryModel: config.primaryModel,
      selection: config.selection,
      scoringBudgetMs: config.scoringBudgetMs,
      models: config.models,
      hybrid: config.coldStart,
      rerank: config.rerank,
      defaultConsent: config.defaultConsent,
    });
    this.profileSettings = { feedback: config.feedback, session: config.session };
    this.#results = new ResultCache(config.resultCacheMs);
    this.histories = new UserHistories(
      store,
      {
        feedback: config.feedback,
        windowMs: config.session.windowMs,
        windowEvents: config.session.windowEvents,
      },
      config.historyCacheBytes,
    );
    this.users = new LruMap(config.userCacheUsers);
    this.consents = new LruMap(config.userCacheUsers);
    this.features = new OnlineFeatures(
      store,
      config.features,
      (itemId) => catalog.get(itemId),
      config.featureCacheBytes,
      now,
    );
    metrics.watchOnlineFeatures(() => this.features.stats);
    this.churnModel = servedChurnModel(store, (version, error) => {
      metrics.errors.inc({ where: 'churn-load' });
      logger.error({ err: error, version }, `churn model version ${version} cannot be loaded; not retried`);
    });
    this.segmentModel = servedSegments(store, (version, error) => {
      metrics.errors.inc({ where: 'segments-load' });
      logger.error({ err: error, version }, `segments version ${version} cannot be loaded; not retried`);
    });
    this.notifications = new NotificationTiming(
      store,
      now,
      populationInWorker(config.storeUrl, config.defaultConsent),
    );
    this.impressions = new ImpressionLog(store, {
      flushMs: config.impressionFlushMs,
      onError: () => metrics.errors.inc({ where: 'impressions' }),
      onDrop: (count) => metrics.impressionsDropped.inc(count),
    });
    this.#shown = new ShownLists(async (userId, options) => {
      const logged = await store.recentImpressions(userId, { ...options, surface: RECOMMENDATIONS });
      return logged
        .filter((impression) => !impression.fallback)
        .map((impression) => ({
          requestId: impression.requestId,
          at: impression.createdAt,
          items: impression.items.map((item) => item.itemId),
        }));
    });
  }

  /**
   * Opens the store, loads the catalog and the newest trained bundle (by position, see `refreshBundle`),
   * and starts the retrain schedule.
   */
  static async open(
    config: EngineConfig,
    stages: readonly Stage[] = defaultStages,
    options: EngineOptions = {},
  ): Promise<Engine> {
    const store = await openStore(config.storeUrl);
    const catalog = new CatalogIndex();
    for await (const batch of store.scanItems()) for (const item of batch) catalog.upsert(item);
    const logger =
      options.logger ?? pino({ name: 'attune', level: 'warn' }, pino.destination({ dest: 2, sync: true }));
    const metrics = new EngineMetrics();
    const metricCatalog = await MetricCatalog.open(store);
    const clock = options.clock ?? systemClock;
    const experiments = await ExperimentRegistry.open(store, {
      now: clock,
      holdout: config.holdout,
      metricNames: () => metricCatalog.metricNames(),
      exposureFlushMs: config.impressionFlushMs,
      onError: (error) => {
        metrics.errors.inc({ where: 'exposures' });
        logger.error({ err: error }, 'writing exposures failed');
      },
      onDrop: (count) => metrics.exposuresDropped.inc(count),
    });
    const engine = new Engine(
      config,
      store,
      catalog,
      metrics,
      experiments,
      metricCatalog,
      stages,
      logger,
      options.trainerName ?? 'attune',
      clock,
    );
    await engine.refreshBundle();
    await engine.refreshChurnModel();
    await engine.refreshSegments();
    engine.#decisions = await DecisionPoints.open(engine.decisionEnvironment());
    engine.#app = options.app ?? DEFAULT_APP;
    engine.#eventStream = options.eventStream ?? null;
    engine.#sharedLists = options.sharedLists?.forApp(engine.#app) ?? null;
    if (engine.#sharedLists !== null) engine.catalog.trackFingerprint();
    engine.#sharedListScope = sharedListScope(config);
    if (options.featureSnapshots !== undefined) {
      const scope = new Fingerprint().text(JSON.stringify(config.features.definitions)).hex();
      engine.#snapshots = engine.features.shareSnapshots(
        options.featureSnapshots.forApp(engine.#app, scope),
        store,
        (error) => {
          engine.metrics.errors.inc({ where: 'feature-snapshots' });
          engine.logger.warn({ err: error }, 'a shared feature snapshot could not be read, taken or dropped');
        },
        (what) => engine.metrics.featureSnapshots.inc({ what }),
      );
    }
    if (options.cluster) engine.#joinCluster(options.cluster);
    engine.startSchedule();
    return engine;
  }

  // --- events -------------------------------------------------------------------------------------

  /**
   * Stores the events of users whose consent allows it (`withheld` counts the others, dropped unstored), and
   * keeps live state (histories, features, decision rewards) from users whose consent is `full` only.
   * `positions` follow the stored events' order.
   */
  async appendEvents(events: readonly TrackedEvent[]): Promise<AppendResult & { readonly withheld: number }> {
    const { stored, personal } = await this.byConsent(events);
    if (this.#eventStream !== null) return this.#publishEvents(this.#eventStream, events.length, stored);
    // Another request may load these users' or items' features between the commit and `record` below.
    this.features.expect(personal);
    let result: AppendResult;
    try {
      result = await this.store.appendEvents(stored, { createMissingItems: this.config.createMissingItems });
    } catch (error) {
      this.features.abandon(personal);
      throw error;
    }
    if (result.createdItems.length > 0) {
      const created = new Set(result.createdItems);
      for (const event of stored) {
        if (event.itemId !== null && created.has(event.itemId)) {
          created.delete(event.itemId);
          this.catalog.upsert(placeholderItem(event.itemId, event.timestamp));
        }
      }
    }
    const positions =
      personal === stored ? result.positions : subsequencePositions(personal, stored, result.positions);
    this.histories.record(personal, positions);
    this.features.record(personal, positions);
    this.#decisions?.observeEvents(
      positions.every((p) => p !== null) ? personal : personal.filter((_, i) => positions[i] !== null),
    );
    if (result.stored > 0) {
      this.#announce((app) => ({ type: 'events', app, ...usersAndItems(stored) }));
    }
    if (result.createdItems.length > 0) {
      this.#announce((app) => ({ type: 'catalog', app, items: result.createdItems }));
    }
    this.metrics.eventsStored.inc(result.stored);
    this.metrics.eventsDuplicate.inc(result.duplicates.length);
    this.metrics.eventsWithheld.inc(events.length - stored.length);
    return { ...result, withheld: events.length - stored.length };
  }

  /**
   * With a stream in front of ingestion: the events go to the stream, acknowledged once it persisted them.
   * Nothing is in the store yet, so there are no positions and no created items; live state follows when
   * the worker has stored them and announced it. `duplicates` are those the stream recognised: repeats
   * within the batch, and a whole batch sent again within its window (`EventStreamPublisher.publish`).
   */
  async #publishEvents(
    stream: EventPublisher,
    sent: number,
    stored: readonly TrackedEvent[],
  ): Promise<AppendResult & { readonly withheld: number }> {
    const published =
      stored.length === 0 ? { persisted: 0, duplicates: [] } : await stream.publish(this.#app, stored);
    this.metrics.eventsStored.inc(published.persisted);
    this.metrics.eventsDuplicate.inc(published.duplicates.length);
    this.metrics.eventsWithheld.inc(sent - stored.length);
    return {
      stored: published.persisted,
      duplicates: [...published.duplicates],
      createdItems: [],
      positions: stored.map(() => null),
      withheld: sent - stored.length,
    };
  }

  /**
   * The events that may be stored, and of those the ones that may personalize (`privacy/consent.ts`); both
   * the input itself when every user allows everything (the common case copies nothing).
   */
  private async byConsent(
    events: readonly TrackedEvent[],
  ): Promise<{ stored: readonly TrackedEvent[]; personal: readonly TrackedEvent[] }> {
    await this.#cacheConsents(events);
    let stored: TrackedEvent[] | null = null;
    let personal: TrackedEvent[] | null = null;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      // Cached by #cacheConsents just now (null: none recorded); an eviction meanwhile falls back to a read.
      const cached = this.consents.peek(event.userId);
      const consent =
        cached === undefined ? await this.consentOf(event.userId) : (cached ?? this.config.defaultConsent);
      if (consent === 'full' && stored === null) continue;
      stored ??= events.slice(0, i);
      personal ??= events.slice(0, i);
      if (consent !== 'none') stored.push(event);
      if (consent === 'full') personal.push(event);
    }
    return stored === null ? { stored: events, personal: events } : { stored, personal: personal! };
  }

  /**
   * Reads the recorded consent of the batch's users not cached yet in one store read (a networked store
   * would otherwise make a round trip per user), so that every user of the batch is cached afterwards.
   */
  async #cacheConsents(events: readonly TrackedEvent[]): Promise<void> {
    let missing: Set<string> | null = null;
    for (const event of events) {
      if (this.consents.get(event.userId) === undefined) (missing ??= new Set()).add(event.userId);
    }
    if (missing === null) return;
    const recorded = await this.store.getConsents([...missing]);
    // A `setConsent` that landed while this read was under way has the newer value.
    for (const userId of missing) {
      if (!this.consents.has(userId)) this.consents.set(userId, recorded.get(userId) ?? null);
    }
  }

  // --- a person's data ----------------------------------------------------------------------------

  /**
   * Everything the engine holds about a user (an access request), read now; null when it holds nothing at
   * all. Their features, segment and churn score are computed from their events as for serving.
   */
  async exportUser(userId: string): Promise<UserExport | null> {
    // What is still buffered for the store is held too.
    await Promise.all([this.impressions.flush(), this.experiments.flush(), this.#decisions?.flush()]);
    const [profile, recordedConsent, events, impressions, exposures, decisions] = await Promise.all([
      this.store.getUser(userId),
      this.store.getConsent(userId),
      this.store.userEvents(userId, { limit: Number.MAX_SAFE_INTEGER }),
      this.store.userImpressions(userId),
      this.store.userExposures(userId),
      this.store.userDecisions(userId),
    ]);
    const held =
      profile !== null ||
      recordedConsent !== null ||
      events.length + impressions.length + exposures.length + decisions.length > 0;
    if (!held) return null;
    // One feature row for all three: the churn model and the segmentation read it as their routes do.
    const features = await this.userFeatures(userId);
    const row = 'user' in features ? features.user : null;
    const churnModel = this.churnModel.current;
    const segments = this.segmentModel.current;
    return {
      userId,
      at: this.now(),
      profile,
      consent: recordedConsent ?? this.config.defaultConsent,
      consentRecorded: recordedConsent !== null,
      events,
      impressions,
      assignments: await this.assignments(userId),
      exposures,
      decisions,
      features: row,
      churn: row === null || churnModel === null ? null : churnScoreOf(churnModel, row),
      segment: row === null || segments === null ? null : segmentOfRow(segments, row),
    };
  }

  /**
   * Erases a person (a right-to-erasure request): everything stored about them goes in one store
   * transaction (`Store.eraseUser`), every stored bundle version that trained on them is rewritten with
   * their row erased (`ModelBundle.eraseUser`), and the serving bundle, histories, features, caches,
   * exposure memory and open decisions forget them now. Null when nothing at all was held. A training
   * run that was reading the log meanwhile does not save (`training/train.ts`); the next one no longer
   * reads them, which also takes their part out of shared statistics (item similarities, popularity).
   */
  async eraseUser(userId: string): Promise<UserErasure | null> {
    // The store's clock, not the engine's: it is compared with when training runs began reading.
    const at = Date.now();
    await Promise.all([this.impressions.flush(), this.experiments.flush(), this.#decisions?.flush()]);
    const decisions = this.#decisions === null ? [] : await this.store.userDecisions(userId);
    // Before the store's erasure, and failing it when it cannot be done: a snapshot left behind would
    // bring the erased events back into the user's features on the next load anywhere.
    await this.features.forgetSnapshot(userId);
    const { erased, modelRows } = await this.bundleChanges.run(async () => {
      const rewrites = await this.bundlesWithout(userId);
      const erased = await this.store.eraseUser(userId, { at, artifacts: rewrites });
      return { erased, modelRows: rewrites.length };
    });
    this.histories.forget(userId);
    this.#shown.forget(userId);
    forgetServedUser(userId);
    await this.#forgetSharedLists(userId);
    // Again: a snapshot taken from what was read before the erasure may have been kept meanwhile. Only
    // such a snapshot can be there, so a failure does not fail the erasure: as after a merge, the drop is
    // retried until Redis answers and this instance skips the snapshot meanwhile (`forgetSoon`).
    await this.features.forgetSnapshotSoon(userId);
    this.features.forgetUser(userId, erased.items);
    this.users.delete(userId);
    this.consents.delete(userId);
    this.experiments.forgetUser(userId);
    this.#decisions?.forgetUser(
      userId,
      decisions.map((d) => d.id),
    );
    this.#announce((app) => ({ type: 'erased', app, user: userId }));
    const held =
      erased.events + erased.impressions + erased.exposures + erased.decisions + modelRows > 0 ||
      erased.profile ||
      erased.consent;
    if (!held) return null;
    this.metrics.erasures.inc();
    return { ...erased, modelVersions: modelRows };
  }

  /**
   * Deletes the lists kept for the user in the shared tier: they name items of their history. Where that
   * fails (Redis down), they go when they expire (ATTUNE_RESULT_CACHE_MS) and are never served meanwhile:
   * the erased history has another fingerprint.
   */
  async #forgetSharedLists(userId: string): Promise<void> {
    try {
      await this.#sharedLists?.forgetUser(userId);
    } catch (error) {
      this.metrics.errors.inc({ where: 'shared-lists' });
      this.logger.warn({ err: error, userId }, 'the user’s shared lists were not deleted; they expire');
    }
  }

  /**
   * Every stored bundle version that knows the user, re-encoded with the user erased: the serving one
   * is erased in place (it serves without them from now on), the others decoded one at a time. Payloads
   * that do not contain the id's JSON text cannot know the user and are not decoded. Versions saved
   * while this ran are looked at too, until a listing brings nothing new.
   */
  private async bundlesWithout(userId: string): Promise<ArtifactRewrite[]> {
    const needle = Buffer.from(JSON.stringify(userId), 'utf8');
    const rewrites: ArtifactRewrite[] = [];
    const seen = new Set<number>();
    for (;;) {
      const versions = (await this.store.listArtifacts(BUNDLE_ARTIFACT)).filter((a) => !seen.has(a.version));
      if (versions.length === 0) return rewrites;
      for (const { version } of versions) {
        seen.add(version);
        const serving = this.bundle?.version === version ? this.bundle : null;
        if (serving !== null) {
          if (serving.eraseUser(userId)) {
            rewrites.push({ name: BUNDLE_ARTIFACT, version, payload: serving.encode() });
          }
          continue;
        }
        const stored = await this.store.loadArtifact(BUNDLE_ARTIFACT, version);
        if (stored === null || Buffer.from(stored.payload).indexOf(needle) < 0) continue;
        let bundle: ModelBundle;
        try {
          bundle = ModelBundle.decode(stored.payload, version);
        } catch (error) {
          // It cannot serve either; what it holds cannot be rewritten, so it is emptied.
          this.logger.warn({ err: error, version }, `bundle version ${version} is unreadable; erased whole`);
          rewrites.push({ name: BUNDLE_ARTIFACT, version, payload: new Uint8Array(0) });
          continue;
        }
        if (bundle.eraseUser(userId)) {
          rewrites.push({ name: BUNDLE_ARTIFACT, version, payload: bundle.encode() });
        }
      }
    }
  }

  // --- consent ------------------------------------------------------------------------------------

  /** The user's consent: recorded, else the configured default. Cached like users' traits. */
  async consentOf(userId: string): Promise<Consent> {
    let recorded = this.consents.get(userId);
    if (recorded === undefined) {
      recorded = await this.store.getConsent(userId);
      // A `setConsent` that landed while this read was under way has the newer value.
      if (!this.consents.has(userId)) this.consents.set(userId, recorded);
      recorded = this.consents.peek(userId) ?? null;
    }
    return recorded ?? this.config.defaultConsent;
  }

  /**
   * Records the user's consent. Withdrawing it (to `analytics` or `none`) takes effect on the next request
   * and event: their list is no longer personalized and their later events no longer reach live state or
   * training; what they did before stays stored until they are erased.
   */
  async setConsent(userId: string, consent: Consent): Promise<void> {
    await this.store.setConsent(userId, consent, this.now());
    this.consents.set(userId, consent);
    if (!personalizes(consent)) {
      this.histories.forget(userId);
      this.#shown.forget(userId);
    }
    this.#announce((app) => ({ type: 'consent', app, user: userId }));
  }

  /**
   * An anonymous visitor turned out to be a known user (Segment's identify): `fromId`'s stored events become
   * `toId`'s (`Store.mergeUser`), and what is held in memory of either (whole histories, served profiles and
   * their scores, online features of both users and of the items the moved events name) is forgotten, as
   * for an erasure, so each is read again from the store on its next use. Not done when `toId`'s consent is
   * `none`: their events are not to be stored, so none are made theirs. Returns how many events moved.
   */
  async mergeUser(fromId: string, toId: string): Promise<number> {
    if (fromId === toId || (await this.consentOf(toId)) === 'none') return 0;
    const merged = await this.store.mergeUser(fromId, toId);
    if (merged.events === 0) return 0;
    // The moved events keep their log positions, so both users' feature snapshots are wrong now.
    await Promise.all([this.features.forgetSnapshotSoon(fromId), this.features.forgetSnapshotSoon(toId)]);
    this.#forgetMerged(fromId, toId, merged.items);
    this.#announce((app) => ({ type: 'merged', app, from: fromId, to: toId }));
    return merged.events;
  }

  /** What is held of either user of a merge (and of the items the moved events name), on any instance. */
  #forgetMerged(fromId: string, toId: string, items: readonly string[]): void {
    for (const id of [fromId, toId]) {
      this.histories.forget(id);
      this.#shown.forget(id);
      forgetServedUser(id);
    }
    this.features.forgetUser(fromId, items);
    this.features.forgetUser(toId);
  }

  userEvents(userId: string, limit: number): Promise<TrackedEvent[]> {
    return this.store.userEvents(userId, { limit });
  }

  // --- features -----------------------------------------------------------------------------------

  /**
   * A user's online features now (from the events with timestamp < now). With `itemId`, also that item's
   * features and the user-item pair's, at the same time. Unknown: a user with no events and no stored
   * traits; an item neither in the catalog nor in recent events. Withheld: a user whose consent withholds
   * personalization.
   */
  async userFeatures(
    userId: string,
    itemId?: string,
  ): Promise<
    | {
        readonly at: number;
        readonly user: FeatureRow;
        readonly item?: FeatureRow;
        readonly pair?: FeatureRow;
      }
    | { readonly unknown: 'user' | 'item' }
    | Withheld
  > {
    const consent = await this.consentOf(userId);
    // Their events are kept for measurement only: no features are made of them, so no score nor segment.
    if (!personalizes(consent)) return { withheld: consent };
    if (itemId === undefined) {
      const { row, known, at } = await this.features.user(userId);
      if (!known && (await this.cachedUser(userId)) === null) return { unknown: 'user' };
      return { at, user: row };
    }
    const { at, known, itemKnown, user, item, pair } = await this.features.userWithItem(userId, itemId);
    if (!known && (await this.cachedUser(userId)) === null) return { unknown: 'user' };
    if (!itemKnown && !this.catalog.has(itemId)) return { unknown: 'item' };
    return { at, user, item, pair };
  }

  /** An item's online features now, or null for an item neither in the catalog nor in recent events. */
  async itemFeatures(itemId: string): Promise<{ at: number; item: FeatureRow } | null> {
    const { row, known, at } = await this.features.item(itemId);
    if (!known && !this.catalog.has(itemId)) return null;
    return { at, item: row };
  }

  // --- churn --------------------------------------------------------------------------------------

  /** Loads the newest stored churn model if it is newer than the serving one (see `ServedArtifact`). */
  async refreshChurnModel(): Promise<void> {
    await this.churnModel.refresh();
  }

  /**
   * A user's churn risk now: the serving churn model on the user's online features at the engine's clock.
   * `unknown`: no churn model is trained, or the user has no events and no stored traits.
   */
  async userChurn(
    userId: string,
  ): Promise<
    | { readonly at: number; readonly score: ChurnScore; readonly model: ChurnScorer }
    | { readonly unknown: 'model' | 'user' }
    | Withheld
  > {
    const consent = await this.consentOf(userId);
    if (!personalizes(consent)) return { withheld: consent };
    const model = this.churnModel.current;
    if (model === null) return { unknown: 'model' };
    const features = await this.userFeatures(userId);
    if ('withheld' in features) return features;
    if ('unknown' in features) return { unknown: 'user' };
    return { at: features.at, score: churnScoreOf(model, features.user), model };
  }

  // --- segments -----------------------------------------------------------------------------------

  /** Loads the newest stored segmentation if it is newer than the serving one (see `ServedArtifact`). */
  async refreshSegments(): Promise<void> {
    await this.segmentModel.refresh();
  }

  /** The serving segmentation, or null before `attune segments train` stored one. */
  get segments(): SegmentModel | null {
    return this.segmentModel.current;
  }

  /**
   * A user's segment now: the serving segmentation on the user's online features at the engine's clock.
   * `unknown`: no segmentation is trained, or the user has no events and no stored traits.
   */
  async userSegment(
    userId: string,
  ): Promise<
    | { readonly at: number; readonly assignment: SegmentAssignment; readonly model: SegmentModel }
    | { readonly unknown: 'model' | 'user' }
    | Withheld
  > {
    const consent = await this.consentOf(userId);
    if (!personalizes(consent)) return { withheld: consent };
    const model = this.segmentModel.current;
    if (model === null) return { unknown: 'model' };
    const features = await this.userFeatures(userId);
    if ('withheld' in features) return features;
    if ('unknown' in features) return { unknown: 'user' };
    return { at: features.at, assignment: segmentOfRow(model, features.user), model };
  }

  /** The id of the user's segment now, or null without a segmentation or for an unknown user. */
  async segmentOf(userId: string): Promise<string | null> {
    const placed = await this.userSegment(userId);
    return 'assignment' in placed ? placed.assignment.segment.id : null;
  }

  // --- catalog ------------------------------------------------------------------------------------

  /** Stores items whole; one sent without `created_at` keeps the stored item's creation time. */
  async putItems(writes: readonly ValidItem[]): Promise<Item[]> {
    const items = writes.map(({ item, createdAtGiven }) => {
      const stored = createdAtGiven ? undefined : this.catalog.get(item.id);
      return stored ? { ...item, createdAt: stored.createdAt } : item;
    });
    await this.store.putItems(items);
    for (const item of items) this.catalog.upsert(item);
    this.#announce((app) => ({ type: 'catalog', app, items: items.map((item) => item.id) }));
    return items;
  }

  getItem(id: string): Promise<Item | null> {
    return this.store.getItem(id);
  }

  listItems(after: string | undefined, limit: number): Promise<Item[]> {
    return this.store.listItems({ after, limit });
  }

  async deleteItem(id: string): Promise<boolean> {
    const existed = await this.store.deleteItem(id);
    this.catalog.remove(id);
    if (existed) this.#announce((app) => ({ type: 'catalog', app, items: [id] }));
    return existed;
  }

  /**
   * Stores the user's traits as their events' context is stored: what looks like personal data (e-mail,
   * phone, IP address, exact coordinates) removed or coarsened unless allowed (`privacy/`). Returns the
   * user as stored and what was changed.
   */
  async putUser(user: User): Promise<{ readonly user: User; readonly redactions: readonly Redaction[] }> {
    const { record: traits, redactions } = redactPersonalData(
      user.traits,
      'traits',
      this.config.personalData,
    );
    const stored = traits === user.traits ? user : { ...user, traits };
    await this.store.putUser(stored);
    this.users.set(user.id, stored);
    this.#announce((app) => ({ type: 'user', app, user: user.id }));
    return { user: stored, redactions };
  }

  getUser(id: string): Promise<User | null> {
    return this.store.getUser(id);
  }

  /** A stored user through the cache (see `users`). */
  private async cachedUser(id: string): Promise<User | null> {
    const cached = this.users.get(id);
    if (cached !== undefined) return cached;
    const user = await this.store.getUser(id);
    // A `putUser` that landed while this read was under way has the newer copy.
    if (!this.users.has(id)) this.users.set(id, user);
    return this.users.peek(id) ?? null;
  }

  /**
   * What serving knows of a user, for a list and for an explanation alike: their whole history, its
   * session, and, for a user no model knows, their traits.
   */
  private async profileOf(
    userId: string,
  ): Promise<{ readonly profile: ServingProfile; readonly bundle: ModelBundle | null }> {
    // Without consent to personalize, explanations and rankings are made as for someone with no history
    // and no traits.
    const personal = personalizes(await this.consentOf(userId));
    const history = personal ? await this.histories.get(userId) : null;
    // The profile is in this bundle's index space: the request runs with it, even if another loads meanwhile.
    const bundle = this.bundle;
    if (history === null) {
      const empty = UserHistory.empty(this.histories.tables);
      return { profile: impersonalProfile(userId, empty, bundle, this.profileSettings), bundle };
    }
    const profile = buildProfile(userId, history, bundle, this.profileSettings);
    if (!wantsTraits(profile, bundle)) return { profile, bundle };
    return { profile: withTraits(profile, await this.cachedUser(userId)), bundle };
  }

  // --- serving ------------------------------------------------------------------------------------

  /**
   * How the user's recommendations are served: held out, or personalized under the variants of the
   * experiments they are in. Reads the user's traits only when a running experiment has an audience.
   */
  async servingPlan(userId: string): Promise<ServingPlan> {
    return this.experiments.plan(userId, await this.audienceTraits(userId));
  }

  /**
   * When to reach the user (`GET /v1/users/:id/notification-time`): null for a user with no history;
   * withheld when their consent keeps their events from being turned into anything personal.
   */
  async notificationTime(
    userId: string,
    offsetMinutes: number,
    policy: SendPolicy,
  ): Promise<TimingAnswer | null | Withheld> {
    const consent = await this.consentOf(userId);
    if (!personalizes(consent)) return { withheld: consent };
    return this.notifications.answer(userId, offsetMinutes, policy);
  }

  // --- decision points ----------------------------------------------------------------------------

  get decisions(): DecisionPoints {
    if (this.#decisions === null) throw new Error('the engine is not open');
    return this.#decisions;
  }

  /** What decision points read of the engine: user facts, experiment arms, the clock, the store. */
  private decisionEnvironment(): DecisionEnvironment {
    return {
      store: this.store,
      now: this.now,
      userFeatureColumns: this.features.set.user.numeric,
      flushMs: this.config.impressionFlushMs,
      userInputs: async (userId, needs) => {
        const [traits, segment, user] = await Promise.all([
          needs.traits ? this.cachedUser(userId).then((u) => u?.traits ?? null) : null,
          needs.segment ? this.segmentOf(userId) : null,
          needs.user ? this.features.user(userId) : null,
        ]);
        return {
          traits,
          segment,
          user: user === null ? null : { columns: user.row.columns.numeric, numbers: user.row.numbers },
        };
      },
      arm: async (userId, point, at) => {
        if (!personalizes(await this.consentOf(userId))) return { kind: 'withheld' };
        const arm = this.experiments.decisionArm(userId, point, await this.audienceTraits(userId), at);
        if (arm.kind !== 'experiment') return arm;
        const { experiment, variant, treatment } = arm.assignment;
        return { kind: 'experiment', experiment, variant, policy: treatment.policy ?? 'learner' };
      },
      onError: (where, error) => {
        this.metrics.errors.inc({ where });
        this.logger.error({ err: error }, `${where} failed`);
      },
    };
  }

  /** The running experiments the user is in (client-side variants), and whether they are held out. */
  async assignments(userId: string): Promise<{ holdout: boolean; assignments: Assignment[] }> {
    return this.experiments.assignments(userId, await this.audienceTraits(userId));
  }

  /** Logs a client-side exposure; the variant is the user's assignment (see `ExperimentRegistry.exposeClient`). */
  async exposeClient(userId: string, experiment: string, at: number): Promise<Assignment> {
    return this.experiments.exposeClient(userId, experiment, await this.audienceTraits(userId), at);
  }

  /** The user's traits when a running experiment's audience needs them (a cached read), else null. */
  private async audienceTraits(userId: string): Promise<ScalarRecord | null> {
    const traits = this.experiments.needsTraits ? ((await this.cachedUser(userId))?.traits ?? null) : null;
    // The pseudo-trait `segment` costs a feature read and a placement: only when an audience names it.
    if (!this.experiments.needsSegment) return traits;
    const segment = await this.segmentOf(userId);
    return segment === null ? traits : { ...traits, [SEGMENT_TRAIT]: segment };
  }

  /**
   * The analysis of an experiment (or of the global holdout, id `holdout`) as of now, from the exposures
   * and the event log, in a worker thread with its own store connection: it reads the whole log.
   */
  async experimentReport(
    id: string,
    options: { readonly estimates?: boolean } = {},
  ): Promise<ExperimentReport> {
    if (id !== HOLDOUT && this.experiments.get(id) === undefined) {
      throw new ExperimentError(404, null, `no experiment "${id}"`);
    }
    await this.experiments.flush();
    await this.impressions.flush();
    return reportInWorker({
      storeUrl: this.config.storeUrl,
      id,
      holdout: this.config.holdout,
      now: this.now(),
      readonly: false,
      ...(options.estimates === true ? { estimates: true } : {}),
    });
  }

  async recommend(options: RecommendOptions): Promise<RecommendationResult & { readonly plan: ServedPlan }> {
    const consent = await this.consentOf(options.userId);
    if (!personalizes(consent)) return this.recommendWithheld(options, consent);
    const plan = options.plan ?? (await this.servingPlan(options.userId));
    const { profile, bundle } = await this.profileOf(options.userId);
    const model = plan.kind === 'personalized' ? plan.treatment.model : undefined;
    const now = this.now();
    const shown = plan.kind === 'personalized' ? await this.#shownTo(options.userId, bundle, now) : undefined;
    const request = {
      requestId: options.requestId ?? timeOrderedId(now),
      userId: options.userId,
      n: Math.min(options.n, this.config.maxResults),
      excludeSeen: options.excludeSeen,
      filter: options.filter,
      now,
      ...(shown === undefined ? {} : { shown }),
      ...(options.rules ? { rules: options.rules } : {}),
      ...(plan.kind === 'holdout' ? { personalized: false } : {}),
      ...(model === undefined ? {} : { model }),
    };
    const { list, cache } = await this.#servedList(request, profile, bundle);
    this.metrics.recommendationCache.inc({ result: cache });
    const result: RecommendationResult = { ...list, requestId: request.requestId };
    // A variant whose model the bundle does not hold yet (trained at the next run), or whose preset was
    // deleted, served the default: it is not exposed, so analysis never counts users who did not get it.
    const served =
      plan.kind === 'holdout'
        ? []
        : plan.assignments.filter(
            (a) =>
              (a.treatment.model === undefined || bundle?.model(a.treatment.model)) &&
              (options.missingPreset === undefined || a.treatment.preset !== options.missingPreset),
          );
    if (options.preview !== true) {
      this.experiments.expose(options.userId, plan, served, request.now);
      this.metrics.recommendations.inc({ model: result.model, fallback: result.fallback ?? 'none' });
      this.logImpression(RECOMMENDATIONS, result.requestId, options.userId, result);
    }
    return extend(result, {
      plan: {
        holdout: plan.kind === 'holdout',
        experiments:
          plan.kind === 'holdout'
            ? []
            : plan.assignments.map((a) => extend(a, { served: served.includes(a) })),
      },
    });
  }

  /**
   * The list `request` asks for: kept by this instance, else kept by another (the shared tier, when the
   * deployment has one), else computed now, and kept in both.
   */
  async #servedList(
    request: RecommendationRequest,
    profile: ServingProfile,
    bundle: ModelBundle | null,
  ): Promise<{ readonly list: ServedList; readonly cache: 'hit' | 'miss' | 'shared_hit' }> {
    const compute = (): ServedList => {
      const { requestId: _, ...computed } = runPipeline(
        this.stages,
        request,
        profile,
        bundle,
        this.catalog,
        this.#timeStage,
      );
      return computed;
    };
    const lists = this.#sharedLists;
    if (lists === null) {
      const { list, fresh } = this.#results.serve(request, profile, bundle, this.catalog, compute);
      return { list, cache: fresh ? 'miss' : 'hit' };
    }
    const { list, source } = await this.#results.serveShared(
      request,
      profile,
      bundle,
      this.catalog,
      compute,
      {
        lists,
        scope: this.#sharedListScope,
      },
    );
    return { list, cache: source === 'memory' ? 'hit' : source === 'shared' ? 'shared_hit' : 'miss' };
  }

  /**
   * The list of a user whose consent withholds personalization: the non-personalized baseline (popularity
   * under the same rules, as the holdout gets) from an empty history, so nothing they did shapes it; not
   * exposed to experiments (they receive no variant), and their impression is not logged.
   */
  private recommendWithheld(
    options: RecommendOptions,
    consent: Consent,
  ): RecommendationResult & { readonly plan: ServedPlan } {
    const bundle = this.bundle;
    const profile = impersonalProfile(
      options.userId,
      UserHistory.empty(this.histories.tables),
      bundle,
      this.profileSettings,
    );
    const request = {
      requestId: options.requestId ?? timeOrderedId(this.now()),
      userId: options.userId,
      n: Math.min(options.n, this.config.maxResults),
      excludeSeen: false,
      filter: options.filter,
      now: this.now(),
      ...(options.rules ? { rules: options.rules } : {}),
      personalized: false,
    };
    const result = runPipeline(this.stages, request, profile, bundle, this.catalog, this.#timeStage);
    this.metrics.recommendations.inc({ model: result.model, fallback: result.fallback ?? 'none' });
    return extend(result, { plan: { holdout: false, consent, experiments: [] } });
  }

  /** Whether the serving bundle was trained on the item. */
  knowsItem(itemId: string): boolean {
    return this.bundle?.itemIndex.has(itemId) ?? false;
  }

  /** The model or blend that serves personal lists, with its parameters (recency included). */
  servingChoice(): { readonly model: ModelName; readonly params: JsonValue } | null {
    const bundle = this.bundle;
    const model = bundle?.model(bundle.info.primary);
    return model ? { model: model.name, params: model.params } : null;
  }

  /** The models of the serving bundle. */
  modelNames(): ModelName[] {
    return this.bundle ? [...this.bundle.models.keys()] : [];
  }

  /** The given items in the re-ranker's order for the user (`POST /v1/rank`); logs no impression. */
  async rank(userId: string, itemIds: readonly string[]): Promise<RankResult> {
    const { profile, bundle } = await this.profileOf(userId);
    const now = this.now();
    return rankItems(bundle, profile.model, itemIds, now, await this.#shownTo(userId, bundle, now));
  }

  /** The evidence behind one item's score for one user (the explain endpoint); logs no impression. */
  async explain(options: ExplainOptions): Promise<ExplainResult> {
    const { profile, bundle } = await this.profileOf(options.userId);
    return explainRecommendation(
      {
        userId: options.userId,
        itemId: options.itemId,
        limit: options.limit,
        now: this.now(),
        ...(options.model ? { model: options.model } : {}),
      },
      profile,
      bundle,
      this.catalog,
    );
  }

  similar(options: SimilarOptions): SimilarResult & { requestId: string } {
    const result = similarItems(
      {
        itemId: options.itemId,
        n: Math.min(options.n, this.config.maxResults),
        filter: options.filter,
        now: this.now(),
      },
      this.bundle,
      this.catalog,
    );
    const requestId = timeOrderedId(this.now());
    if (options.userId !== undefined) this.logImpression('similar', requestId, options.userId, result);
    return { ...result, requestId };
  }

  private logImpression(
    surface: string,
    requestId: string,
    userId: string,
    // Recommendation lists and similar-item lists alike (a similar list's model may be `none`).
    result: Pick<RecommendationResult, 'modelVersion' | 'fallback' | 'items'> & { readonly model: string },
  ): void {
    const impression: Impression = {
      requestId,
      userId,
      createdAt: this.now(),
      surface,
      model: result.model,
      modelVersion: result.modelVersion ?? 0,
      fallback: result.fallback !== null,
      items: this.#impressionItems(result.items),
    };
    this.impressions.record(impression);
    // What the re-ranker's training counts from the log: personal recommendation lists, held only while
    // the serving re-ranker reads them (the impression log keeps them all).
    if (readsShown(this.bundle) && surface === RECOMMENDATIONS && !impression.fallback) {
      this.#shown.record({
        userId,
        requestId,
        at: impression.createdAt,
        items: impression.items.map((item) => item.itemId),
      });
    }
  }

  /**
   * Per item, how often the user's recent lists showed it, when the bundle's re-ranker splits on that
   * (`user_item_shown`); undefined otherwise (no re-ranker, or one trained on candidate lists, where
   * nothing was shown), so such a bundle costs no read.
   */
  async #shownTo(
    userId: string,
    bundle: ModelBundle | null,
    now: number,
  ): Promise<ReadonlyMap<string, number> | undefined> {
    if (!readsShown(bundle)) return undefined;
    // A failed read leaves the counts to what this instance served: the list is still served.
    await this.#shown.ensure(userId, now).catch(() => this.metrics.errors.inc({ where: 'shown_lists' }));
    return this.#shown.counts(userId, now);
  }

  /**
   * The logged form of a served list's items. A list served again from the result cache is the same frozen
   * array, so its impressions share one, frozen too, which the store serialises once (`store/rows.ts`); a list
   * not kept gets an array of its own, left unfrozen so that the store keeps nothing for it either.
   */
  #impressionItems(items: readonly RecommendedItem[]): readonly ImpressionItem[] {
    return derivedOnce(this.#loggedItems, items, (list) => {
      const logged = list.map((item, position) => ({ itemId: item.itemId, position, score: item.score }));
      return Object.isFrozen(list) ? Object.freeze(logged) : logged;
    });
  }

  /** Writes what the impression, exposure and decision logs still buffer: reads after it see them. */
  async flushLogs(): Promise<void> {
    await Promise.all([this.impressions.flush(), this.experiments.flush(), this.#decisions?.flush()]);
  }

  async impression(requestId: string): Promise<{ impression: Impression; outcomes: TrackedEvent[] } | null> {
    await this.impressions.flush();
    const impression = await this.store.getImpression(requestId);
    if (!impression) return null;
    return { impression, outcomes: await this.store.eventsForRequest(requestId) };
  }

  // --- models -------------------------------------------------------------------------------------

  get servingBundle(): BundleInfo | null {
    return this.bundle?.info ?? null;
  }

  get trainingState(): TrainingState {
    return this.training;
  }

  listBundles(): Promise<ArtifactInfo[]> {
    return this.store.listArtifacts(BUNDLE_ARTIFACT);
  }

  /**
   * Trains a new bundle in the worker and, once it is stored whole, swaps it in if it is newer than the
   * serving one (see `loadBundle`). Resolves with the new bundle's info when the run ends; it serves
   * unless a bundle trained on later events arrived meanwhile. Concurrent calls in this engine share one
   * run; while another trainer holds the training lease it rejects with `TrainingLeaseHeldError`.
   */
  async train(onProgress?: TrainingProgress): Promise<BundleInfo> {
    return (await this.beginTraining(onProgress)).done;
  }

  /**
   * Starts a training run, or joins the one this engine is running. Resolves as soon as the run holds the
   * training lease, so a caller can answer before the run ends; rejects with `TrainingLeaseHeldError`
   * (naming the holder) when another trainer, in this process or another, holds it.
   */
  beginTraining(onProgress?: TrainingProgress): Promise<TrainingRun> {
    if (this.currentRun === null) {
      const run = this.startRun(onProgress);
      this.currentRun = run;
      const clear = () => {
        if (this.currentRun === run) this.currentRun = null;
      };
      run.then((started) => started.done.then(clear, clear), clear);
    }
    return this.currentRun;
  }

  private async startRun(onProgress?: TrainingProgress): Promise<TrainingRun> {
    const lease = await TrainingLease.acquire(this.store, this.trainer, this.config.trainingLeaseMs, {
      onLost: () =>
        this.logger.warn(
          { holder: this.trainer },
          'training lease lost to another trainer (this process stalled past the lease); the run goes on, ' +
            'and its bundle serves only if it is the newest by position',
        ),
      onError: (error, action) =>
        this.logger.warn({ err: error, holder: this.trainer }, `could not ${action} the training lease`),
    });
    this.lease = lease;
    this.training = { state: 'running', stage: 'starting', done: 0, total: 1 };
    this.logger.info({ holder: this.trainer }, 'training started');
    const started = performance.now();
    const done = (async () => {
      try {
        const info = await this.runner.run((stage, done, total) => {
          this.training = { state: 'running', stage, done, total };
          onProgress?.(stage, done, total);
        }, this.experiments.modelsWanted());
        const serving = await this.loadBundle(info.version);
        this.#announce((app) => ({ type: 'bundle', app, version: info.version }));
        const seconds = (performance.now() - started) / 1000;
        this.metrics.trainingSeconds.observe(seconds);
        this.logger.info(
          { version: info.version, position: info.position, serving, seconds },
          `training finished: bundle version ${info.version}`,
        );
        return info;
      } catch (error) {
        this.metrics.errors.inc({ where: 'training' });
        this.logger.error({ err: error, holder: this.trainer }, 'training failed');
        throw error;
      } finally {
        this.training = { state: 'idle' };
        this.lease = null;
        await lease.release();
      }
    })();
    return { done };
  }

  /**
   * Decodes a stored bundle version and swaps it in when it is newer than the serving one: trained through
   * a higher position, or through the same position with a higher version (a retrain of the same data,
   * e.g. with new settings, replaces the one before it). Anything else would step back to older data, so
   * it is not loaded (a slower run finishing late). Returns whether it now serves. A bundle that fails to
   * decode leaves the serving one in place, is logged and remembered as bad, and throws
   * `BundleDecodeError`.
   */
  private async loadBundle(version: number): Promise<boolean> {
    const artifact = await this.store.loadArtifact(BUNDLE_ARTIFACT, version);
    if (!artifact) throw new Error(`bundle version ${version} is not in the store`);
    let bundle: ModelBundle;
    try {
      bundle = ModelBundle.decode(artifact.payload, artifact.version);
    } catch (error) {
      this.rejectedBundles.add(version);
      this.metrics.errors.inc({ where: 'bundle-load' });
      const serving = this.bundle?.version ?? null;
      this.logger.error(
        { err: error, version, serving },
        `bundle version ${version} cannot be loaded and will not be retried; ` +
          (serving === null ? 'no bundle serves yet' : `version ${serving} keeps serving`),
      );
      throw error;
    }
    const serving = this.bundle;
    if (serving && compareBundles(bundle.info, serving.info) <= 0) {
      if (serving.version !== bundle.version) this.passOver(bundle.info, serving.info);
      return false;
    }
    if (this.config.rerank === 'off') bundle = bundle.withoutServingReranker(RERANK_OFF);
    this.bundle = bundle;
    // A re-ranker that does not read what users were shown lately needs none of it held.
    if (!readsShown(bundle)) this.#shown.clear();
    this.metrics.modelVersion.set(bundle.version);
    this.logger.info(
      { version, position: bundle.info.position, previous: serving?.version ?? null },
      `bundle version ${version} serving`,
    );
    return true;
  }

  /**
   * Loads the newest stored bundle if it is newer than the serving one: at start-up, and for versions
   * another process trained (`attune train` beside a running server, or later a separate training worker)
   * as soon as they are in the store. Newest means highest position, then highest version, so a version
   * saved last over older data does not win. A candidate that fails to decode is skipped for the next.
   */
  async refreshBundle(): Promise<void> {
    await this.bundleChanges.run(() => this.loadNewestBundle());
  }

  private async loadNewestBundle(): Promise<void> {
    const serving = this.bundle?.info ?? null;
    const listed = (await this.store.listArtifacts(BUNDLE_ARTIFACT))
      .map((artifact) => ({ version: artifact.version, position: storedPosition(artifact.meta) }))
      .filter((c) => !this.rejectedBundles.has(c.version));
    if (serving) {
      // A version saved after the serving one but over older data (a slow run finishing late): say so once.
      for (const c of listed) {
        if (c.version > serving.version && compareBundles(c, serving) < 0) this.passOver(c, serving);
      }
    }
    const candidates = listed
      .filter((c) => !serving || compareBundles(c, serving) > 0)
      .sort((a, b) => compareBundles(b, a));
    for (const candidate of candidates) {
      try {
        if (await this.loadBundle(candidate.version)) return;
      } catch (error) {
        // Logged and remembered by loadBundle; the next candidate may still be good.
        if (!(error instanceof BundleDecodeError)) throw error;
      }
    }
  }

  /** Logs, once, that a stored version stays unloaded because the serving one was trained on later data. */
  private passOver(bundle: Pick<BundleInfo, 'version' | 'position'>, serving: BundleInfo): void {
    this.rejectedBundles.add(bundle.version);
    this.logger.info(
      {
        version: bundle.version,
        position: bundle.position,
        serving: serving.version,
        servingPosition: serving.position,
      },
      `bundle version ${bundle.version} not loaded: trained through event ${bundle.position}, not newer ` +
        `than serving version ${serving.version} (through event ${serving.position})`,
    );
  }

  // --- the cluster ---------------------------------------------------------------------------------

  /** Tells the other instances of the deployment what changed (nothing is built without a cluster). */
  #announce(change: (app: string) => ClusterChange): void {
    this.#cluster?.publish(change(this.#app));
  }

  #joinCluster(bus: ClusterBus): void {
    this.#cluster = bus;
    this.#leaveCluster = bus.subscribe((notice) => {
      this.#applyClusterNotice(notice).catch((error: unknown) => {
        this.metrics.errors.inc({ where: 'cluster' });
        this.logger.error({ err: error, notice: notice.type }, 'applying a cluster message failed');
      });
    });
  }

  /**
   * Another instance changed the store: drop what that makes stale here (it is read again on next use),
   * load what it saved. Messages carry ids, never data, so a lost one costs staleness, not data; when the
   * bus says messages may have been lost (`resync`), everything cached is dropped.
   */
  async #applyClusterNotice(notice: ClusterNotice): Promise<void> {
    if (notice.type === 'resync') {
      this.histories.clear();
      this.#shown.clear();
      this.features.clear();
      this.users.clear();
      this.consents.clear();
      await this.#reloadCatalog();
      await this.refreshBundle();
      return;
    }
    if (notice.app !== this.#app) return;
    switch (notice.type) {
      case 'events':
        for (const userId of notice.users) this.histories.forget(userId);
        this.features.forgetChanged(notice.users, notice.items);
        return;
      case 'bundle':
        if (notice.version !== this.bundle?.version) await this.refreshBundle();
        return;
      case 'catalog': {
        const items = await Promise.all(notice.items.map((id) => this.store.getItem(id)));
        notice.items.forEach((id, index) => {
          const item = items[index];
          if (item) this.catalog.upsert(item);
          else this.catalog.remove(id);
        });
        return;
      }
      case 'erased':
        // The erasing instance rewrote the stored versions; the one serving here is erased in memory.
        await this.bundleChanges.run(async () => void this.bundle?.eraseUser(notice.user));
        this.histories.forget(notice.user);
        this.#shown.forget(notice.user);
        forgetServedUser(notice.user);
        this.features.forgetUser(notice.user);
        // A snapshot this instance is taking of them may fold the erased events.
        await this.features.forgetSnapshotSoon(notice.user);
        this.users.delete(notice.user);
        this.consents.delete(notice.user);
        this.experiments.forgetUser(notice.user);
        this.#decisions?.forgetUser(notice.user, []);
        return;
      case 'consent':
        this.consents.delete(notice.user);
        this.histories.forget(notice.user);
        this.#shown.forget(notice.user);
        forgetServedUser(notice.user);
        return;
      case 'user':
        this.users.delete(notice.user);
        forgetServedUser(notice.user);
        return;
      case 'merged':
        this.#forgetMerged(notice.from, notice.to, []);
        await Promise.all([
          this.features.forgetSnapshotSoon(notice.from),
          this.features.forgetSnapshotSoon(notice.to),
        ]);
        return;
    }
  }

  /** The whole catalog again from the store (after messages may have been missed). */
  async #reloadCatalog(): Promise<void> {
    const seen = new Set<string>();
    for await (const batch of this.store.scanItems()) {
      for (const item of batch) {
        this.catalog.upsert(item);
        seen.add(item.id);
      }
    }
    const gone = [...this.catalog.values()].filter((item) => !seen.has(item.id));
    for (const item of gone) this.catalog.remove(item.id);
  }

  private startSchedule(): void {
    if (this.config.bundlePollMs !== null) {
      this.pollTimer = setInterval(() => {
        this.experiments.refresh().catch((error: unknown) => {
          this.metrics.errors.inc({ where: 'experiments-poll' });
          this.logger.error({ err: error }, 'reading experiments failed');
        });
        this.refreshSegments().catch((error: unknown) => {
          this.metrics.errors.inc({ where: 'segments-poll' });
          this.logger.error({ err: error }, 'looking for new segments versions failed');
        });
        this.refreshChurnModel().catch((error: unknown) => {
          this.metrics.errors.inc({ where: 'churn-poll' });
          this.logger.error({ err: error }, 'looking for new churn model versions failed');
        });
        if (this.currentRun) return;
        this.refreshBundle().catch((error: unknown) => {
          this.metrics.errors.inc({ where: 'bundle-poll' });
          this.logger.error({ err: error }, 'looking for new bundle versions failed');
        });
      }, this.config.bundlePollMs);
      this.pollTimer.unref();
    }
    if (this.config.retentionMs !== null) {
      this.retentionTimer = setInterval(() => {
        this.expireEvents().catch((error: unknown) => {
          this.metrics.errors.inc({ where: 'retention' });
          this.logger.error({ err: error }, 'deleting expired events failed');
        });
      }, RETENTION_SWEEP_MS);
      this.retentionTimer.unref();
    }
    const interval = this.config.retrainIntervalMs;
    if (interval === null) return;
    this.retrainTimer = setInterval(() => void this.scheduledTraining(), interval);
    this.retrainTimer.unref();
  }

  /**
   * Deletes the raw events older than the retention period (`config.retentionMs`), in batches that each
   * hold the write lock briefly, yielding between them so requests interleave. The users whose events went
   * have their in-memory histories dropped (re-read on their next request). Returns how many were deleted.
   */
  async expireEvents(): Promise<number> {
    const retention = this.config.retentionMs;
    if (retention === null) return 0;
    const before = this.now() - retention;
    let total = 0;
    for (;;) {
      const { deleted, users } = await this.store.expireEvents(before, RETENTION_BATCH);
      for (const user of users) this.histories.forget(user);
      if (users.length > 0) this.#announce((app) => ({ type: 'events', app, users, items: [] }));
      total += deleted;
      this.metrics.eventsExpired.inc(deleted);
      if (deleted < RETENTION_BATCH) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * One tick of the retrain schedule: trains when events were stored past the serving bundle's position
   * (events from any process count, and a bundle another process trained counts as trained). A run
   * elsewhere holding the lease skips the tick; its bundle arrives through `refreshBundle`.
   */
  private async scheduledTraining(): Promise<void> {
    if (this.currentRun) return;
    let run: TrainingRun;
    try {
      if (!(await this.hasEventsAfter(this.bundle?.info.position ?? 0))) return;
      run = await this.beginTraining();
    } catch (error) {
      if (error instanceof TrainingLeaseHeldError) {
        this.logger.info(
          { holder: error.held.holder, since: new Date(error.held.acquiredAt).toISOString() },
          'scheduled training skipped: another trainer holds the training lease',
        );
        return;
      }
      this.metrics.errors.inc({ where: 'training' });
      this.logger.error({ err: error }, 'scheduled training could not start');
      return;
    }
    // A failed run counts and logs its failure itself.
    await run.done.catch(() => undefined);
  }

  /**
   * Whether an event is stored past `position`. Asked of the log rather than of `lastEventSeq`, which may
   * also move for duplicates that stored nothing (seq numbers can be spent without an event).
   */
  private async hasEventsAfter(position: number): Promise<boolean> {
    for await (const batch of this.store.scanEvents({ afterSeq: position, batchSize: 1 })) {
      if (batch.length > 0) return true;
    }
    return false;
  }

  async close(): Promise<void> {
    this.#leaveCluster?.();
    this.#leaveCluster = null;
    if (this.retrainTimer) clearInterval(this.retrainTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    // A run under way is ended, not waited for (a version is saved whole or not at all), so that no thread
    // still writes to the store once it is closed (and its files can be removed).
    await this.runner.stop();
    // A snapshot under way reads the store: it finishes before the store closes.
    await this.#snapshots?.settled();
    this.#snapshots?.close();
    // Free the lease now rather than at its expiry.
    await this.lease?.release();
    await this.#decisions?.close();
    await this.impressions.flush();
    await this.experiments.flush();
    await this.store.close();
  }
}

/** A user's churn score from their online feature row. */
function churnScoreOf(model: ChurnScorer, row: FeatureRow): ChurnScore {
  return model.score(model.rowFrom(row.columns.numeric, row.numbers));
}

/** A user's segment from their online feature row. */
function segmentOfRow(model: SegmentModel, row: FeatureRow): SegmentAssignment {
  return model.assign(model.vector(row));
}

/** The positions of `part`'s events, `part` being a subsequence of `all` (same order), from `all`'s positions. */
function subsequencePositions(
  part: readonly TrackedEvent[],
  all: readonly TrackedEvent[],
  positions: readonly (number | null)[],
): (number | null)[] {
  const out: (number | null)[] = new Array<number | null>(part.length);
  let j = 0;
  for (let i = 0; i < part.length; i++) {
    while (all[j] !== part[i]) j++;
    out[i] = positions[j]!;
    j++;
  }
  return out;
}

/** The distinct users and items of a batch of events: what another instance must drop. */
function usersAndItems(events: readonly TrackedEvent[]): { users: string[]; items: string[] } {
  const users = new Set<string>();
  const items = new Set<string>();
  for (const event of events) {
    users.add(event.userId);
    if (event.itemId !== null) items.add(event.itemId);
  }
  return { users: [...users], items: [...items] };
}

/**
 * The settings a served list depends on besides what its shared key holds (`sharedListKey`): instances
 * share lists only while these agree, so during a rolling change of settings no instance serves a list
 * made under the others'. (Releases share: a list is as good from either side of an upgrade, for its TTL.)
 */
function sharedListScope(config: EngineConfig): string {
  return JSON.stringify([
    config.feedback,
    config.session,
    config.coldStart,
    config.rerank,
    config.maxResults,
  ]);
}
