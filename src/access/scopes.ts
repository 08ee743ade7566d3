/**
 * What a key may do. The scopes are nested: a server key can do everything an ingest key can, and an
 * admin key everything a server key can.
 * - `ingest`: send events (safe to ship in a browser or an app: it reads nothing back);
 * - `server`: read what the engine decides for users (recommendations, decisions, scores);
 * - `admin`: change the catalog, train, run experiments, manage keys, read and erase personal data.
 */
export const SCOPES = ['ingest', 'server', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** What a route requires: a scope, or nothing at all (`public`: liveness, say). */
export type RouteAccess = Scope | 'public';

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/** Whether a key of scope `held` may call a route that needs `needed`. */
export function grants(held: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(held) >= SCOPES.indexOf(needed);
}
