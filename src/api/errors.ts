import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ItemFilterError } from '../catalog/index.js';
import { StoreUnavailableError, StoreValueError } from '../store/index.js';

/** Every error reply has this one shape, so clients handle errors in one place. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

const CODES: Readonly<Record<number, string>> = {
  400: 'invalid_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/**
 * Turns Fastify's own errors (schema validation, body parsing, size limit) into the error shape with a
 * message naming what was wrong; anything unexpected is logged and answered without internals.
 */
/** The 404 of the per-user routes (features, churn, segment): nothing is known of this user. */
export function unknownUserBody(userId: string): ErrorBody {
  return errorBody('not_found', `no user "${userId}": no events and no stored traits`);
}

/**
 * 451: the user's consent withholds personalization, so nothing personal (features, scores, segments) is
 * computed from their events, which are kept for measurement only.
 */
export function consentWithheldBody(userId: string, consent: string): ErrorBody {
  return errorBody(
    'consent_withheld',
    `user "${userId}" has consent "${consent}": their events are kept for measurement only, and no ` +
      'features, scores or segments are computed from them',
  );
}

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const message = error.validation
      .map((issue) => {
        const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
        const { missingProperty: missing, additionalProperty: extra } = issue.params as {
          missingProperty?: string;
          additionalProperty?: string;
        };
        const field = [path, missing].filter(Boolean).join('.');
        // Ajv's "must NOT have additional properties" does not say which one: the message names it.
        const problem =
          extra === undefined
            ? (issue.message ?? 'is invalid')
            : `must not have the unknown field "${extra}"`;
        return `${where}${field ? ` field "${field}"` : ''} ${problem}`;
      })
      .join('; ');
    void reply.status(400).send(errorBody('invalid_request', message));
    return;
  }
  if (error instanceof ItemFilterError) {
    void reply.status(400).send(errorBody('invalid_request', `query field "filter": ${error.message}`));
    return;
  }
  if (error instanceof StoreValueError) {
    void reply.status(400).send(errorBody('invalid_request', error.message));
    return;
  }
  // The database is down or out of connections: say so at once (the store gives up within its connect
  // timeout), and let the client retry; the store reconnects by itself.
  if (unavailable(error)) {
    request.log.warn({ err: error }, 'store unavailable');
    void reply
      .status(503)
      .header('retry-after', '1')
      .send(errorBody('unavailable', (unavailable(error) as Error).message));
    return;
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const message =
      status === 413
        ? `the body is larger than the limit of ${request.routeOptions.bodyLimit ?? 0} bytes`
        : error.message;
    void reply.status(status).send(errorBody(CODES[status] ?? 'invalid_request', message));
    return;
  }
  request.log.error({ err: error }, 'request failed');
  void reply.status(500).send(errorBody('internal', 'internal error; the server log has the details'));
}

/** The error (or the error it wraps) that means a backing service is unreachable, if it is one. */
function unavailable(error: unknown): Error | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof StoreUnavailableError) return e;
    if (e.name === 'EventStreamUnavailableError' || e.name === 'FeatureSnapshotsUnavailableError') return e;
  }
  return null;
}
