import { join, resolve } from 'node:path';

import { parsePostgresUrl } from './postgres.js';

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

/**
 * The store URL of one app (tenant) beside the default one: SQLite keeps each app in `apps/<app>/` under
 * the data directory, PostgreSQL in its own schema `<schema>-<app>` in the same database. `app` must already be a valid app name (`access/`: lowercase letters, digits, "-",
 * "_"), which cannot climb out of that folder.
 */
export function appStoreUrl(url: string, app: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(app)) throw new Error(`"${app}" is not an app name`);
  const location = parseStoreUrl(url);
  switch (location.backend) {
    case 'sqlite':
      return `sqlite:${join(resolve(location.dataDir), 'apps', app)}`;
    case 'postgres': {
      const { schema } = parsePostgresUrl(location.url);
      const url = new URL(location.url);
      url.searchParams.set('schema', `${schema}-${app}`);
      return url.toString();
    }
  }
}

/** The store URL for a data directory (made absolute, so a later change of working directory is harmless). */
export function storeUrlFromDataDir(dir: string): string {
  return `sqlite:${resolve(dir)}`;
}

function storeUrlHint(problem: string): string {
  return `Invalid store URL: ${problem}; expected sqlite:<data-dir> (e.g. sqlite:./.attune) or postgres://…`;
}
