import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Scope } from '../access/index.js';
import { errorBody } from './errors.js';

/** What the HTTP layer refuses to let one client or one request take. */
export interface HttpLimits {
  /**
   * Origins whose pages may call the API from a browser (`ATTUNE_CORS_ORIGINS`, comma-separated, exact
   * `https://shop.example` forms). Empty: no cross-origin call is allowed.
   */
  readonly corsOrigins: readonly string[];
  /**
   * Requests per second per key, by the key's scope; an ingest key is counted per key and client address,
   * since one public key serves every browser of a site. Loopback requests of a keyless demo are not counted.
   */
  readonly requestsPerSecond: Readonly<Record<Scope, number>>;
  /** The longest a client may take to send a request's headers and body (ms): slow senders are cut off. */
  readonly requestTimeoutMs: number;
}

export const defaultHttpLimits: HttpLimits = {
  corsOrigins: [],
  requestsPerSecond: { ingest: 200, server: 5_000, admin: 1_000 },
  requestTimeoutMs: 10_000,
};

/**
 * Security headers for an API that serves JSON only: no sniffing, no framing, no referrer, a content security
 * policy that allows nothing, no cross-origin window access. The same object every time: set once per reply
 * without computing anything (helmet, which sets the same, rebuilt its policy on every request: 12 µs each).
 * `cross-origin-resource-policy` allows other origins, which read ingest replies through CORS.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'cross-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

/**
 * Counts requests per key in fixed one-second windows, on the serving path: synchronous, so a shared
 * implementation (src/cluster's `RedisRateCounter`) must count locally and reconcile in the background.
 */
export interface RateCounter {
  /**
   * Counts a request of `key` at `now` (epoch ms) against `max` per second: null when it is admitted, else
   * the ms until its window ends.
   */
  take(key: string, max: number, now: number): number | null;
}

/**
 * Fixed one-second windows per key, in memory: a count and the window it belongs to. Checked on every
 * request, so it is a map lookup and two integer operations; windows of idle keys are swept once the map
 * grows, so a flood of addresses cannot grow it without bound.
 */
export class RateWindows implements RateCounter {
  readonly #windows = new Map<string, { second: number; count: number }>();

  /** Counts a request of `key` at `now` (ms); the ms until its window ends when it is one over `max`. */
  take(key: string, max: number, now: number): number | null {
    const second = Math.floor(now / 1000);
    const window = this.#windows.get(key);
    if (window === undefined || window.second !== second) {
      if (window === undefined && this.#windows.size >= 100_000) this.#sweep(second);
      this.#windows.set(key, { second, count: 1 });
      return max >= 1 ? null : 1000 - (now % 1000);
    }
    window.count++;
    return window.count <= max ? null : 1000 - (now % 1000);
  }

  #sweep(second: number): void {
    for (const [key, window] of this.#windows) if (window.second !== second) this.#windows.delete(key);
  }
}

function rateKey(request: FastifyRequest): string {
  const principal = request.principal!;
  return principal.scope === 'ingest' ? `${principal.keyId}:${request.ip}` : principal.keyId;
}

/**
 * Security headers on every reply, CORS for the configured origins only, and per-key rate limits counted
 * once the key is known (`preHandler`), answered with 429 `rate_limited` and `retry-after` in seconds.
 * `counter` counts them: this instance's own windows unless a deployment-wide one is given.
 */
export function useLimits(
  app: FastifyInstance,
  limits: HttpLimits,
  counter: RateCounter = new RateWindows(),
): void {
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(SECURITY_HEADERS);
    done();
  });
  if (limits.corsOrigins.length > 0) {
    void app.register(cors, {
      origin: [...limits.corsOrigins],
      methods: ['GET', 'POST', 'PUT'],
      allowedHeaders: ['authorization', 'content-type'],
      maxAge: 600,
    });
  }
  app.addHook('preHandler', (request: FastifyRequest, reply: FastifyReply, done) => {
    const principal = request.principal;
    // Public routes and the keyless loopback demo are not counted.
    if (principal === null || principal.keyId === 'loopback') {
      done();
      return;
    }
    const max = limits.requestsPerSecond[principal.scope];
    const waitMs = counter.take(rateKey(request), max, Date.now());
    if (waitMs === null) {
      done();
      return;
    }
    void reply
      .status(429)
      .header('retry-after', String(Math.ceil(waitMs / 1000)))
      .send(
        errorBody(
          'rate_limited',
          `more than ${max} requests per second with key ${principal.keyId}; retry after ${waitMs} ms`,
        ),
      );
  });
}
