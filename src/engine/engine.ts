import { randomUUID } from 'node:crypto';
import type { Item, ItemFilter, User, ValidItem } from '../catalog/index.js';
import { CatalogIndex, placeholderItem } from '../catalog/index.js';
import type { AppendResult, TrackedEvent } from '../events/index.js';
import type { ModelName } from '../models/index.js';
import {
  buildProfile,
  defaultStages,
  ImpressionLog,
  RecentHistory,
  runPipeline,
  explainRecommendation,
  similarItems,
  withSession,
  type ExplainResult,
  type Impression,
  type RecommendationResult,
  type Rules,
  type SimilarResult,
  type Stage,
} from '../recommendations/index.js';
import { wantsTraits, withTraits } from '../recommendations/cold-start.js';
import { openStore, type ArtifactInfo, type Store } from '../store/index.js';
import {
  BUNDLE_ARTIFACT,
  ModelBundle,
  TrainingRunner,
  type BundleInfo,
  type TrainingProgress,
} from '../training/index.js';
import type { EngineConfig } from './config.js';
import { EngineMetrics } from './metrics.js';

export interface RecommendOptions {
  readonly userId: string;
  readonly n: number;
  readonly excludeSeen: boolean;
  readonly filter: ItemFilter | null;
  /** The client's id for this request; one is generated when absent. */
  readonly requestId?: string;
  /**
   * Compiled business rules, diversity and freshness. Their property filter is not applied from here:
   * pass it (combined with any request filter) as `filter`.
   */
  readonly rules?: Rules;
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
  private eventsSinceTraining = 0;
  private retrainTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private readonly runner: TrainingRunner;
  private readonly impressions: ImpressionLog;
  private readonly history: RecentHistory;

  private constructor(
    readonly config: EngineConfig,
    readonly store: Store,
    readonly catalog: CatalogIndex,
    readonly metrics: EngineMetrics,
    private readonly stages: readonly Stage[],
  ) {
    this.runner = new TrainingRunner(config.storeUrl, {
      feedback: config.feedback,
      primaryModel: config.primaryModel,
      selection: config.selection,
      scoringBudgetMs: config.scoringBudgetMs,
      models: config.models,
      hybrid: config.coldStart,
    });
    this.history = new RecentHistory(store, config.historyLimit, config.historyCacheUsers);
    this.impressions = new ImpressionLog(store, {
      flushMs: config.impressionFlushMs,
      onError: () => metrics.errors.inc({ where: 'impressions' }),
      onDrop: (count) => metrics.impressionsDropped.inc(count),
    });
  }

  /** Opens the store, loads the catalog and the latest trained bundle, and starts the retrain schedule. */
  static async open(config: EngineConfig, stages: readonly Stage[] = defaultStages): Promise<Engine> {
    const store = await openStore(config.storeUrl);
    const catalog = new CatalogIndex();
    for await (const batch of store.scanItems()) for (const item of batch) catalog.upsert(item);
    const engine = new Engine(config, store, catalog, new EngineMetrics(), stages);
    await engine.loadLatestBundle();
    engine.startSchedule();
    return engine;
  }

  // --- events -------------------------------------------------------------------------------------

  async appendEvents(events: readonly TrackedEvent[]): Promise<AppendResult> {
    const result = await this.store.appendEvents(events, {
      createMissingItems: this.config.createMissingItems,
    });
    if (result.createdItems.length > 0) {
      const created = new Set(result.createdItems);
      for (const event of events) {
        if (event.itemId !== null && created.has(event.itemId)) {
          created.delete(event.itemId);
          this.catalog.upsert(placeholderItem(event.itemId, event.timestamp));
        }
      }
    }
    this.history.record(events, new Set(result.duplicates));
    this.eventsSinceTraining += result.stored;
    this.metrics.eventsStored.inc(result.stored);
    this.metrics.eventsDuplicate.inc(result.duplicates.length);
    return result;
  }

  userEvents(userId: string, limit: number): Promise<TrackedEvent[]> {
    return this.store.userEvents(userId, { limit });
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
    return existed;
  }

  putUser(user: User): Promise<void> {
    return this.store.putUser(user);
  }

  getUser(id: string): Promise<User | null> {
    return this.store.getUser(id);
  }

  // --- serving ------------------------------------------------------------------------------------

  async recommend(options: RecommendOptions): Promise<RecommendationResult> {
    const bundle = this.bundle;
    const history = await this.history.get(options.userId);
    const { feedback, session } = this.config;
    const base = buildProfile(options.userId, history, bundle, feedback);
    const profile = withSession(base, history, bundle, feedback, session);
    // A user no model knows may still have traits the hybrid learned (`cold-start.ts`): one store read.
    if (wantsTraits(profile, bundle)) withTraits(profile, await this.store.getUser(options.userId));
    const request = {
      requestId: options.requestId ?? randomUUID(),
      userId: options.userId,
      n: Math.min(options.n, this.config.maxResults),
      excludeSeen: options.excludeSeen,
      filter: options.filter,
      now: Date.now(),
      ...(options.rules ? { rules: options.rules } : {}),
    };
    const result = runPipeline(this.stages, request, profile, bundle, this.catalog);
    this.metrics.recommendations.inc({ model: result.model, fallback: result.fallback ?? 'none' });
    this.logImpression('recommendations', result.requestId, options.userId, result);
    return result;
  }

  /** Whether the serving bundle was trained on the item. */
  knowsItem(itemId: string): boolean {
    return this.bundle?.itemIndex.has(itemId) ?? false;
  }

  /** The models of the serving bundle. */
  modelNames(): ModelName[] {
    return this.bundle ? [...this.bundle.models.keys()] : [];
  }

  /** The evidence behind one item's score for one user (the explain endpoint); logs no impression. */
  async explain(options: ExplainOptions): Promise<ExplainResult> {
    const bundle = this.bundle;
    const history = await this.history.get(options.userId);
    const profile = buildProfile(options.userId, history, bundle, this.config.feedback);
    if (wantsTraits(profile, bundle)) withTraits(profile, await this.store.getUser(options.userId));
    return explainRecommendation(
      {
        userId: options.userId,
        itemId: options.itemId,
        limit: options.limit,
        now: Date.now(),
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
        now: Date.now(),
      },
      this.bundle,
      this.catalog,
    );
    const requestId = randomUUID();
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
      createdAt: Date.now(),
      surface,
      model: result.model,
      modelVersion: result.modelVersion ?? 0,
      fallback: result.fallback !== null,
      items: result.items.map((item, position) => ({ itemId: item.itemId, position, score: item.score })),
    };
    this.impressions.record(impression);
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
   * Trains a new bundle in the worker and, once it is stored whole, swaps it in. Resolves when the new
   * version serves. Concurrent calls share one run.
   */
  async train(onProgress?: TrainingProgress): Promise<BundleInfo> {
    const seenBefore = this.eventsSinceTraining;
    this.training = { state: 'running', stage: 'starting', done: 0, total: 1 };
    const started = performance.now();
    try {
      const info = await this.runner.run((stage, done, total) => {
        this.training = { state: 'running', stage, done, total };
        onProgress?.(stage, done, total);
      });
      await this.loadBundle(info.version);
      this.eventsSinceTraining -= Math.min(seenBefore, this.eventsSinceTraining);
      this.metrics.trainingSeconds.observe((performance.now() - started) / 1000);
      return info;
    } finally {
      this.training = { state: 'idle' };
    }
  }

  private async loadLatestBundle(): Promise<void> {
    const [latest] = await this.store.listArtifacts(BUNDLE_ARTIFACT);
    if (latest) await this.loadBundle(latest.version);
  }

  private async loadBundle(version: number): Promise<void> {
    const artifact = await this.store.loadArtifact(BUNDLE_ARTIFACT, version);
    if (!artifact) throw new Error(`bundle version ${version} is not in the store`);
    const bundle = ModelBundle.decode(artifact.payload);
    // Never step back: a slower, older run finishing late must not replace a newer bundle.
    if (this.bundle && this.bundle.version >= bundle.version) return;
    this.bundle = bundle;
    this.metrics.modelVersion.set(bundle.version);
  }

  /**
   * Loads a bundle version that another process trained (`attune train` beside a running server, or
   * later a separate training worker) as soon as it is in the store.
   */
  async refreshBundle(): Promise<void> {
    const [latest] = await this.store.listArtifacts(BUNDLE_ARTIFACT);
    if (latest && latest.version > (this.bundle?.version ?? 0)) await this.loadBundle(latest.version);
  }

  private startSchedule(): void {
    if (this.config.bundlePollMs !== null) {
      this.pollTimer = setInterval(() => {
        if (this.runner.busy) return;
        this.refreshBundle().catch(() => this.metrics.errors.inc({ where: 'bundle-poll' }));
      }, this.config.bundlePollMs);
      this.pollTimer.unref();
    }
    const interval = this.config.retrainIntervalMs;
    if (interval === null) return;
    this.retrainTimer = setInterval(() => {
      if (this.eventsSinceTraining === 0 || this.runner.busy) return;
      this.train().catch(() => this.metrics.errors.inc({ where: 'training' }));
    }, interval);
    this.retrainTimer.unref();
  }

  async close(): Promise<void> {
    if (this.retrainTimer) clearInterval(this.retrainTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.impressions.flush();
    await this.store.close();
  }
}
