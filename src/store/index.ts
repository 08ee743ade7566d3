import { join, resolve } from 'node:path';

import { openSqliteStore, type SqliteSynchronous } from './sqlite.js';
import type { Store } from './types.js';

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
export { StoreClosedError, StoreReadonlyError, StoreSchemaError } from './errors.js';
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

export type StoreLocation =
  | { readonly backend: 'sqlite'; readonly dataDir: string }
  | { readonly backend: 'postgres'; readonly url: string };

/**
 * Reads a store URL: `sqlite:<data-dir>` (e.g. `sqlite:./.attune`, `sqlite:/var/lib/attune`, or the URL
 * form `sqlite:///var/lib/attune`) or `postgres://…` / `postgresql://…`. Error messages never repeat the
 * URL itself, which may carry a database password.
 */
export function parseStoreUrl(url: string): StoreLocation {
  const colon = url.indexOf(':');
  const scheme = colon > 0 ? url.slice(0, colon).toLowerCase() : '';
  const rest = url.slice(colon + 1);
  if (scheme === 'sqlite') {
    // `sqlite:///abs` is the URL spelling of `sqlite:/abs`; `sqlite://name` would put a host where a path
    // belongs, and guessing what was meant would open the wrong directory.
    let dataDir = rest;
    if (rest.startsWith('//')) {
      if (!rest.startsWith('///')) throw new Error(storeUrlHint('a sqlite URL has no host'));
      dataDir = rest.slice(2);
    }
    if (dataDir === '') throw new Error(storeUrlHint('the sqlite URL names no data directory'));
    return { backend: 'sqlite', dataDir };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') return { backend: 'postgres', url };
  throw new Error(
    storeUrlHint(scheme ? `unsupported store scheme "${scheme}:"` : 'the store URL has no scheme'),
  );
}

/** Opens the store a URL names; see `parseStoreUrl` for the forms. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  switch (location.backend) {
    case 'sqlite':
      return openSqliteStore({ dataDir: location.dataDir, ...options });
    case 'postgres':
      throw new Error(
        'The PostgreSQL store is not implemented yet; ' +
          'use a sqlite: store URL for now (e.g. sqlite:./.attune)',
      );
  }
}

/**
 * The store URL of one app (tenant) beside the default one: SQLite keeps each app in `apps/<app>/` under
 * the data directory. `app` must already be a valid app name (`access/`: lowercase letters, digits, "-",
 * "_"), which cannot climb out of that folder.
 */
export function appStoreUrl(url: string, app: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(app)) throw new Error(`"${app}" is not an app name`);
  const location = parseStoreUrl(url);
  switch (location.backend) {
    case 'sqlite':
      return `sqlite:${join(resolve(location.dataDir), 'apps', app)}`;
    case 'postgres':
      throw new Error('apps on the PostgreSQL store are not implemented yet');
  }
}

/** The store URL for a data directory (made absolute, so a later change of working directory is harmless). */
export function storeUrlFromDataDir(dir: string): string {
  return `sqlite:${resolve(dir)}`;
}

function storeUrlHint(problem: string): string {
  return `Invalid store URL: ${problem}; expected sqlite:<data-dir> (e.g. sqlite:./.attune) or postgres://…`;
}
