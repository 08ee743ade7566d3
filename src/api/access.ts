import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  credentialOf,
  type Credential,
  DEFAULT_APP,
  grants,
  type Principal,
  type RouteAccess,
  type Scope,
} from '../access/index.js';
import type { Engine, EngineHost } from '../engine/index.js';
import { errorBody } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route requires, set from `ROUTE_ACCESS` when the route is added. */
    access?: RouteAccess;
    /**
     * The ingest key may also come as `writeKey` in the JSON body (Segment's browser library sends it there,
     * to avoid a CORS preflight): checked once the body is parsed, when no header carried a key.
     */
    writeKeyInBody?: boolean;
  }
  interface FastifyRequest {
    /** Who the request acts as; null on public routes and unmatched URLs. */
    principal: Principal | null;
    /**
     * The engine of the principal's app (`engine/host.ts`): every route reads and changes that app's data
     * only. The default app's on public routes.
     */
    engine: Engine;
  }
}

/**
 * What every route requires, in one table a reviewer can read at once. A route missing here fails the
 * server's start (`useAccessControl`), so no route is ever reachable by accident.
 * - ingest: sending events and what a browser sends beside them (traits, client-side exposures);
 * - server: what the product's backend asks per user (lists, decisions, scores) and the catalog it shows;
 * - admin: changing the catalog, models, experiments, rules, decision points and keys, and reading a
 *   person's data (their events, profile, served lists), which is also written to the audit log.
 */
export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  'GET /health': 'public',
  // CORS preflights (only registered when ATTUNE_CORS_ORIGINS names origins): they carry no key by design.
  'OPTIONS *': 'public',
  'GET /metrics': 'server',
  // The API reference (api/openapi.ts): the document and Swagger UI's assets hold no data.
  'GET /docs': 'public',
  'GET /docs/': 'public',
  'GET /docs/json': 'public',
  'GET /docs/yaml': 'public',
  'GET /docs/static/index.html': 'public',
  'GET /docs/static/swagger-initializer.js': 'public',
  'GET /docs/static/*': 'public',
  // The dashboard's page and assets (api/dashboard-ui.ts) hold no data: its calls go to admin routes with a key.
  'GET /dashboard': 'public',
  'GET /dashboard/*': 'public',

  'POST /v1/events': 'ingest',
  'PUT /v1/users/:id': 'ingest',
  'POST /v1/exposures': 'ingest',
  // Segment's tracking spec (api/segment-spec.ts): what Segment's and RudderStack's libraries send.
  'POST /v1/track': 'ingest',
  'POST /v1/identify': 'ingest',
  'POST /v1/page': 'ingest',
  'POST /v1/screen': 'ingest',
  'POST /v1/batch': 'ingest',
  // The same, at the one-letter paths Segment's browser library (analytics.js) posts to.
  'POST /v1/t': 'ingest',
  'POST /v1/i': 'ingest',
  'POST /v1/p': 'ingest',
  'POST /v1/s': 'ingest',
  'POST /v1/b': 'ingest',

  'GET /v1/recommendations': 'server',
  'GET /v1/recommendations/explain': 'server',
  'GET /v1/items/:id/similar': 'server',
  'POST /v1/rank': 'server',
  'GET /v1/items': 'server',
  'GET /v1/items/:id': 'server',
  'GET /v1/assignments': 'server',
  'POST /v1/decisions/:id': 'server',
  'POST /v1/decisions/:id/reward': 'server',
  'GET /v1/features/definitions': 'server',
  'GET /v1/users/:id/features': 'server',
  'GET /v1/items/:id/features': 'server',
  'GET /v1/users/:id/churn': 'server',
  'GET /v1/users/:id/segment': 'server',
  'GET /v1/users/:id/notification-time': 'server',
  'GET /v1/segments': 'server',

  'GET /v1/users/:id': 'admin',
  'GET /v1/users/:id/events': 'admin',
  'GET /v1/users/:id/export': 'admin',
  'DELETE /v1/users/:id': 'admin',
  'GET /v1/impressions/:request_id': 'admin',
  'PUT /v1/items/:id': 'admin',
  'POST /v1/items': 'admin',
  'DELETE /v1/items/:id': 'admin',
  'POST /v1/admin/train': 'admin',
  'GET /v1/models': 'admin',
  'PUT /v1/rules/:name': 'admin',
  'GET /v1/rules/:name': 'admin',
  'DELETE /v1/rules/:name': 'admin',
  'POST /v1/experiments': 'admin',
  'GET /v1/experiments': 'admin',
  'GET /v1/experiments/:id': 'admin',
  'PATCH /v1/experiments/:id': 'admin',
  'POST /v1/experiments/:id/start': 'admin',
  'POST /v1/experiments/:id/stop': 'admin',
  'GET /v1/experiments/:id/results': 'admin',
  'GET /v1/metrics': 'admin',
  'PUT /v1/metrics/:name': 'admin',
  'POST /v1/decision-points': 'admin',
  'GET /v1/decision-points': 'admin',
  'GET /v1/decision-points/:id': 'admin',
  'PUT /v1/decision-points/:id': 'admin',
  'DELETE /v1/decision-points/:id': 'admin',
  'POST /v1/keys': 'admin',
  'GET /v1/keys': 'admin',
  'DELETE /v1/keys/:id': 'admin',
  'GET /v1/audit': 'admin',
  // The dashboard's data: activity, the event log, users, models, experiments and decision points over time.
  'GET /v1/dashboard/overview': 'admin',
  'GET /v1/dashboard/events': 'admin',
  'GET /v1/dashboard/users': 'admin',
  'GET /v1/dashboard/models': 'admin',
  'GET /v1/dashboard/experiments/:id/timeline': 'admin',
  'GET /v1/dashboard/segments/projection': 'admin',
  'GET /v1/dashboard/decision-points/:id/timeline': 'admin',
};

/** Admin reads of a person's data: audited like changes are. */
const AUDITED_READS = new Set([
  'GET /v1/users/:id',
  'GET /v1/users/:id/export',
  'GET /v1/users/:id/events',
  'GET /v1/impressions/:request_id',
]);

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * A client on this machine, not one relayed by a proxy on it: a reverse proxy on the same host connects
 * from loopback for everyone, so a request carrying forwarding headers is treated as remote.
 */
function fromLoopback(request: FastifyRequest): boolean {
  const headers = request.headers;
  const relayed =
    headers['x-forwarded-for'] !== undefined ||
    headers.forwarded !== undefined ||
    headers['x-real-ip'] !== undefined;
  return !relayed && LOOPBACK.test(request.socket.remoteAddress ?? '');
}

function routeKey(method: string, url: string): string {
  return `${method} ${url}`;
}

function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  return reply
    .status(401)
    .header('www-authenticate', 'Bearer realm="attune"')
    .send(errorBody('unauthorized', message));
}

function keyHint(needed: Scope): string {
  return needed === 'ingest'
    ? 'send "Authorization: Bearer <key>" or the key as the HTTP Basic user name'
    : 'send "Authorization: Bearer <key>"';
}

/**
 * Attune's own routes that also take an ingest key in the body, and the field that carries it: a page's
 * `navigator.sendBeacon` (the SDK's page-hide delivery) can set no header, and sends `text/plain` so that no
 * CORS preflight is needed. The field is taken out of the body before the route sees it.
 */
const BODY_KEY_FIELDS: Readonly<Record<string, string>> = { 'POST /v1/events': 'write_key' };

/**
 * The write key a Segment body carries (`{"writeKey": …, "batch": […]}`), as a Basic-like credential: a
 * public key that may only ingest. Null when the body has none.
 */
function bodyWriteKey(body: unknown, field = 'writeKey'): Credential | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const key = (body as Record<string, unknown>)[field];
  if (key === undefined || key === null) return null;
  return typeof key === 'string' && key.trim() !== ''
    ? { kind: 'basic', key }
    : { kind: 'malformed', reason: `body field "${field}" must be the ingest key, a non-empty string` };
}

/**
 * API keys on every route: each route's requirement comes from `ROUTE_ACCESS` (a route without one stops
 * the server from starting); a request without a usable key is 401, one whose key lacks the scope 403, each
 * saying which scope the route needs. With no key configured at all the engine runs open, but only to
 * loopback clients. Admin changes and admin reads of personal data go to the audit log.
 */
export function useAccessControl(app: FastifyInstance, host: EngineHost): void {
  const keys = host.access;
  const audit = host.audit;
  app.decorateRequest('principal', null);
  app.decorateRequest('engine', null as unknown as Engine);

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const needed = new Set(
      methods
        .filter((method) => method !== 'HEAD')
        .map((method) => ROUTE_ACCESS[routeKey(method, route.url)]),
    );
    // HEAD mirrors its GET.
    if (methods.every((method) => method === 'HEAD')) needed.add(ROUTE_ACCESS[routeKey('GET', route.url)]);
    const [access] = needed;
    if (needed.size !== 1 || access === undefined) {
      throw new Error(`route ${methods.join(',')} ${route.url} has no entry in ROUTE_ACCESS (api/access.ts)`);
    }
    const bodyKey = methods.some((method) => BODY_KEY_FIELDS[routeKey(method, route.url)] !== undefined);
    route.config = { ...route.config, access, ...(bodyKey ? { writeKeyInBody: true } : {}) };
  });

  // A beacon's `text/plain` body is JSON: parsed before the other body checks (`checkParsedValues`) run.
  app.addHook('preValidation', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined || BODY_KEY_FIELDS[routeKey(request.method, route)] === undefined) return;
    const plain = /^text\/plain\b/i.test(request.headers['content-type'] ?? '');
    if (typeof request.body !== 'string' || !plain) return;
    try {
      request.body = JSON.parse(request.body) as unknown;
    } catch {
      const message = 'the text/plain body is not valid JSON: send the event batch as JSON';
      return reply.status(400).send(errorBody('invalid_request', message));
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    const needed = request.routeOptions.config.access;
    request.engine = host.defaultEngine;
    // Unmatched URLs (404) reveal nothing; public routes need no key.
    if (needed === undefined || needed === 'public') return;
    const credential = credentialOf(request.headers.authorization);
    // The body is not parsed yet: a key it may carry is looked for once it is, in preValidation.
    if (credential === null && request.routeOptions.config.writeKeyInBody === true) return;
    return authorize(request, reply, needed, credential, 'header');
  });

  // Once the body is parsed, before it is validated (an unauthorized request learns nothing of the schema)
  // and before the rate limits (`useLimits`, preHandler), which count per key.
  app.addHook('preValidation', async (request, reply) => {
    const needed = request.routeOptions.config.access;
    if (request.routeOptions.config.writeKeyInBody !== true || request.principal !== null) return;
    if (needed === undefined || needed === 'public') return;
    const field = BODY_KEY_FIELDS[routeKey(request.method, request.routeOptions.url ?? '')];
    const credential = bodyWriteKey(request.body, field);
    const denied = await authorize(request, reply, needed, credential, 'body');
    // Attune's own bodies refuse unknown fields: the key is not the route's data.
    if (denied === undefined && credential !== null && field !== undefined) {
      delete (request.body as Record<string, unknown>)[field];
    }
    return denied;
  });

  async function authorize(
    request: FastifyRequest,
    reply: FastifyReply,
    needed: Scope,
    credential: Credential | null,
    carrier: 'header' | 'body',
  ): Promise<FastifyReply | undefined> {
    if (credential === null) {
      if (await keys.isOpen()) {
        if (fromLoopback(request)) {
          request.principal = { keyId: 'loopback', app: DEFAULT_APP, scope: 'admin' };
          return;
        }
        return unauthorized(
          reply,
          'no API key is configured, so this engine answers loopback clients only: create one with ' +
            '"attune keys create --scope admin" (or set ATTUNE_ADMIN_KEY) and send it',
        );
      }
      return unauthorized(reply, `this route needs a key with the ${needed} scope: ${keyHint(needed)}`);
    }
    if (credential.kind === 'malformed') return unauthorized(reply, credential.reason);
    const authentication = await keys.authenticate(credential.key);
    if (!authentication.ok) return unauthorized(reply, authentication.reason);
    const principal = authentication.principal;
    if (credential.kind === 'basic' && principal.scope !== 'ingest') {
      // A Basic user name, like a body's writeKey, travels where write keys do (browsers, apps); a secret
      // key must not.
      return unauthorized(
        reply,
        carrier === 'body'
          ? 'a key in the body ("writeKey", "write_key") carries ingest keys only; send server and admin keys as Bearer'
          : 'HTTP Basic carries ingest keys only; send server and admin keys as Bearer',
      );
    }
    if (!grants(principal.scope, needed)) {
      return reply
        .status(403)
        .send(
          errorBody(
            'forbidden',
            `this route needs the ${needed} scope; key ${principal.keyId} has the ${principal.scope} scope`,
          ),
        );
    }
    request.principal = principal;
    request.engine = await host.engine(principal.app);
    return undefined;
  }

  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = request.principal;
    const route = request.routeOptions.url;
    if (principal === null || route === undefined || request.routeOptions.config.access !== 'admin') return;
    const action = routeKey(request.method, route);
    if ((request.method === 'GET' || request.method === 'HEAD') && !AUDITED_READS.has(action)) return;
    const id = (request.params as { id?: unknown } | undefined)?.id;
    try {
      await audit.record({
        at: Date.now(),
        app: principal.app,
        actor: principal.keyId,
        action,
        // A user id is personal data: the audit log names other resources only.
        target: typeof id === 'string' && !route.startsWith('/v1/users/') ? id : null,
        status: reply.statusCode,
      });
    } catch (error) {
      request.log.error({ err: error }, 'writing the audit log failed');
    }
  });
}
