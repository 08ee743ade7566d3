import { buildApp } from '../../api/index.js';
import { generateDemoShop } from '../../demo/index.js';
import { Engine } from '../../engine/index.js';
import { defaultStages } from '../../recommendations/index.js';
import { TrainingLeaseHeldError } from '../../training/index.js';
import { cliEngineConfig, cliHttpLimits } from '../config.js';
import { loadDemoShop } from '../load.js';
import { cliLogger } from '../logger.js';
import { createProgress } from '../progress.js';

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
  if (options.demo && (await engine.store.countEvents()) === 0) {
    log('empty store: generating the demo shop…');
    const stored = await loadDemoShop(engine, generateDemoShop(), progress);
    log(`demo shop loaded: ${stored} events`);
  }
  if (!engine.servingBundle && (await engine.store.countEvents()) > 0) {
    const training = engine.train((stage, done, total) => progress.update(stage, done, total));
    // Another process training already (`attune train`): its bundle is loaded by the poller when saved.
    const elsewhere = (error: unknown) => {
      if (!(error instanceof TrainingLeaseHeldError)) throw error;
      progress.stop();
      log(`not training at start-up: ${error.message}`);
    };
    if (options.demo) {
      const info = await training.catch(elsewhere);
      progress.stop();
      if (info) log(`trained model version ${info.version} on ${info.interactions} interactions`);
    } else {
      // Any other failure is logged by the engine with its cause.
      training.catch(elsewhere).catch(() => undefined);
    }
  }

  const app = buildApp({
    engine,
    logger: { level: process.env['LOG_LEVEL'] ?? 'warn' },
    limits: cliHttpLimits(),
  });
  const address = await app.listen({ port: options.port, host: options.host });
  const url = address.replace('0.0.0.0', '127.0.0.1');
  log(`Attune is serving at ${url}`);
  const holdout = engine.experiments.holdoutShare;
  log(
    holdout > 0
      ? `  global holdout: ${+(holdout * 100).toFixed(2)}% of users get popularity, never personalization; ` +
          'what personalization adds: attune experiments report holdout (ATTUNE_HOLDOUT=0 turns it off)'
      : '  global holdout: off (ATTUNE_HOLDOUT=0); set a share such as 0.05 to measure what personalization adds',
  );
  if (await engine.access.isOpen()) {
    log(
      '  API keys: none configured, so the API answers loopback clients only; create one with ' +
        '`attune keys create --scope admin` (or set ATTUNE_ADMIN_KEY) to open it to others',
    );
    log(`  try: curl '${url}/v1/recommendations?user_id=user-0001&n=5'`);
  } else {
    log('  API keys: required on every route but /health (Authorization: Bearer <key>; attune keys list)');
    log(
      `  try: curl -H "Authorization: Bearer $ATTUNE_KEY" '${url}/v1/recommendations?user_id=user-0001&n=5'`,
    );
  }
  log(`       curl '${url}/health'`);

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
