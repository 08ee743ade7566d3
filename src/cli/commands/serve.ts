import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/index.js';
import { generateDemoShop } from '../../demo/index.js';
import { Engine, EngineHost, type EngineOptions } from '../../engine/index.js';
import { openClusterServices, openStreamPublisher } from '../cluster.js';
import { defaultStages } from '../../recommendations/index.js';
import { TrainingLeaseHeldError, type BundleInfo } from '../../training/index.js';
import { cliEngineConfig, cliHttpLimits } from '../config.js';
import { loadDemoShop } from '../load.js';
import { cliLogger } from '../logger.js';
import { choiceName, count, summary } from '../format.js';
import { storeName, storeUrl } from '../options.js';
import { parseStoreUrl } from '../../store/index.js';
import { createProgress, trainingProgress } from '../progress.js';

/** How often a shared-store instance looks for a model the worker saved (the cluster bus says so sooner). */
const SHARED_BUNDLE_POLL_MS = 1_000;

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string | undefined;
  /** Fill an empty store with the demo shop and train before listening (`npm start`). */
  readonly demo: boolean;
}

/**
 * Runs the API until SIGINT/SIGTERM; with no model yet, trains in the background (health says so).
 * `LOG_LEVEL` sets both logs: HTTP requests (default warn) and the engine's training runs, bundle loads
 * and their failures (default info), JSON lines on stderr.
 */
export async function serve(options: ServeOptions): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // On PostgreSQL, `attune serve` is one of many stateless instances: training, retention and the schedule
  // are the worker's (`attune worker`), and a model it saves is picked up within a second.
  const shared = parseStoreUrl(storeUrl(options.dataDir)).backend === 'postgres';
  const config = cliEngineConfig(
    options.dataDir,
    shared ? { retrainIntervalMs: null, retentionMs: null, bundlePollMs: SHARED_BUNDLE_POLL_MS } : {},
  );
  const cluster = await openClusterServices();
  const stream = await openStreamPublisher();
  const engineOptions: EngineOptions = {
    logger: cliLogger('info'),
    trainerName: 'attune serve',
    ...(cluster
      ? {
          cluster: cluster.services.bus,
          ...(cluster.services.lists ? { sharedLists: cluster.services.lists } : {}),
          featureSnapshots: cluster.services.featureSnapshots,
        }
      : {}),
    ...(stream ? { eventStream: stream } : {}),
  };
  const engine = await Engine.open(config, defaultStages, engineOptions);
  const host = new EngineHost(engine, defaultStages, engineOptions);
  const progress = createProgress();
  let demoLoaded: string | null = null;
  if (options.demo && (await engine.store.countEvents()) === 0) {
    log('empty store: generating the demo shop…');
    const shop = generateDemoShop();
    const stored = await loadDemoShop(engine, shop, progress);
    demoLoaded = `demo shop loaded: ${count(shop.users.length)} users · ${count(shop.items.length)} items · ${count(stored)} events`;
    log(demoLoaded);
  }
  let training: string | null = null;
  if (shared && !options.demo && !engine.servingBundle) {
    training = 'none yet: `attune worker` trains it (and keeps training); it serves here once saved';
  } else if (!engine.servingBundle && (await engine.store.countEvents()) > 0) {
    const run = engine.train(trainingProgress(progress));
    // Another process training already (`attune train`): its bundle is loaded by the poller when saved.
    const elsewhere = (error: unknown) => {
      if (!(error instanceof TrainingLeaseHeldError)) throw error;
      progress.stop();
      training = `another process is training (${error.message}); its model loads when saved`;
    };
    if (options.demo) {
      const info = await run.catch(elsewhere);
      progress.stop();
      if (info) log(`trained model version ${info.version} on ${count(info.interactions)} interactions`);
    } else {
      training = 'no model yet: training in the background (GET /health says when it serves)';
      // Any other failure is logged by the engine with its cause.
      run.catch(elsewhere).catch(() => undefined);
    }
  }

  const app = buildApp({
    engine,
    host,
    ...(cluster ? { rateCounter: cluster.services.rateCounter } : {}),
    logger: { level: process.env['LOG_LEVEL'] ?? 'warn' },
    limits: cliHttpLimits(),
  });
  const address = await app.listen({ port: options.port, host: options.host });
  const url = address.replace('0.0.0.0', '127.0.0.1');
  const open = await engine.access.isOpen();
  const events = await engine.store.countEvents();
  log(
    startupBlock({
      url,
      open,
      holdout: engine.experiments.holdoutShare,
      dashboard: routeExists(app, '/dashboard'),
      docs: routeExists(app, '/docs'),
      data: demoLoaded ?? `${count(events)} events in ${storeName(options.dataDir)}`,
      cluster: clusterLine(shared, cluster),
      stream: stream
        ? 'events go to the NATS stream (ATTUNE_EVENT_STREAM), acknowledged once persisted; attune worker stores them'
        : null,
      model: engine.servingBundle
        ? `version ${engine.servingBundle.version} serving: ${bundleModel(engine.servingBundle)}`
        : (training ??
          (events === 0
            ? 'none yet: send events (POST /v1/events, or attune import), then attune train'
            : null)),
    }),
  );

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await app.close();
    await host.close();
    await engine.close();
    await cluster?.services.close();
    await stream?.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

/** The start-up block's word on the other instances: how this one hears of their changes. */
function clusterLine(
  shared: boolean,
  cluster: Awaited<ReturnType<typeof openClusterServices>>,
): string | null {
  if (cluster) {
    return cluster.connected
      ? 'Redis: changes of the other instances arrive at once; rate limits count across instances'
      : 'Redis (REDIS_URL) does not answer yet: serving from memory, catching up once it does';
  }
  return shared
    ? 'no REDIS_URL: run one instance only, or set REDIS_URL so that instances learn of each other’s events'
    : null;
}

function bundleModel(info: BundleInfo): string {
  return info.selection
    ? choiceName(info.selection.chosen.model, info.selection.chosen.params)
    : info.primary;
}

/** Whether the app has a GET route at the path (with or without a trailing slash): other parts add them. */
function routeExists(app: FastifyInstance, path: string): boolean {
  return app.hasRoute({ method: 'GET', url: path }) || app.hasRoute({ method: 'GET', url: `${path}/` });
}

export interface StartupFacts {
  readonly url: string;
  /** No key stored nor configured: loopback clients only. */
  readonly open: boolean;
  readonly holdout: number;
  readonly dashboard: boolean;
  readonly docs: boolean;
  readonly data: string;
  readonly model: string | null;
  /** How the instances of a deployment keep each other current; null for one embedded process. */
  readonly cluster?: string | null;
  /** Where acknowledged events go first, with a stream in front of ingestion. */
  readonly stream?: string | null;
}

/**
 * What `attune serve` and `npm start` print once listening: where everything is, who may call it, what
 * is measured, what data serves. Its first line, `Attune is serving at URL`, is what scripts and tests
 * wait for; keep it.
 */
export function startupBlock(facts: StartupFacts): string {
  const { url } = facts;
  const curl = facts.open
    ? `curl '${url}/v1/recommendations?user_id=user-0001&n=5'`
    : `curl -H "Authorization: Bearer $ATTUNE_KEY" '${url}/v1/recommendations?user_id=user-0001&n=5'`;
  const rows: [string, string | null][] = [
    ['API', `${url}/v1   (health: ${url}/health)`],
    ['dashboard', facts.dashboard ? `${url}/dashboard` : null],
    ['API reference', facts.docs ? `${url}/docs` : null],
    [
      'access',
      facts.open
        ? 'loopback clients only, no key needed (no API keys yet); to open it to others: attune keys create --scope admin'
        : 'API keys required on every route but /health (Authorization: Bearer <key>; attune keys list)',
    ],
    [
      'holdout',
      facts.holdout > 0
        ? `${+(facts.holdout * 100).toFixed(2)}% of users get popularity, never personalization ` +
          '(the lift: attune experiments report holdout; ATTUNE_HOLDOUT=0 turns it off)'
        : 'off (ATTUNE_HOLDOUT=0); set a share such as 0.05 to measure what personalization adds',
    ],
    ['data', facts.data],
    ['model', facts.model],
    ['instances', facts.cluster ?? null],
    ['ingestion', facts.stream ?? null],
    ['try', curl],
    ['stop', 'Ctrl-C'],
  ];
  return summary(`Attune is serving at ${url}`, rows).trimEnd();
}
