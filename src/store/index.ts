import { openPostgresStore } from './postgres.js';
import { openSqliteStore, type SqliteSynchronous } from './sqlite.js';
import type { Store } from './types.js';
import { parseStoreUrl } from './url.js';

export type {
  AppendOptions,
  ArtifactInfo,
  ArtifactRewrite,
  AuditEntry,
  ErasedRows,
  Erasure,
  Lease,
  LeaseAttempt,
  ListOptions,
  LoggedEvent,
  MergedRows,
  NewArtifact,
  RecentEvents,
  RecentEventsOptions,
  ScanOptions,
  ServedListClicks,
  Store,
  StoredApiKey,
  StoredArtifact,
  StoredAuditEntry,
  StoredDocument,
  StoredExperiment,
  UserActivity,
  UserEventsOptions,
  UserItemTotal,
} from './types.js';
export {
  StoreClosedError,
  StoreReadonlyError,
  StoreSchemaError,
  StoreUnavailableError,
  StoreValueError,
} from './errors.js';
export {
  DEFAULT_PG_SCHEMA,
  PostgresStore,
  openPostgresStore,
  type PostgresStoreOptions,
} from './postgres.js';
export { ServedArtifact } from './served-artifact.js';
export {
  DATABASE_FILE,
  SqliteStore,
  openSqliteStore,
  type SqliteSettings,
  type SqliteStoreOptions,
  type SqliteSynchronous,
} from './sqlite.js';

export interface OpenStoreOptions {
  /** Training workers and batch jobs open the store read-only. */
  readonly readonly?: boolean;
  /** SQLite only; see `SqliteStoreOptions.synchronous`. */
  readonly synchronous?: SqliteSynchronous;
  /** SQLite only; see `SqliteStoreOptions.backgroundCheckpoints`. */
  readonly backgroundCheckpoints?: boolean;
}

/** Opens the store a URL names; see `parseStoreUrl` for the forms. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  switch (location.backend) {
    case 'sqlite':
      return openSqliteStore({ dataDir: location.dataDir, ...options });
    case 'postgres':
      return openPostgresStore({ url: location.url, ...(options.readonly ? { readonly: true } : {}) });
  }
}

export { appStoreUrl, parseStoreUrl, storeUrlFromDataDir, type StoreLocation } from './url.js';
export { acquireRoleLock, type RoleLock, type RoleLockOptions } from './role-lock.js';
