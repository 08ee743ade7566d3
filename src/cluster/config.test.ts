import { describe, expect, it } from 'vitest';

import { clusterConfigFromEnv } from './config.js';

describe('clusterConfigFromEnv', () => {
  it('defaults to no Redis and the attune: prefix; empty counts as unset', () => {
    expect(clusterConfigFromEnv({})).toEqual({ redisUrl: null, prefix: 'attune:', sharedLists: true });
    expect(
      clusterConfigFromEnv({ REDIS_URL: ' ', ATTUNE_REDIS_PREFIX: '', ATTUNE_SHARED_LISTS: '' }),
    ).toEqual({
      redisUrl: null,
      prefix: 'attune:',
      sharedLists: true,
    });
  });

  it('reads the URL, the prefix and whether lists are shared', () => {
    expect(
      clusterConfigFromEnv({
        REDIS_URL: 'rediss://:secret@cache.internal:6380/2',
        ATTUNE_REDIS_PREFIX: 'shop1:',
        ATTUNE_SHARED_LISTS: 'Off',
      }),
    ).toEqual({ redisUrl: 'rediss://:secret@cache.internal:6380/2', prefix: 'shop1:', sharedLists: false });
    expect(clusterConfigFromEnv({ ATTUNE_SHARED_LISTS: 'on' }).sharedLists).toBe(true);
  });

  it('names the variable it cannot use, without showing a password', () => {
    const error = (env: Record<string, string>) => {
      try {
        clusterConfigFromEnv(env);
      } catch (thrown) {
        return (thrown as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(env)}`);
    };
    expect(error({ REDIS_URL: 'tcp://127.0.0.1:6379' })).toMatch(/^REDIS_URL must start with redis:\/\//);
    expect(error({ REDIS_URL: '127.0.0.1:6379' })).toMatch(/^REDIS_URL must be a URL such as redis:/);
    expect(error({ REDIS_URL: 'not a url' })).toMatch(/^REDIS_URL must be a URL/);
    expect(error({ REDIS_URL: 'http://user:hunter2@host' })).not.toContain('hunter2');
    expect(error({ REDIS_URL: 'redis://host/cache' })).toMatch(
      /^REDIS_URL: the path must be a database number/,
    );
    expect(error({ ATTUNE_REDIS_PREFIX: 'my app:' })).toMatch(/^ATTUNE_REDIS_PREFIX must be printable ASCII/);
    expect(error({ ATTUNE_REDIS_PREFIX: 'x'.repeat(65) })).toMatch(/^ATTUNE_REDIS_PREFIX must be at most 64/);
    expect(error({ ATTUNE_SHARED_LISTS: 'yes' })).toMatch(/^ATTUNE_SHARED_LISTS must be on or off/);
  });
});
