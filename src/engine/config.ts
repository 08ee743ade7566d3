import { defaultFeedbackConfig, type FeedbackConfig } from '../events/index.js';
import { FeatureSet } from '../features/index.js';
import { defaultParams, type ModelName, type ModelParamsByName } from '../models/index.js';
import { DEFAULT_PERSONAL_DATA_POLICY, type Consent, type PersonalDataPolicy } from '../privacy/index.js';
import { defaultSessionConfig, type SessionConfig } from '../recommendations/session.js';
import { DEFAULT_SCORING_BUDGET_MS, type RerankMode } from '../training/index.js';

/** Everything an engine instance is configured with. Built once at start-up; never mutated. */
export interface EngineConfig {
  /** Where the store lives, e.g. `sqlite:./.attune`. */
  readonly storeUrl: string;
  readonly feedback: FeedbackConfig;
  /** Events for items the catalog does not know create a placeholder item (available, uncategorised). */
  readonly createMissingItems: boolean;
  /** The model that serves personalised lists; popularity is always trained as the fallback. */
  readonly primaryModel: Exclude<ModelName, 'popularity'>;
  /**
   * How each training run picks the model that serves: 'auto' tunes and blends on a validation split cut
   * from the events and serves the best (falling back to `primaryModel` on too little data); 'fixed'
   * always serves `primaryModel` with `models`' parameters. 'auto' is the default: on the demo shop it
   * serves a blend with a third more validation ndcg@20 than ALS alone. What it may choose is bounded by
   * `scoringBudgetMs`, so a blend never costs serving more than the budget allows.
   */
  readonly selection: 'auto' | 'fixed';
  /**
   * With 'auto': most milliseconds per user the chosen model or blend may take to score and rank the
   * catalog, measured on validation during training (a blend costs the sum of its components).
   */
  readonly scoringBudgetMs: number;
  readonly models: ModelParamsByName;
  /**
   * Each training run also fits the hybrid model on item features (categories, tags, price band,
   * attributes) and user traits when there are any, and indexes every recommendable catalog item, so that
   * new items and users known only by traits get personal scores (`recommendations/cold-start.ts`).
   * Default true; false trains as before (no hybrid, event items only).
   */
  readonly coldStart: boolean;
  /**
   * Each training run also fits a re-ranker for the serving model's top candidates (`ranking/`): `auto`
   * (default) keeps it in the bundle only when its validation beats the model's own order on later lists;
   * `always` keeps it whatever validation says (to put it against the plain order in an experiment, or to
   * measure its cost); `off` (`ATTUNE_RERANK=off`) fits none, and serves the model's order even from a
   * bundle that carries one (trained elsewhere, or before the switch), which keeps it stored.
   */
  readonly rerank: RerankMode;
  /**
   * `ATTUNE_ADMIN_KEY`: an admin key of the default app kept in the environment instead of the store, to
   * create the first stored keys with. Null: none; with no stored key either, the API answers loopback only.
   */
  readonly adminKey: string | null;
  /**
   * What of an event's context and properties looks like personal data and is not stored as sent
   * (`privacy/`): IP addresses never, e-mail addresses and phone numbers unless allowed, exact coordinates
   * coarsened unless allowed (`ATTUNE_CONTEXT_ALLOW`).
   */
  readonly personalData: PersonalDataPolicy;
  /**
   * The consent of a user who has none recorded (`ATTUNE_DEFAULT_CONSENT`; `privacy/consent.ts`): `full` by
   * default; `analytics` or `none` where personalization must be opted into.
   */
  readonly defaultConsent: Consent;
  /**
   * How long raw events are kept (ms; `ATTUNE_RETENTION_DAYS`), or null to keep them all. Older ones are
   * deleted every `RETENTION_SWEEP_MS`; models, features and reports already computed from them stay.
   */
  readonly retentionMs: number | null;
  /** Retrain this often (ms) while new events keep arriving; `null` trains only on demand. */
  readonly retrainIntervalMs: number | null;
  /** Look for bundle versions trained by another process this often (ms); `null` never looks. */
  readonly bundlePollMs: number | null;
  /**
   * How long the training lease lasts unless renewed (ms). A run renews it every third of this, so it only
   * runs out when the trainer died or hung; then another trainer may take over after at most this long.
   */
  readonly trainingLeaseMs: number;
  /**
   * Bytes of users' whole histories the serving path keeps in memory (`recommendations/user-histories.ts`;
   * 18 bytes per item a user interacted with, plus ~600 per user). A user not held is read from the store's
   * per-item totals on their next request.
   */
  readonly historyCacheBytes: number;
  /** Stored users (traits) held in memory for cold start, absent ones included. */
  readonly userCacheUsers: number;
  /** Largest `n` a client may ask for. */
  readonly maxResults: number;
  /**
   * How long a served list may be served again to the same user asking with the same shape (ms;
   * `ATTUNE_RESULT_CACHE_MS`, default a minute), or null to compute every list. Anything that changes the list (the user's
   * events, the catalog, a model, an erasure, on any instance) makes the next one fresh at once; only the
   * clock's slow part (the re-ranker's day counts, the session window) may be this old
   * (`recommendations/result-cache.ts`).
   */
  readonly resultCacheMs: number | null;
  /** Impressions are written in batches; this bounds how long one waits in memory. */
  readonly impressionFlushMs: number;
  /**
   * How the current session shifts the list (`recommendations/session.ts`). Defaults: weight 1 (the
   * session's strongest item ties the model's best), the 5 newest session items, each older one counting a
   * quarter of the next (decay 0.25), 50 item-kNN neighbours each, sessions by `context.session_id` or else
   * 30 minutes. `weight: 0` turns it off.
   */
  readonly session: SessionConfig;
  /**
   * The global holdout: this share of users (by a hash of their id) never receives personalization. They
   * get popularity under the same filters and rules, so `attune experiments report holdout` always answers
   * what personalization adds. Default 0.05; 0 turns it off (`ATTUNE_HOLDOUT`).
   */
  readonly holdout: number;
  /**
   * The feature store's definitions (`features/`), validated and compiled: the built-in ones unless a file
   * is given (`ATTUNE_FEATURES`). Served by `GET /v1/features/definitions`.
   */
  readonly features: FeatureSet;
  /**
   * Bytes of online feature state kept in memory (`features/online.ts`): three quarters for users (their
   * lifetime summaries and events within the longest window), a quarter for items. A user or item not held
   * is read from the store on its next request.
   */
  readonly featureCacheBytes: number;
}

export const defaultEngineConfig: Omit<EngineConfig, 'storeUrl'> = {
  feedback: defaultFeedbackConfig,
  createMissingItems: true,
  primaryModel: 'als',
  selection: 'auto',
  scoringBudgetMs: DEFAULT_SCORING_BUDGET_MS,
  // A live catalog's popularity fades: interactions count half after 30 days. (The evaluation protocol's
  // `pop` baseline counts everything; `attune evaluate` uses its own protocol settings.)
  // The hybrid at 10 epochs instead of its evaluation default of 30: a third of the fit time (single-
  // threaded SGD; 30 epochs took ~30 s on the demo shop against ~1 s for ALS), and on validation cuts of
  // MovieLens 100K (`bench/cold-start.ts --validate`, seed 2026) no worse for cold items (recall@20 0.250
  // vs 0.239) or cold users (0.146 vs 0.143).
  models: {
    ...defaultParams,
    popularity: { halfLifeDays: 30 },
    hybrid: { ...defaultParams.hybrid, epochs: 10 },
  },
  coldStart: true,
  rerank: 'auto',
  adminKey: null,
  personalData: DEFAULT_PERSONAL_DATA_POLICY,
  defaultConsent: 'full',
  retentionMs: null,
  retrainIntervalMs: 10 * 60_000,
  bundlePollMs: 10_000,
  trainingLeaseMs: 60_000,
  historyCacheBytes: 256 * 1024 * 1024,
  userCacheUsers: 50_000,
  maxResults: 100,
  resultCacheMs: 60_000,
  impressionFlushMs: 50,
  session: defaultSessionConfig,
  holdout: 0.05,
  features: new FeatureSet(),
  featureCacheBytes: 128 * 1024 * 1024,
};

export function engineConfig(storeUrl: string, overrides: Partial<EngineConfig> = {}): EngineConfig {
  return { ...defaultEngineConfig, storeUrl, ...overrides };
}
