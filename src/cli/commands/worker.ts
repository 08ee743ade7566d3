import { hostname } from 'node:os';

import { Engine, EngineHost, type EngineOptions } from '../../engine/index.js';
import type { EventStreamConsumer } from '../../events/stream/index.js';
import { defaultStages } from '../../recommendations/index.js';
import { acquireRoleLock, openStore, type RoleLock } from '../../store/index.js';
import { TrainingLeaseHeldError } from '../../training/index.js';
import { cliEngineConfig } from '../config.js';
import { openClusterServices, openStreamConsumer, type ClusterServices } from '../cluster.js';
import { cliLogger } from '../logger.js';
import { storeName } from '../options.js';

export interface WorkerOptions {
  readonly dataDir: string | undefined;
}

/**
 * `attune worker`: the deployment's background role — training on the schedule, retention, closing
 * decisions whose reward window ended, the event stream's consumer — beside any number of `attune serve`
 * instances. Exactly one worker is active: it holds the role lock (a PostgreSQL advisory lock, or the
 * embedded store's lease); a second one waits and takes over within a second of the first one's death.
 * If the lock is lost while active (its connection broke), this process stops at once and exits 1, so
 * that two workers never train side by side; a supervisor starts it again and it waits its turn.
 */
export async function worker(options: WorkerOptions): Promise<void> {
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const config = cliEngineConfig(options.dataDir, { bundlePollMs: null });
  const holder = `${hostname()} pid ${process.pid}`;
  const lockStore = await openStore(config.storeUrl);
  const abort = new AbortController();
  let engine: Engine | null = null;
  let host: EngineHost | null = null;
  let consumer: EventStreamConsumer | null = null;
  let cluster: ClusterServices | null = null;
  let lock: RoleLock | null = null;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    abort.abort(new Error('stopped'));
    // The consumer first: what it holds unacknowledged goes back to the stream for the next worker.
    await consumer?.close().catch(() => undefined);
    await host?.close().catch(() => undefined);
    await engine?.close().catch(() => undefined);
    await cluster?.close();
    await lock?.release();
    await lockStore.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  log(`attune worker (${holder}) on ${storeName(options.dataDir)}: waiting for the worker lock`);
  try {
    lock = await acquireRoleLock(config.storeUrl, {
      store: lockStore,
      role: 'worker',
      holder,
      signal: abort.signal,
      onWaiting: (heldBy) =>
        log(heldBy === null ? 'waiting for the database' : `standing by: the active worker is ${heldBy}`),
    });
  } catch (error) {
    if (stopping) return;
    throw error;
  }
  void lock.lost.then((error) => {
    log(`worker lock lost (${error.message}); stopping so that no two workers run at once`);
    void stop(1);
  });
  log('active: this process holds the worker lock');

  // The worker's own changes (a new model version, retention) reach the API instances over the bus.
  cluster = (await openClusterServices())?.services ?? null;
  const logger = cliLogger('info');
  const engineOptions: EngineOptions = {
    logger,
    trainerName: 'attune worker',
    ...(cluster ? { cluster: cluster.bus } : {}),
  };
  engine = await Engine.open(config, defaultStages, engineOptions);
  host = new EngineHost(engine, defaultStages, engineOptions);
  // With a stream in front of ingestion, this worker is what stores the events (each app through its engine).
  consumer = await openStreamConsumer(host, logger);
  if (consumer) log('consuming the event stream into the store');
  // A fresh deployment (or one whose worker died mid-run) trains now rather than at the first tick.
  if ((await engine.store.lastEventSeq()) > (engine.servingBundle?.position ?? 0)) {
    engine.train().catch((error: unknown) => {
      if (!(error instanceof TrainingLeaseHeldError)) log(`training failed: ${String(error)}`);
    });
  }
  log(
    `running: retraining every ${config.retrainIntervalMs === null ? '— (off)' : `${config.retrainIntervalMs / 1000} s`}` +
      `, retention ${config.retentionMs === null ? 'off' : `${config.retentionMs / 86_400_000} days`}`,
  );
}
