/**
 * Experiment analysis at scale (`src/experiments/metrics`): the per-user values of the four built-in metrics
 * (click-through, purchase conversion, revenue per user, day-7 retention), with their pre-exposure
 * covariates and daily series, for one million exposed users and ten million events.
 *
 *   node --import tsx bench/experiment-analysis.ts [--users 1000000] [--events 10000000] [--runs 3] [--young-mb N]
 *
 * The analysis runs in a worker thread with the heap limits the engine gives its report worker
 * (`ANALYSIS_RESOURCE_LIMITS`: a larger young generation), as `GET /v1/experiments/:id/results` and
 * `attune experiments report` run it; `--main-thread` runs it on the main thread with Node's defaults instead.
 *
 * The log is generated in memory by a seeded generator (`syntheticLog`; nothing is written to disk) before
 * the clock starts, as typed columns; reading it yields fresh `TrackedEvent` objects in an async iterable of
 * batches of 10,000, as `Store.scanEvents` would. (Holding ten million event objects instead would make every
 * garbage collection trace them, a cost a real scan, whose batches die young, does not have.) `seconds` is
 * the wall time of `computeMetrics`, materialising the batches included; stderr also gives the time of
 * reading the log alone, measured after `computeMetrics`: read before, it could leave V8 allocating the
 * store's objects in the old generation for the rest of the process (it pretenures an allocation site when
 * a collection finds nearly all it made since the previous one alive, as happens when a collection falls in
 * a read's first batch), and `seconds` would measure that state about half the time. `rss_mb` is the
 * process's peak resident memory (all runs). `seconds` is the median of `--runs` runs, each in a fresh worker.
 * stdout: one JSON line.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ANALYSIS_RESOURCE_LIMITS } from '../src/experiments/index.js';
import { BUILT_IN_METRICS, computeMetrics } from '../src/experiments/metrics/index.js';
import { syntheticLog } from '../src/experiments/metrics/synthetic.js';
import { startWorker } from '../src/shared/worker.js';
import { median } from './server.js';

interface RunResult {
  readonly users: number;
  readonly events: number;
  readonly seconds: number;
}

const args: readonly string[] = isMainThread ? process.argv.slice(2) : (workerData as string[]);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};

if (!isMainThread) {
  parentPort!.postMessage(await analyse());
} else if (args.includes('--main-thread')) {
  report([await analyse()]);
} else {
  // Each run in a fresh worker (a fresh heap: V8's allocation decisions of one run do not carry into the
  // next) under the report worker's limits; its stderr is ours.
  // `--young-mb N`: another young generation than the engine's, to measure what the setting is worth.
  const youngMb = args.includes('--young-mb') ? option('--young-mb', 0) : undefined;
  const runs: RunResult[] = [];
  for (let r = 0; r < option('--runs', 3); r++) {
    const worker = startWorker(import.meta.url, './experiment-analysis.js', {
      workerData: args,
      resourceLimits:
        youngMb === undefined ? ANALYSIS_RESOURCE_LIMITS : { maxYoungGenerationSizeMb: youngMb },
    });
    runs.push(
      await new Promise<RunResult>((resolve, reject) => {
        worker.once('message', resolve);
        worker.on('error', reject);
        worker.on('exit', (code) => reject(new Error(`the analysis worker exited ${code} before answering`)));
      }),
    );
    await worker.terminate();
  }
  report(runs);
}

function report(runs: readonly RunResult[]): void {
  const seconds = runs.map((run) => run.seconds);
  console.log(
    JSON.stringify({
      bench: 'experiment-analysis',
      users: runs[0]!.users,
      events: runs[0]!.events,
      seconds: median(seconds),
      runs_seconds: seconds,
      thread: args.includes('--main-thread')
        ? 'main'
        : args.includes('--young-mb')
          ? `worker, young generation ${option('--young-mb', 0)} MB`
          : 'worker, ANALYSIS_RESOURCE_LIMITS',
      rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}

async function analyse(): Promise<RunResult> {
  const USERS = option('--users', 1_000_000);
  const EVENTS = option('--events', 10_000_000);
  const BATCH = 10_000;

  /** The store's scan is async: so is this one, a batch at a time. */
  async function* scan<T>(batches: Iterable<T[]>): AsyncGenerator<T[]> {
    for (const batch of batches) yield batch;
  }

  const generating = performance.now();
  const log = syntheticLog({ users: USERS, events: EVENTS, seed: 20250303, batchSize: BATCH });
  process.stderr.write(
    `generated ${USERS} users, ${log.eventCount} events, ${log.servedListCount} served lists in ` +
      `${((performance.now() - generating) / 1000).toFixed(1)} s\n`,
  );

  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await computeMetrics({
    exposures: log.exposures(),
    events: scan(log.events()),
    impressions: scan(log.impressions()),
    metrics: Object.values(BUILT_IN_METRICS),
    now: log.now,
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;

  // What reading the log costs by itself (materialising the batches, as a store would): part of `seconds`.
  const timeReading = async <T>(batches: Iterable<T[]>): Promise<number> => {
    const reading = performance.now();
    for await (const batch of scan(batches)) if (batch.length === 0) throw new Error('empty batch');
    return (performance.now() - reading) / 1000;
  };
  const readEventsSeconds = await timeReading(log.events());
  const readListsSeconds = await timeReading(log.impressions());
  process.stderr.write(
    `computeMetrics ${seconds.toFixed(2)} s (CPU, all threads: ${cpuSeconds.toFixed(2)} s), of which reading ` +
      `the log alone takes ~${(readEventsSeconds + readListsSeconds).toFixed(2)} s ` +
      `(events ${readEventsSeconds.toFixed(2)} s, served lists ${readListsSeconds.toFixed(2)} s)\n`,
  );

  for (const metric of result.metrics) {
    const summary = metric.byVariant.map((values) => {
      const last = values.daily[values.daily.length - 1];
      const n = last?.moments.n ?? 0;
      return `${values.variant}: n=${n} Σ=${(last?.moments.sums[0] ?? 0).toFixed(0)}`;
    });
    process.stderr.write(`${metric.definition.name} (${result.series.days} days) ${summary.join(', ')}\n`);
  }
  return { users: USERS, events: result.scanned.events, seconds: Number(seconds.toFixed(2)) };
}
