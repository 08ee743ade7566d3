/** Where the deployment's Redis is and the prefix of everything Attune keeps in it. */
export interface ClusterConfig {
  /** REDIS_URL; null when unset or empty: one embedded instance, a `LocalClusterBus`, in-memory limits. */
  readonly redisUrl: string | null;
  /** ATTUNE_REDIS_PREFIX (default `attune:`): keys and channels start with it, so deployments can share a Redis. */
  readonly prefix: string;
  /**
   * ATTUNE_SHARED_LISTS (`on`, the default, or `off`): whether API instances share served lists in Redis
   * (`redis-lists.ts`). Off, each instance keeps only its own: for comparing, or a Redis short of memory.
   */
  readonly sharedLists: boolean;
}

export const DEFAULT_REDIS_PREFIX = 'attune:';

/** A URL as it may be shown: without its password. */
function redacted(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return value.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/**
 * Reads REDIS_URL, ATTUNE_REDIS_PREFIX and ATTUNE_SHARED_LISTS; a value it cannot use is an error naming the variable. An empty
 * variable counts as unset (as templated environments often leave them).
 */
export function clusterConfigFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ClusterConfig {
  const rawUrl = env['REDIS_URL']?.trim() ?? '';
  let redisUrl: string | null = null;
  if (rawUrl !== '') {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new Error(`REDIS_URL must be a URL such as redis://127.0.0.1:6379, got "${redacted(rawUrl)}"`);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new Error(`REDIS_URL must start with redis:// or rediss:// (TLS), got "${redacted(rawUrl)}"`);
    }
    if (url.hostname === '') throw new Error(`REDIS_URL must name a host, got "${redacted(rawUrl)}"`);
    const db = url.pathname.replace(/^\//, '');
    if (db !== '' && !/^\d+$/.test(db)) {
      throw new Error(`REDIS_URL: the path must be a database number such as /0, got "/${db}"`);
    }
    redisUrl = rawUrl;
  }
  const shared = env['ATTUNE_SHARED_LISTS']?.trim().toLowerCase() ?? '';
  if (shared !== '' && shared !== 'on' && shared !== 'off') {
    throw new Error(
      `ATTUNE_SHARED_LISTS must be on or off, got ${JSON.stringify(env['ATTUNE_SHARED_LISTS'])}`,
    );
  }
  const sharedLists = shared !== 'off';
  const prefix = env['ATTUNE_REDIS_PREFIX'] ?? '';
  if (prefix === '') return { redisUrl, prefix: DEFAULT_REDIS_PREFIX, sharedLists };
  // The prefix is also part of connection names (CLIENT SETNAME), which allow no spaces or control characters.
  if (!/^[!-~]+$/.test(prefix)) {
    throw new Error(
      `ATTUNE_REDIS_PREFIX must be printable ASCII without spaces, e.g. attune:, got ${JSON.stringify(prefix)}`,
    );
  }
  if (prefix.length > 64)
    throw new Error(`ATTUNE_REDIS_PREFIX must be at most 64 characters, got ${prefix.length}`);
  return { redisUrl, prefix, sharedLists };
}
