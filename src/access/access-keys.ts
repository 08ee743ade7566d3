import type { StoredApiKey, Store } from '../store/index.js';
import type { EpochMs } from '../shared/types.js';
import { keyHash, matchesHash, newKey, parseKey } from './key-format.js';
import { isScope, SCOPES, type Scope } from './scopes.js';

/** The app every engine has; the only one until an engine hosts several. */
export const DEFAULT_APP = 'default';
const APP_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const MAX_NAME_LENGTH = 100;
/** The shortest `ATTUNE_ADMIN_KEY` accepted: anything shorter could be guessed. */
export const MIN_BOOTSTRAP_KEY_LENGTH = 24;
/** The principal id of the `ATTUNE_ADMIN_KEY` key, as the audit log names it. */
export const BOOTSTRAP_KEY_ID = 'ATTUNE_ADMIN_KEY';

/** Who a request acts as: the key (by id), its app and its scope. */
export interface Principal {
  readonly keyId: string;
  readonly app: string;
  readonly scope: Scope;
}

/** A key as shown to admins: everything but its hash. */
export interface KeyInfo {
  readonly id: string;
  readonly app: string;
  readonly scope: Scope;
  readonly name: string | null;
  readonly createdAt: EpochMs;
  readonly revokedAt: EpochMs | null;
}

export type Authentication =
  { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: string };

/** A key request that cannot be honoured, naming the field at fault (a 400 over HTTP). */
export class AccessKeyError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'AccessKeyError';
  }
}

export interface AccessKeysOptions {
  /** `ATTUNE_ADMIN_KEY`: an admin key of the default app that lives in the environment, not the store. */
  readonly bootstrapAdminKey?: string | null;
  /**
   * How long a key read from the store is trusted before it is read again (ms): a key revoked by another
   * process (`attune keys revoke`) stops working within this long; one revoked here stops at once.
   */
  readonly revalidateMs?: number;
  readonly now?: () => EpochMs;
}

/**
 * The engine's API keys: created with a random secret shown once, stored as a hash, checked per request in
 * constant time against a short-lived cache of the store. A key created by any process works at once (an
 * unknown id is read from the store); a revocation made elsewhere takes effect within `revalidateMs`.
 */
export class AccessKeys {
  readonly #store: Store;
  readonly #bootstrapHash: string | null;
  readonly #revalidateMs: number;
  readonly #now: () => EpochMs;
  readonly #cache = new Map<string, { readonly key: StoredApiKey; readonly checkedAt: EpochMs }>();
  #anyKey: { readonly value: boolean; readonly checkedAt: EpochMs } | null = null;

  constructor(store: Store, options: AccessKeysOptions = {}) {
    const bootstrap = options.bootstrapAdminKey ?? null;
    if (bootstrap !== null && bootstrap.length < MIN_BOOTSTRAP_KEY_LENGTH) {
      throw new AccessKeyError(
        'ATTUNE_ADMIN_KEY',
        `must be at least ${MIN_BOOTSTRAP_KEY_LENGTH} characters (a random one: openssl rand -hex 32)`,
      );
    }
    this.#store = store;
    this.#bootstrapHash = bootstrap === null ? null : keyHash(bootstrap);
    this.#revalidateMs = options.revalidateMs ?? 1_000;
    this.#now = options.now ?? Date.now;
  }

  /** Creates a key; the key itself is in the reply and nowhere else, ever. */
  async create(input: {
    readonly scope: unknown;
    readonly app?: unknown;
    readonly name?: unknown;
  }): Promise<{ readonly key: string; readonly info: KeyInfo }> {
    if (!isScope(input.scope)) throw new AccessKeyError('scope', `must be one of ${SCOPES.join(', ')}`);
    const app = input.app ?? DEFAULT_APP;
    if (typeof app !== 'string' || !APP_PATTERN.test(app)) {
      throw new AccessKeyError(
        'app',
        'must be 1–63 lowercase letters, digits, "-" or "_", starting with a letter or digit',
      );
    }
    const name = input.name ?? null;
    if (name !== null && (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH)) {
      throw new AccessKeyError('name', `must be a string of 1–${MAX_NAME_LENGTH} characters`);
    }
    const { id, key } = newKey(input.scope);
    const stored: StoredApiKey = {
      id,
      app,
      scope: input.scope,
      name,
      hash: keyHash(key),
      createdAt: this.#now(),
      revokedAt: null,
    };
    await this.#store.createApiKey(stored);
    this.#cache.set(id, { key: stored, checkedAt: this.#now() });
    this.#anyKey = { value: true, checkedAt: this.#now() };
    return { key, info: infoOf(stored) };
  }

  /** One key, revoked or not; null when no key has this id (in `app`, when given: another app's is none). */
  async find(id: string, app?: string): Promise<KeyInfo | null> {
    const stored = await this.#store.getApiKey(id);
    return stored === null || (app !== undefined && stored.app !== app) ? null : infoOf(stored);
  }

  /** Every key, or every key of `app`. */
  async list(app?: string): Promise<KeyInfo[]> {
    const keys = await this.#store.listApiKeys();
    return keys.filter((key) => app === undefined || key.app === app).map(infoOf);
  }

  /**
   * Revokes the key at once (here; elsewhere within `revalidateMs`). Null when no key has this id, or,
   * with `app`, when the key belongs to another app (which is left alone).
   */
  async revoke(id: string, app?: string): Promise<KeyInfo | null> {
    if (app !== undefined && (await this.find(id, app)) === null) return null;
    const revoked = await this.#store.revokeApiKey(id, this.#now());
    if (revoked === null) return null;
    this.#cache.set(id, { key: revoked, checkedAt: this.#now() });
    return infoOf(revoked);
  }

  /** Who the key is, or why it is refused (unknown, revoked, mistyped). */
  async authenticate(presented: string): Promise<Authentication> {
    if (this.#bootstrapHash !== null && matchesHash(presented, this.#bootstrapHash)) {
      return { ok: true, principal: { keyId: BOOTSTRAP_KEY_ID, app: DEFAULT_APP, scope: 'admin' } };
    }
    const parsed = parseKey(presented);
    if (parsed === null)
      return { ok: false, reason: 'the API key is not an Attune key (mistyped or cut short?)' };
    const stored = await this.#lookup(parsed.id);
    if (stored === null || !matchesHash(presented, stored.hash)) {
      return { ok: false, reason: 'the API key is not valid: no such key' };
    }
    if (stored.revokedAt !== null) {
      return {
        ok: false,
        reason: `the API key ${stored.id} was revoked at ${new Date(stored.revokedAt).toISOString()}`,
      };
    }
    return { ok: true, principal: { keyId: stored.id, app: stored.app, scope: stored.scope } };
  }

  /**
   * Whether the engine runs without keys: none was ever created and no `ATTUNE_ADMIN_KEY` is set. Then the
   * API answers loopback requests only. Revoking every key does not reopen it.
   */
  async isOpen(): Promise<boolean> {
    if (this.#bootstrapHash !== null) return false;
    const now = this.#now();
    if (
      this.#anyKey === null ||
      (!this.#anyKey.value && now - this.#anyKey.checkedAt >= this.#revalidateMs)
    ) {
      this.#anyKey = { value: (await this.#store.countApiKeys()) > 0, checkedAt: now };
    }
    return !this.#anyKey.value;
  }

  async #lookup(id: string): Promise<StoredApiKey | null> {
    const now = this.#now();
    const cached = this.#cache.get(id);
    if (cached !== undefined && now - cached.checkedAt < this.#revalidateMs) return cached.key;
    const stored = await this.#store.getApiKey(id);
    // Unknown ids are not cached: a stream of made-up ids must not grow memory.
    if (stored === null) this.#cache.delete(id);
    else this.#cache.set(id, { key: stored, checkedAt: now });
    return stored;
  }
}

function infoOf(key: StoredApiKey): KeyInfo {
  return {
    id: key.id,
    app: key.app,
    scope: key.scope,
    name: key.name,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
  };
}
