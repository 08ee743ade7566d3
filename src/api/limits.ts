import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Scope } from '../access/index.js';

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

function rateKey(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal === null) return `address:${request.ip}`;
  return principal.scope === 'ingest' ? `${principal.keyId}:${request.ip}` : principal.keyId;
}

/**
 * Security headers on every reply (helmet's defaults for an API: no sniffing, no framing, no referrer, a
 * content security policy that allows nothing), CORS for the configured origins only, and per-key rate
 * limits counted after the key is known (`preHandler`), answered with 429 and `retry-after`.
 */
export function useLimits(app: FastifyInstance, limits: HttpLimits): void {
  void app.register(helmet, {
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    // Pages on other origins call the ingest routes through CORS; the resource policy must not block them.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
  if (limits.corsOrigins.length > 0) {
    void app.register(cors, {
      origin: [...limits.corsOrigins],
      methods: ['GET', 'POST', 'PUT'],
      allowedHeaders: ['authorization', 'content-type'],
      maxAge: 600,
    });
  }
  void app.register(rateLimit, {
    hook: 'preHandler',
    timeWindow: 1_000,
    max: (request) => {
      const scope = request.principal?.scope;
      return scope === undefined ? limits.requestsPerSecond.ingest : limits.requestsPerSecond[scope];
    },
    keyGenerator: rateKey,
    allowList: (request) => request.principal?.keyId === 'loopback',
    // Thrown to the error handler, which answers 429 `rate_limited` with this message.
    errorResponseBuilder: (request, context) =>
      Object.assign(
        new Error(
          `more than ${context.max} requests per second with key ${request.principal?.keyId ?? request.ip}; ` +
            `retry after ${context.after}`,
        ),
        { statusCode: context.statusCode },
      ),
  });
}
