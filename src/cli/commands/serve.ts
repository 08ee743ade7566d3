import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/index.js';
import { generateDemoShop } from '../../demo/index.js';
import { Engine } from '../../engine/index.js';
import { defaultStages } from '../../recommendations/index.js';
import { TrainingLeaseHeldError, type BundleInfo } from '../../training/index.js';
import { cliEngineConfig, cliHttpLimits } from '../config.js';
import { loadDemoShop } from '../load.js';
import { cliLogger } from '../logger.js';
import { choiceName, count, summary } from '../format.js';
import { dataDir } from '../options.js';
import { createProgress, trainingProgress } from '../progress.js';

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
  const engine = await Engine.open(cliEngineConfig(options.dataDir), defaultStages, {
    logger: cliLogger('info'),
    trainerName: 'attune serve',
  });
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
  if (!engine.servingBundle && (await engine.store.countEvents()) > 0) {
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
      data: demoLoaded ?? `${count(events)} events in ${dataDir(options.dataDir)}`,
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
    await engine.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
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
    ['try', curl],
    ['stop', 'Ctrl-C'],
  ];
  return summary(`Attune is serving at ${url}`, rows).trimEnd();
}
