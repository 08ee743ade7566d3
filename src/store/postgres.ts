import { PgDb, type PgDbOptions } from './postgres-db.js';
import { PgEventTables } from './postgres-events.js';
import { PgLogWriter } from './postgres-writer.js';
import { PgRecordTables } from './postgres-records.js';
import { assertReadablePostgres, migratePostgres } from './postgres-schema.js';
import type { Store } from './types.js';

/** The part of the contract `postgres-events.ts` implements. */
export type EventTables = Pick<
  Store,
  | 'appendEvents'
  | 'userItems'
  | 'userEvents'
  | 'itemEvents'
  | 'scanEvents'
  | 'lastEventSeq'
  | 'eventsForRequest'
  | 'countEvents'
  | 'expireEvents'
  | 'putItems'
  | 'getItem'
  | 'listItems'
  | 'scanItems'
  | 'deleteItem'
  | 'countItems'
  | 'putUser'
  | 'getUser'
  | 'appendImpressions'
  | 'getImpression'
  | 'scanImpressions'
  | 'recentImpressions'
  | 'userImpressions'
  | 'eraseUser'
  | 'lastErasureAt'
  | 'mergeUser'
  | 'eventCounts'
  | 'activeUsers'
  | 'activityTotals'
  | 'recentUsers'
  | 'recentEvents'
  | 'servedListClicks'
>;

/** The part of the contract `postgres-records.ts` implements. */
export type RecordTables = Pick<
  Store,
  | 'saveExperiment'
  | 'getExperiment'
  | 'listExperiments'
  | 'appendExposures'
  | 'scanExposures'
  | 'countExposures'
  | 'saveDecisionPoint'
  | 'getDecisionPoint'
  | 'listDecisionPoints'
  | 'deleteDecisionPoint'
  | 'appendDecisions'
  | 'writeDecisionLog'
  | 'getDecision'
  | 'closeDecisions'
  | 'expiredDecisions'
  | 'scanDecisions'
  | 'decisionStats'
  | 'userExposures'
  | 'userDecisions'
  | 'setConsent'
  | 'getConsent'
  | 'getConsents'
  | 'listConsents'
  | 'createApiKey'
  | 'getApiKey'
  | 'listApiKeys'
  | 'revokeApiKey'
  | 'countApiKeys'
  | 'appendAudit'
  | 'listAudit'
  | 'saveArtifact'
  | 'loadArtifact'
  | 'listArtifacts'
  | 'acquireLease'
  | 'renewLease'
  | 'releaseLease'
  | 'decisionActivity'
  | 'getMeta'
  | 'setMeta'
>;

/** The schema a `postgres://` URL without `?schema=` uses. */
export const DEFAULT_PG_SCHEMA = 'attune';

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/db`, optionally with `?schema=name` (default `attune`). */
  readonly url: string;
  /** Training workers and batch jobs: no migrations, every write rejected. */
  readonly readonly?: boolean;
  readonly poolSize?: number;
  readonly connectTimeoutMs?: number;
}

/**
 * `Store` on PostgreSQL: the same contract as the embedded SQLite store (`store.contract.ts`), for several
 * stateless API instances and one worker sharing one database. Each store lives in its own schema (one
 * per app), created and migrated on open. The methods live in two halves, by table family; this class
 * only joins them.
 */
export class PostgresStore implements Store {
  readonly backend = 'postgres';
  readonly #db: PgDb;
  readonly #events: PgEventTables;
  readonly #records: RecordTables;
  readonly #logWriter: PgLogWriter;

  constructor(db: PgDb) {
    this.#db = db;
    this.#logWriter = new PgLogWriter(db.options);
    this.#events = new PgEventTables(db, this.#logWriter);
    this.#records = new PgRecordTables(db, this.#logWriter);
  }

  /** The schema this store lives in. */
  get schema(): string {
    return this.#db.schema;
  }

  // --- events, catalog, impressions, identity, erasure, activity: postgres-events.ts ---------------
  readonly appendEvents: Store['appendEvents'] = (...args) => this.#events.appendEvents(...args);
  readonly userItems: Store['userItems'] = (...args) => this.#events.userItems(...args);
  readonly userEvents: Store['userEvents'] = (...args) => this.#events.userEvents(...args);
  readonly itemEvents: Store['itemEvents'] = (...args) => this.#events.itemEvents(...args);
  readonly scanEvents: Store['scanEvents'] = (...args) => this.#events.scanEvents(...args);
  readonly lastEventSeq: Store['lastEventSeq'] = (...args) => this.#events.lastEventSeq(...args);
  readonly eventsForRequest: Store['eventsForRequest'] = (...args) => this.#events.eventsForRequest(...args);
  readonly countEvents: Store['countEvents'] = (...args) => this.#events.countEvents(...args);
  readonly expireEvents: Store['expireEvents'] = (...args) => this.#events.expireEvents(...args);
  readonly putItems: Store['putItems'] = (...args) => this.#events.putItems(...args);
  readonly getItem: Store['getItem'] = (...args) => this.#events.getItem(...args);
  readonly listItems: Store['listItems'] = (...args) => this.#events.listItems(...args);
  readonly scanItems: Store['scanItems'] = (...args) => this.#events.scanItems(...args);
  readonly deleteItem: Store['deleteItem'] = (...args) => this.#events.deleteItem(...args);
  readonly countItems: Store['countItems'] = (...args) => this.#events.countItems(...args);
  readonly putUser: Store['putUser'] = (...args) => this.#events.putUser(...args);
  readonly getUser: Store['getUser'] = (...args) => this.#events.getUser(...args);
  readonly appendImpressions: Store['appendImpressions'] = (...args) =>
    this.#events.appendImpressions(...args);
  readonly getImpression: Store['getImpression'] = (...args) => this.#events.getImpression(...args);
  readonly scanImpressions: Store['scanImpressions'] = (...args) => this.#events.scanImpressions(...args);
  readonly recentImpressions: Store['recentImpressions'] = (...args) =>
    this.#events.recentImpressions(...args);
  readonly userImpressions: Store['userImpressions'] = (...args) => this.#events.userImpressions(...args);
  readonly eraseUser: Store['eraseUser'] = (...args) => this.#events.eraseUser(...args);
  readonly lastErasureAt: Store['lastErasureAt'] = (...args) => this.#events.lastErasureAt(...args);
  readonly mergeUser: Store['mergeUser'] = (...args) => this.#events.mergeUser(...args);
  readonly eventCounts: Store['eventCounts'] = (...args) => this.#events.eventCounts(...args);
  readonly activeUsers: Store['activeUsers'] = (...args) => this.#events.activeUsers(...args);
  readonly activityTotals: Store['activityTotals'] = (...args) => this.#events.activityTotals(...args);
  readonly recentUsers: Store['recentUsers'] = (...args) => this.#events.recentUsers(...args);
  readonly recentEvents: Store['recentEvents'] = (...args) => this.#events.recentEvents(...args);
  readonly servedListClicks: Store['servedListClicks'] = (...args) => this.#events.servedListClicks(...args);

  // --- experiments, decisions, consent, keys, audit, artifacts, leases, meta: postgres-records.ts ---
  readonly saveExperiment: Store['saveExperiment'] = (...args) => this.#records.saveExperiment(...args);
  readonly getExperiment: Store['getExperiment'] = (...args) => this.#records.getExperiment(...args);
  readonly listExperiments: Store['listExperiments'] = (...args) => this.#records.listExperiments(...args);
  readonly appendExposures: Store['appendExposures'] = (...args) => this.#records.appendExposures(...args);
  readonly scanExposures: Store['scanExposures'] = (...args) => this.#records.scanExposures(...args);
  readonly countExposures: Store['countExposures'] = (...args) => this.#records.countExposures(...args);
  readonly saveDecisionPoint: Store['saveDecisionPoint'] = (...args) =>
    this.#records.saveDecisionPoint(...args);
  readonly getDecisionPoint: Store['getDecisionPoint'] = (...args) => this.#records.getDecisionPoint(...args);
  readonly listDecisionPoints: Store['listDecisionPoints'] = (...args) =>
    this.#records.listDecisionPoints(...args);
  readonly deleteDecisionPoint: Store['deleteDecisionPoint'] = (...args) =>
    this.#records.deleteDecisionPoint(...args);
  readonly appendDecisions: Store['appendDecisions'] = (...args) => this.#records.appendDecisions(...args);
  readonly writeDecisionLog: Store['writeDecisionLog'] = (...args) => this.#records.writeDecisionLog(...args);
  readonly getDecision: Store['getDecision'] = (...args) => this.#records.getDecision(...args);
  readonly closeDecisions: Store['closeDecisions'] = (...args) => this.#records.closeDecisions(...args);
  readonly expiredDecisions: Store['expiredDecisions'] = (...args) => this.#records.expiredDecisions(...args);
  readonly scanDecisions: Store['scanDecisions'] = (...args) => this.#records.scanDecisions(...args);
  readonly decisionStats: Store['decisionStats'] = (...args) => this.#records.decisionStats(...args);
  readonly userExposures: Store['userExposures'] = (...args) => this.#records.userExposures(...args);
  readonly userDecisions: Store['userDecisions'] = (...args) => this.#records.userDecisions(...args);
  readonly setConsent: Store['setConsent'] = (...args) => this.#records.setConsent(...args);
  readonly getConsent: Store['getConsent'] = (...args) => this.#records.getConsent(...args);
  readonly getConsents: Store['getConsents'] = (...args) => this.#records.getConsents(...args);
  readonly listConsents: Store['listConsents'] = (...args) => this.#records.listConsents(...args);
  readonly createApiKey: Store['createApiKey'] = (...args) => this.#records.createApiKey(...args);
  readonly getApiKey: Store['getApiKey'] = (...args) => this.#records.getApiKey(...args);
  readonly listApiKeys: Store['listApiKeys'] = (...args) => this.#records.listApiKeys(...args);
  readonly revokeApiKey: Store['revokeApiKey'] = (...args) => this.#records.revokeApiKey(...args);
  readonly countApiKeys: Store['countApiKeys'] = (...args) => this.#records.countApiKeys(...args);
  readonly appendAudit: Store['appendAudit'] = (...args) => this.#records.appendAudit(...args);
  readonly listAudit: Store['listAudit'] = (...args) => this.#records.listAudit(...args);
  readonly saveArtifact: Store['saveArtifact'] = (...args) => this.#records.saveArtifact(...args);
  readonly loadArtifact: Store['loadArtifact'] = (...args) => this.#records.loadArtifact(...args);
  readonly listArtifacts: Store['listArtifacts'] = (...args) => this.#records.listArtifacts(...args);
  readonly acquireLease: Store['acquireLease'] = (...args) => this.#records.acquireLease(...args);
  readonly renewLease: Store['renewLease'] = (...args) => this.#records.renewLease(...args);
  readonly releaseLease: Store['releaseLease'] = (...args) => this.#records.releaseLease(...args);
  readonly decisionActivity: Store['decisionActivity'] = (...args) => this.#records.decisionActivity(...args);
  readonly getMeta: Store['getMeta'] = (...args) => this.#records.getMeta(...args);
  readonly setMeta: Store['setMeta'] = (...args) => this.#records.setMeta(...args);

  /** Idempotent. Any later call rejects with `StoreClosedError`. */
  async close(): Promise<void> {
    // Appends still queued for a group commit are committed first, as SQLite's close does.
    if (!this.#db.closed) await this.#events.settle();
    await this.#logWriter.close();
    await this.#db.close();
  }
}

/** Splits Attune's own `schema` parameter off a `postgres://` URL; the rest goes to the driver. */
export function parsePostgresUrl(url: string): {
  readonly connectionString: string;
  readonly schema: string;
} {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('Invalid store URL: not a postgres:// URL (host, port, database)');
  }
  const schema = parsed.searchParams.get('schema') ?? DEFAULT_PG_SCHEMA;
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}

/** Opens (and, unless read-only, creates and migrates) the store a `postgres://` URL names. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { connectionString, schema } = parsePostgresUrl(options.url);
  const settings: PgDbOptions = {
    connectionString,
    schema,
    readonly: options.readonly ?? false,
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
  };
  const db = new PgDb(settings);
  try {
    if (settings.readonly) await assertReadablePostgres(db);
    else await migratePostgres(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return new PostgresStore(db);
}
