import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { EngineHost, type Engine } from '../engine/index.js';
import { useAccessControl } from './access.js';
import { adminRoutes } from './admin.js';
import {
  checkParsedValues,
  checkQueryEncoding,
  PathPatterns,
  routerErrorHandler,
  useUtf8JsonParser,
} from './encoding.js';
import { churnRoutes } from './churn.js';
import { dashboardRoutes } from './dashboard.js';
import { dashboardUiRoutes } from './dashboard-ui.js';
import { decisionRoutes } from './decisions.js';
import { handleError } from './errors.js';
import { eventRoutes } from './events.js';
import { experimentRoutes } from './experiments.js';
import { featureRoutes } from './features.js';
import { healthRoutes } from './health.js';
import { itemRoutes } from './items.js';
import { keyRoutes } from './keys.js';
import { defaultHttpLimits, useLimits, type HttpLimits, type RateCounter } from './limits.js';
import { notifyRoutes } from './notify.js';
import { useApiDocs, type ApiDocsOptions } from './openapi.js';
import { rankRoutes } from './rank.js';
import { recommendationRoutes } from './recommendations.js';
import { rulesRoutes } from './rules.js';
import { segmentSpecRoutes } from './segment-spec.js';
import { segmentRoutes } from './segments.js';
import { assertPathParamsKnown, checkUrlParams, ROUTER_MAX_PARAM_LENGTH } from './url-params.js';
import { userRoutes } from './users.js';

export interface AppOptions {
  /** The default app's engine. */
  readonly engine: Engine;
  /**
   * The apps beside it (`engine/host.ts`); without one, a host over `engine` that opens other apps under
   * its data directory and closes them with the server.
   */
  readonly host?: EngineHost;
  /** Rate limits, CORS origins, request timeout; `defaultHttpLimits` when absent. */
  readonly limits?: HttpLimits;
  /**
   * Where requests are counted against the rate limits: this process's own windows by default; with
   * several instances, counters shared through Redis (`cluster/`), so a key's limit is the deployment's.
   */
  readonly rateCounter?: RateCounter;
  /** pino logger options (a stream, too: tests read what is logged), or false for none (benchmarks). */
  readonly logger?: boolean | { readonly level: string; readonly stream?: NodeJS.WritableStream };
  /** Check each 2xx reply against its route's response schema (tests; `api/openapi.ts`). Off by default. */
  readonly validateReplies?: ApiDocsOptions['validateReplies'];
}

/** Largest request body: 1,000 events of ordinary size fit well inside it. */
export const BODY_LIMIT = 1024 * 1024;

/** The HTTP API: a table of contents of its route plugins, each calling the engine. */
export function buildApp({
  engine,
  host: given,
  logger = false,
  limits = defaultHttpLimits,
  rateCounter,
  validateReplies = false,
}: AppOptions): FastifyInstance {
  const pathPatterns = new PathPatterns();
  const app = Fastify({
    // Request logs name the method and the route, never the URL (its path and query carry user ids, which
    // an erasure could not reach in log files) nor the client's address (IP addresses are kept nowhere).
    logger:
      logger === false
        ? false
        : {
            ...(logger === true ? {} : logger),
            serializers: {
              req: (request: FastifyRequest) => ({
                method: request.method,
                route: request.routeOptions.url ?? 'unmatched',
              }),
            },
          },
    bodyLimit: BODY_LIMIT,
    requestTimeout: limits.requestTimeoutMs,
    // Derived from the id and name rules (url-params.ts): every id a body may create fits a path.
    routerOptions: { maxParamLength: ROUTER_MAX_PARAM_LENGTH },
    frameworkErrors: routerErrorHandler(pathPatterns, ROUTER_MAX_PARAM_LENGTH),
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // What the API accepts it can serve again: strict UTF-8 in, and URL ids checked like body ids.
  app.addHook('onRoute', (route) => {
    assertPathParamsKnown(route.url);
    pathPatterns.add(route.method, route.url);
  });
  useUtf8JsonParser(app);
  const host = given ?? new EngineHost(engine);
  if (given === undefined) app.addHook('onClose', () => host.close());
  useAccessControl(app, host);
  useLimits(app, limits, rateCounter);
  app.addHook('onRequest', checkQueryEncoding);
  app.addHook('preValidation', checkUrlParams);
  // Before the schema's coercions (which turn the number 1e400 into the text "Infinity") and after them
  // (which turn the text "1e400" into Infinity): no such number reaches a handler either way.
  app.addHook('preValidation', checkParsedValues);
  app.addHook('preHandler', checkParsedValues);

  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url}` } });
  });
  app.addHook('onResponse', async (request, reply) => {
    request.engine.metrics.httpDuration
      .child({
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      })
      .observe(reply.elapsedTime / 1000);
  });

  // The OpenAPI document and /docs: before the routes, which it documents as they are added.
  useApiDocs(app, { validateReplies });
  void app.register(healthRoutes, { config: engine.config });
  void app.register(eventRoutes, { config: engine.config });
  void app.register(segmentSpecRoutes, { config: engine.config });
  void app.register(itemRoutes, { config: engine.config });
  void app.register(userRoutes, { config: engine.config });
  void app.register(recommendationRoutes, { config: engine.config });
  void app.register(rankRoutes, { config: engine.config });
  void app.register(rulesRoutes, { config: engine.config });
  void app.register(adminRoutes, { config: engine.config });
  void app.register(experimentRoutes, { config: engine.config });
  void app.register(featureRoutes, { config: engine.config });
  void app.register(churnRoutes, { config: engine.config });
  void app.register(segmentRoutes, { config: engine.config });
  void app.register(notifyRoutes, { config: engine.config });
  void app.register(decisionRoutes, { config: engine.config });
  void app.register(dashboardRoutes, { config: engine.config });
  void app.register(dashboardUiRoutes);
  void app.register(keyRoutes, { access: host.access, audit: host.audit });
  return app;
}
