import pg from 'pg';

import { parsePostgresUrl } from './postgres.js';
import { parseStoreUrl } from './url.js';
import type { Store } from './types.js';

/*
 * The lock that makes one process of a deployment its active worker (training, scheduled jobs, retention,
 * the event stream's consumer). On PostgreSQL it is a session advisory lock on a connection of its own:
 * the server releases it the moment that session ends, so a worker that dies (kill -9, a lost machine, once
 * TCP keepalives give up) hands over without anyone waiting out a lease. The embedded store has no server
 * sessions; there it is the store's lease, renewed while held.
 */

export interface RoleLock {
  /** Who holds it (this process). */
  readonly holder: string;
  /**
   * Settles if the lock is lost while held (the lock's connection broke, or the lease was taken over after
   * this process stalled): from then on another worker may be active, so this one must stop its work.
   */
  readonly lost: Promise<Error>;
  /** Frees the lock (idempotent); another waiting worker takes it on its next attempt. */
  release(): Promise<void>;
}

export interface RoleLockOptions {
  /** The role locked, e.g. `worker`. */
  readonly role: string;
  /** This process's name in the lock, for the message a waiting worker prints. */
  readonly holder: string;
  /** How often a waiting process tries again (default 1 s): the longest a takeover waits after a death. */
  readonly retryMs?: number;
  /** Called once per change of who holds it while this process waits. */
  readonly onWaiting?: (heldBy: string | null) => void;
  /** Stops waiting (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** The open store: the embedded store's lease lives in it (PostgreSQL uses a connection of its own). */
  readonly store?: Store;
}

/** Waits until this process holds the role's lock on the store at `url`. */
export async function acquireRoleLock(url: string, options: RoleLockOptions): Promise<RoleLock> {
  const location = parseStoreUrl(url);
  if (location.backend === 'postgres') return acquireAdvisoryLock(location.url, options);
  if (!options.store) throw new Error("the embedded store's role lock needs the open store (options.store)");
  return acquireLeaseLock(options.store, options);
}

const DEFAULT_RETRY_MS = 1_000;
/** How often a held advisory lock's connection is checked: a broken one means the lock is gone. */
const PING_MS = 2_000;

async function acquireAdvisoryLock(url: string, options: RoleLockOptions): Promise<RoleLock> {
  const { connectionString, schema } = parsePostgresUrl(url);
  const key = `attune-role:${schema}:${options.role}`;
  const retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
  let lastHeldBy: string | null | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const client = new pg.Client({
      connectionString,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      // Other workers read who holds the lock from pg_stat_activity.
      application_name: `attune ${options.role}: ${options.holder}`.slice(0, 63),
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      // A holder whose machine vanishes without closing TCP is noticed in ~11 s instead of hours.
      await client.query(
        'SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3',
      );
      for (;;) {
        options.signal?.throwIfAborted();
        const [row] = (
          await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [
            key,
          ])
        ).rows;
        if (row?.locked) return heldAdvisoryLock(client, key, options.holder);
        const heldBy = await advisoryHolder(client, key);
        if (heldBy !== lastHeldBy) options.onWaiting?.(heldBy);
        lastHeldBy = heldBy;
        await sleep(retryMs, options.signal);
      }
    } catch {
      await client.end().catch(() => undefined);
      if (options.signal?.aborted) throw options.signal.reason;
      // The database went away while waiting (or refused us): wait for it as for a holder.
      if (lastHeldBy !== null) options.onWaiting?.(null);
      lastHeldBy = null;
      await sleep(retryMs, options.signal);
    }
  }
}

/** The application name of the session holding the advisory lock, or null when nobody (visible) does. */
async function advisoryHolder(client: pg.Client, key: string): Promise<string | null> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT a.application_name AS name
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted
        AND l.objsubid = 1
        -- a bigint key is held as its high and low 32 bits
        AND l.classid::bigint = ((hashtext($1)::bigint >> 32) & 4294967295)
        AND l.objid::bigint = (hashtext($1)::bigint & 4294967295)`,
    [key],
  );
  return rows[0]?.name ?? null;
}

function heldAdvisoryLock(client: pg.Client, key: string, holder: string): RoleLock {
  let released = false;
  let resolveLost!: (error: Error) => void;
  const lost = new Promise<Error>((resolve) => (resolveLost = resolve));
  const lose = (error: Error) => {
    if (released) return;
    released = true;
    clearInterval(ping);
    resolveLost(error);
    void client.end().catch(() => undefined);
  };
  client.on('error', (error) => lose(error));
  client.on('end', () => lose(new Error('the lock connection to PostgreSQL closed')));
  const ping = setInterval(() => {
    client.query('SELECT 1').catch((error: Error) => lose(error));
  }, PING_MS);
  ping.unref();
  return {
    holder,
    lost,
    async release() {
      if (released) return;
      released = true;
      clearInterval(ping);
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** How long the embedded store's lease lasts unless renewed; renewed every third of it. */
const LEASE_TTL_MS = 15_000;

async function acquireLeaseLock(store: Store, options: RoleLockOptions): Promise<RoleLock> {
  const name = `role:${options.role}`;
  const retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
  let lastHeldBy: string | null | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const attempt = await store.acquireLease(name, options.holder, LEASE_TTL_MS);
    if (attempt.acquired) break;
    if (attempt.held.holder !== lastHeldBy) options.onWaiting?.(attempt.held.holder);
    lastHeldBy = attempt.held.holder;
    await sleep(retryMs, options.signal);
  }
  let released = false;
  let resolveLost!: (error: Error) => void;
  const lost = new Promise<Error>((resolve) => (resolveLost = resolve));
  const renew = setInterval(() => {
    store.renewLease(name, options.holder, LEASE_TTL_MS).then(
      (lease) => {
        if (lease === null && !released) {
          released = true;
          clearInterval(renew);
          resolveLost(new Error('the worker lease was taken over (this process stalled past it)'));
        }
      },
      () => undefined, // a failed renewal is retried on the next tick; the lease still has time
    );
  }, LEASE_TTL_MS / 3);
  renew.unref();
  return {
    holder: options.holder,
    lost,
    async release() {
      if (released) return;
      released = true;
      clearInterval(renew);
      await store.releaseLease(name, options.holder).catch(() => undefined);
    },
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
