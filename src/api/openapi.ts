import { readFileSync } from 'node:fs';

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Ajv, AnySchema, ValidateFunction } from 'ajv';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { RouteAccess } from '../access/index.js';
import { ROUTE_ACCESS } from './access.js';
import { errorBody } from './errors.js';
import { DOCUMENTED_BODY_SCHEMAS, SHARED_REPLY_SCHEMAS } from './reply-schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The body of a route whose body is read by hand-written code (one bad event must not cost the batch),
     * for the OpenAPI document only: Fastify never validates it.
     */
    docsBody?: unknown;
  }
}

/**
 * The OpenAPI document of the HTTP API, generated from the route schemas (`@fastify/swagger`), and its
 * interactive reference at `/docs` (`@fastify/swagger-ui`, its assets served from node_modules: no CDN).
 * `npm run openapi` writes the same document to docs/openapi.json (scripts/openapi.ts); a test fails when
 * that file is stale.
 */

/** Where the interactive reference lives; `/docs/json` is the document itself. */
export const DOCS_PREFIX = '/docs';

/** The capabilities the operations are grouped by, in the reference's order. */
export const API_TAGS: readonly { readonly name: string; readonly description: string }[] = [
  { name: 'events', description: 'Sending events (ingestion) and reading a user’s events.' },
  { name: 'users', description: 'Users’ traits and consent, exports and erasure.' },
  { name: 'catalog', description: 'Items: one at a time, in bulk, listed.' },
  { name: 'recommendations', description: 'Personalised lists, similar items, explanations, served lists.' },
  { name: 'ranking', description: 'Re-ranking a caller’s candidates for a user.' },
  { name: 'rules', description: 'Saved business-rule presets applied to lists.' },
  { name: 'experiments', description: 'A/B tests, assignments, exposures, metrics and results.' },
  { name: 'features', description: 'The feature store’s online values and definitions.' },
  { name: 'churn', description: 'A user’s churn risk and its drivers.' },
  { name: 'segments', description: 'Trained segments and a user’s segment.' },
  {
    name: 'decisions',
    description: 'Decision points (contextual bandits), decisions and their rewards; when to notify a user.',
  },
  { name: 'keys', description: 'API keys and the audit log.' },
  { name: 'admin', description: 'Training and model versions.' },
  { name: 'health', description: 'Readiness and Prometheus metrics.' },
  { name: 'segment-spec', description: 'Segment-compatible ingestion (track, identify, page, batch, …).' },
  { name: 'dashboard', description: 'The built-in dashboard and the data behind it.' },
];

const SCOPE_TEXT: Readonly<Record<RouteAccess, string>> = {
  public: 'Public: no key needed.',
  ingest:
    'Needs a key with the `ingest` scope (or `server`, `admin`): `Authorization: Bearer <key>`, or a write ' +
    'key as the HTTP Basic user name.',
  server: 'Needs a key with the `server` scope (or `admin`): `Authorization: Bearer <key>`.',
  admin: 'Needs a key with the `admin` scope: `Authorization: Bearer <key>`.',
};

/** The 4xx every route of a scope may answer besides its own, documented once here. */
const ACCESS_ERRORS: Readonly<Record<number, string>> = {
  401: 'No usable key (missing, malformed, unknown or revoked).',
  403: 'The key lacks the scope this route needs.',
  429: 'Over the key’s rate limit; `retry-after` says when to try again.',
};

const STATUS_TEXT: Readonly<Record<string, string>> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  503: 'Service Unavailable',
};

interface PackageInfo {
  readonly name: string;
  readonly version: string;
  readonly description: string;
}

function packageInfo(): PackageInfo {
  // Two levels up from src/api/ and from dist/api/ alike.
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const { name, version, description } = JSON.parse(text) as PackageInfo;
  return { name, version, description };
}

/** The scope a route needs, from the one table the access hook enforces (so the document cannot drift). */
export function routeAccess(method: string, url: string): RouteAccess | undefined {
  return ROUTE_ACCESS[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}

/** Each operation's security and scope sentence, and the errors any keyed route may answer. */
function withAccess(schema: FastifySchema | undefined, method: string, url: string): FastifySchema {
  const access = routeAccess(method, url);
  const base = (schema ?? {}) as FastifySchema & {
    description?: string;
    response?: Record<string, unknown>;
  };
  if (access === undefined) return base;
  const response: Record<string, unknown> = { ...base.response };
  // A reply without a description of its own is described by its status (swagger's default is "Default
  // Response"); the copy only changes the document.
  for (const [status, reply] of Object.entries(response)) {
    const text = STATUS_TEXT[status];
    if (text !== undefined && typeof reply === 'object' && reply !== null && !('description' in reply)) {
      response[status] = { ...reply, description: text };
    }
  }
  const hasInput = base.params !== undefined || base.querystring !== undefined || base.body !== undefined;
  if (hasInput || method === 'POST' || method === 'PUT' || method === 'PATCH') {
    response['400'] ??= {
      $ref: 'ErrorReply',
      description: 'The request is invalid; the message names the field.',
    };
  }
  if (access !== 'public') {
    for (const [status, description] of Object.entries(ACCESS_ERRORS)) {
      response[status] ??= { $ref: 'ErrorReply', description };
    }
  }
  const security =
    access === 'public' ? [] : access === 'ingest' ? [{ bearer: [] }, { basic: [] }] : [{ bearer: [] }];
  const scope = SCOPE_TEXT[access];
  return {
    ...base,
    description: base.description ? `${base.description}\n\n${scope}` : scope,
    security,
    response,
  } as unknown as FastifySchema;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The document in a stable order: paths sorted (so the order plugins are registered in does not churn
 * docs/openapi.json), components' schemas sorted; everything else in the order it was declared.
 */
export function stableDocument(document: Record<string, unknown>): Record<string, unknown> {
  const sorted = (record: unknown) =>
    Object.fromEntries(
      Object.entries((record ?? {}) as Record<string, Json>).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  const components = (document['components'] ?? {}) as Record<string, unknown>;
  return {
    ...document,
    paths: sorted(document['paths']),
    components: { ...components, schemas: sorted(components['schemas']) },
  };
}

/** A 2xx JSON reply that does not match its route's response schema. */
export interface ReplyMismatch {
  readonly route: string;
  readonly status: number;
  /** Ajv's errors, each as `<instance path> <message>`. */
  readonly problems: readonly string[];
}

export interface ApiDocsOptions {
  /**
   * Check every 2xx JSON reply against its route's response schema (Ajv), answering a mismatch with 500
   * `reply_schema_mismatch` naming the path that broke it; a function is also told of each mismatch (tests
   * collect them). Off in production: replies are built by hand, and the check costs a parse per reply.
   */
  readonly validateReplies?: boolean | ((mismatch: ReplyMismatch) => void);
}

/**
 * Registers the shared reply schemas, the OpenAPI generator and `/docs`, and (optionally) the reply check.
 * Call before the route plugins: the generator sees only routes added after it.
 */
export function useApiDocs(app: FastifyInstance, options: ApiDocsOptions = {}): void {
  // The response schemas document replies and check them in tests; they must not change the bytes sent.
  // Fastify would serialize with fast-json-stringify, which drops properties a schema does not list and
  // coerces types: plain JSON.stringify keeps every reply exactly as the handler built it.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  for (const schema of [...SHARED_REPLY_SCHEMAS, ...DOCUMENTED_BODY_SCHEMAS]) app.addSchema(schema);

  const info = packageInfo();
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: info.name, version: info.version, description: info.description },
      tags: API_TAGS.map((tag) => ({ ...tag })),
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key: `Authorization: Bearer <key>`.',
          },
          basic: {
            type: 'http',
            scheme: 'basic',
            description:
              'Ingest routes only: a write (ingest) key as the HTTP Basic user name, the password empty — ' +
              'what Segment-style browser and mobile libraries send.',
          },
        },
      },
    },
    // Shared schemas are components named by their `$id` (`#/components/schemas/Item`).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json['$id'] ?? `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const docsBody = route.config?.docsBody;
      const documented = docsBody === undefined ? schema : { ...schema, body: docsBody };
      return { schema: withAccess(documented, methods[0] ?? 'GET', url), url };
    },
    transformObject: (document) =>
      'openapiObject' in document
        ? stableDocument(document.openapiObject as Record<string, unknown>)
        : document.swaggerObject,
  });
  void app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { deepLinking: true, tryItOutEnabled: false },
    // The API's own policy allows nothing (limits.ts); the reference needs its own scripts, styles, the
    // data: images Swagger UI inlines, and calls to this origin for "Try it out".
    staticCSP:
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
      "connect-src 'self'; font-src 'self' data:; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  });

  const { validateReplies = false } = options;
  if (validateReplies !== false) {
    useReplyValidation(app, typeof validateReplies === 'function' ? validateReplies : () => undefined);
  }
}

/**
 * The response schema a reply of `status` is checked against: the exact status, then `2xx`; with per-type
 * `content`, its `application/json` schema (null: the route documents a body of another type).
 */
function responseSchema(request: FastifyRequest, status: number): object | null | undefined {
  const response = (request.routeOptions.schema as { response?: Record<string, unknown> } | undefined)
    ?.response;
  const schema = (response?.[String(status)] ?? response?.['2xx']) as object | undefined;
  if (schema === undefined || !('content' in schema)) return schema;
  const content = schema.content as Record<string, { schema?: object }>;
  return content['application/json']?.schema ?? null;
}

/**
 * The reply check: each 2xx JSON reply, as the client will parse it, against its route's schema. A route
 * with no response schema is a mismatch too, so every route documents what it answers.
 */
function useReplyValidation(app: FastifyInstance, report: (mismatch: ReplyMismatch) => void): void {
  let ajv: Ajv | null = null;
  const compiled = new WeakMap<object, ValidateFunction>();
  app.addHook('onReady', async () => {
    // Loaded only when the check is on: production never pays for it.
    const { Ajv: AjvClass } = await import('ajv');
    ajv = new AjvClass({ strict: false, allErrors: true });
    for (const schema of SHARED_REPLY_SCHEMAS) ajv.addSchema(schema as AnySchema);
  });
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const status = reply.statusCode;
    const route = request.routeOptions.url;
    if (status < 200 || status >= 300 || route === undefined || ajv === null) return payload;
    // The reference serves its own assets; CORS preflights (a plugin's route) carry no body.
    if (route.startsWith(DOCS_PREFIX) || request.method === 'OPTIONS') return payload;
    const type = String(reply.getHeader('content-type') ?? '');
    const schema = responseSchema(request, status);
    const problems: string[] = [];
    if (schema === undefined) {
      problems.push(`no response schema for status ${status}`);
    } else if (status !== 204 && schema !== null) {
      if (!type.startsWith('application/json')) return payload;
      let validate = compiled.get(schema);
      if (validate === undefined) {
        validate = ajv.compile(schema as AnySchema);
        compiled.set(schema, validate);
      }
      const body: unknown = typeof payload === 'string' ? JSON.parse(payload) : payload;
      if (!validate(body)) {
        for (const error of validate.errors ?? []) {
          const extra = (error.params as { additionalProperty?: string }).additionalProperty;
          problems.push(
            `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}${extra ? ` ("${extra}")` : ''}`,
          );
        }
      }
    }
    if (problems.length === 0) return payload;
    const mismatch: ReplyMismatch = { route: `${request.method} ${route}`, status, problems };
    report(mismatch);
    request.log.error({ mismatch }, 'reply does not match its schema');
    void reply.status(500).type('application/json; charset=utf-8');
    return JSON.stringify(
      errorBody(
        'reply_schema_mismatch',
        `${mismatch.route} ${status}: the reply does not match its schema: ${problems.join('; ')}`,
      ),
    );
  });
}
