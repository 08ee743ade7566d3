import { readFileSync } from 'node:fs';
import { engineConfig, type EngineConfig } from '../engine/index.js';
import { parseFeedbackConfig } from '../events/index.js';
import { FeatureSet, loadFeatureDefinitions } from '../features/index.js';
import { isScope } from '../access/index.js';
import { defaultHttpLimits, type HttpLimits } from '../api/index.js';
import { CONSENTS, isConsent } from '../privacy/index.js';
import type { RerankMode } from '../training/index.js';
import { envFlag } from './env-flag.js';
import { storeUrl } from './options.js';

type Env = Readonly<Record<string, string | undefined>>;

function rerankMode(env: Env): RerankMode | undefined {
  const value = env['ATTUNE_RERANK'];
  if (value === undefined) return undefined;
  if (/^(auto|1|true|yes|on)$/i.test(value)) return 'auto';
  if (/^always$/i.test(value)) return 'always';
  if (/^(0|false|no|off)$/i.test(value)) return 'off';
  throw new Error(`ATTUNE_RERANK must be auto, always or off, got "${value}"`);
}

function milliseconds(env: Env, name: string): number | null | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  if (value === '0' || value === 'off') return null;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`${name} must be milliseconds > 0 or "off"`);
  return number;
}

const PRIMARY_MODELS = ['als', 'itemknn', 'ease', 'rp3beta', 'hybrid'] as const;
/**
 * The engine configuration the CLI runs with: defaults, overridden by environment variables.
 * - `ATTUNE_CREATE_MISSING_ITEMS` (true): events for unknown items create catalog entries.
 * - `ATTUNE_RETRAIN_INTERVAL_MS` (600000, or `off`): scheduled retraining while events arrive.
 * - `ATTUNE_PRIMARY_MODEL` (`als`, `itemknn`, `ease`, `rp3beta` or `hybrid`; default `als`): the model that
 *   serves personalised lists with `ATTUNE_SELECTION=fixed`, and the fallback of `auto` on little data.
 * - `ATTUNE_SELECTION`: `auto` (default: each training run tunes, blends and serves the best on validation
 *   within `ATTUNE_SCORING_BUDGET_MS`, falling back to `ATTUNE_PRIMARY_MODEL` on little data) or `fixed`
 *   (always serve `ATTUNE_PRIMARY_MODEL`).
 * - `ATTUNE_SCORING_BUDGET_MS` (0.5): with `auto`, the most milliseconds per user the chosen scorer may take.
 * - `ATTUNE_FEEDBACK_FILE`: a JSON file of event-name → feedback overrides (see `events/feedback.ts`).
 * - `ATTUNE_HOLDOUT` (0.05): the share of users in the global holdout, who never get personalization
 *   (popularity under the same rules); `0` turns it off.
 * - `ATTUNE_RERANK` (`auto`; `on` means the same): each training run also fits a re-ranker of the serving
 *   model's top candidates, kept only when validation says it helps; `always` keeps it whatever validation
 *   says; `off` never fits one, and a serving instance with it serves no bundle's re-ranker (no retraining).
 * - `ATTUNE_ADMIN_KEY`: an admin key (24 characters or more) that works without being stored: create the
 *   first keys with it (`POST /v1/keys`). With neither it nor a stored key, the API answers loopback only.
 * - `ATTUNE_CONTEXT_ALLOW`: event context and properties fields kept as sent though they look like personal
 *   data (`email`, `context.lat`, comma-separated); IP addresses are never kept (`privacy/`).
 * - `ATTUNE_DEFAULT_CONSENT` (`full`): the consent of users with none recorded (`analytics`: measured, never
 *   personalized, until they consent; `none`: not even stored).
 * - `ATTUNE_RETENTION_DAYS` (off): raw events older than this many days are deleted (every 10 minutes);
 *   trained models and computed features keep what they learned from them.
 * - `ATTUNE_FEATURES`: a JSON file of feature definitions (`features/definitions.ts`; default built-in).
 * - `ATTUNE_RESULT_CACHE_MS` (60000, or `off`): how long a user's served list may be served again to them
 *   unchanged; their events, catalog writes and new models make it fresh at once.
 */
export function cliEngineConfig(
  dataDirOption: string | undefined,
  overrides: Partial<EngineConfig> = {},
  env: Env = process.env,
): EngineConfig {
  const fromEnv: { -readonly [K in keyof EngineConfig]?: EngineConfig[K] } = {};
  const create = envFlag(env, 'ATTUNE_CREATE_MISSING_ITEMS');
  if (create !== undefined) fromEnv.createMissingItems = create;
  const adminKey = env['ATTUNE_ADMIN_KEY'];
  if (adminKey !== undefined && adminKey !== '') fromEnv.adminKey = adminKey;
  const allow = (env['ATTUNE_CONTEXT_ALLOW'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (allow.length > 0) fromEnv.personalData = { allow: new Set(allow) };
  const consent = env['ATTUNE_DEFAULT_CONSENT'];
  if (consent !== undefined) {
    if (!isConsent(consent)) {
      throw new Error(`ATTUNE_DEFAULT_CONSENT must be one of ${CONSENTS.join(', ')}, got "${consent}"`);
    }
    fromEnv.defaultConsent = consent;
  }
  const retention = env['ATTUNE_RETENTION_DAYS'];
  if (retention !== undefined && retention !== 'off') {
    const days = Number(retention);
    if (!(days > 0)) {
      throw new Error(`ATTUNE_RETENTION_DAYS must be a positive number of days (or off), got '${retention}'`);
    }
    fromEnv.retentionMs = days * 86_400_000;
  }
  const rerank = rerankMode(env);
  if (rerank !== undefined) fromEnv.rerank = rerank;
  const resultCache = milliseconds(env, 'ATTUNE_RESULT_CACHE_MS');
  if (resultCache !== undefined) fromEnv.resultCacheMs = resultCache;
  const interval = milliseconds(env, 'ATTUNE_RETRAIN_INTERVAL_MS');
  if (interval !== undefined) fromEnv.retrainIntervalMs = interval;
  const primary = env['ATTUNE_PRIMARY_MODEL'];
  if (primary !== undefined) {
    const model = PRIMARY_MODELS.find((name) => name === primary);
    if (model === undefined)
      throw new Error(`ATTUNE_PRIMARY_MODEL must be one of ${PRIMARY_MODELS.join(', ')}`);
    fromEnv.primaryModel = model;
  }
  const selection = env['ATTUNE_SELECTION'];
  if (selection !== undefined) {
    if (selection !== 'auto' && selection !== 'fixed')
      throw new Error('ATTUNE_SELECTION must be auto or fixed');
    fromEnv.selection = selection;
  }
  const budget = env['ATTUNE_SCORING_BUDGET_MS'];
  if (budget !== undefined) {
    const ms = Number(budget);
    if (!(ms > 0))
      throw new Error(`ATTUNE_SCORING_BUDGET_MS must be a positive number of milliseconds, got '${budget}'`);
    fromEnv.scoringBudgetMs = ms;
  }
  const holdout = env['ATTUNE_HOLDOUT'];
  if (holdout !== undefined) {
    const share = holdout.trim() === '' ? Number.NaN : Number(holdout);
    if (!(share >= 0 && share < 1))
      throw new Error(`ATTUNE_HOLDOUT must be a share of users in [0, 1) (0 turns it off), got '${holdout}'`);
    fromEnv.holdout = share;
  }
  const feedbackFile = env['ATTUNE_FEEDBACK_FILE'];
  if (feedbackFile !== undefined)
    fromEnv.feedback = parseFeedbackConfig(JSON.parse(readFileSync(feedbackFile, 'utf8')));
  const featuresFile = env['ATTUNE_FEATURES'];
  if (featuresFile !== undefined)
    fromEnv.features = new FeatureSet(loadFeatureDefinitions(featuresFile), featuresFile);
  return engineConfig(storeUrl(dataDirOption), { ...fromEnv, ...overrides });
}

/**
 * The HTTP layer's limits from the environment (`api/limits.ts` has the defaults):
 * - `ATTUNE_CORS_ORIGINS`: origins whose pages may call the API from a browser, comma-separated
 *   (`https://shop.example,https://www.shop.example`); unset, no cross-origin call is allowed.
 * - `ATTUNE_RATE_LIMITS`: requests per second per key by scope, `ingest=200,server=5000,admin=1000`
 *   (any subset; an ingest key counts per key and client address).
 * - `ATTUNE_REQUEST_TIMEOUT_MS` (10000): how long a client may take to send a request.
 */
export function cliHttpLimits(env: Env = process.env): HttpLimits {
  const origins = (env['ATTUNE_CORS_ORIGINS'] ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new Error(`ATTUNE_CORS_ORIGINS: "${origin}" is not an origin such as https://shop.example`);
    }
  }
  const perSecond = { ...defaultHttpLimits.requestsPerSecond };
  for (const part of (env['ATTUNE_RATE_LIMITS'] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const [scope, value] = part.split('=').map((s) => s.trim());
    const limit = Number(value);
    if (!isScope(scope) || !Number.isSafeInteger(limit) || limit < 1) {
      throw new Error(`ATTUNE_RATE_LIMITS: "${part}" is not scope=requests per second, e.g. ingest=200`);
    }
    perSecond[scope] = limit;
  }
  const timeout = env['ATTUNE_REQUEST_TIMEOUT_MS'];
  const timeoutMs = timeout === undefined ? defaultHttpLimits.requestTimeoutMs : Number(timeout);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    throw new Error(`ATTUNE_REQUEST_TIMEOUT_MS must be a positive number of milliseconds, got '${timeout}'`);
  }
  return { corsOrigins: origins, requestsPerSecond: perSecond, requestTimeoutMs: timeoutMs };
}
