/**
 * Experiment analysis at scale (`src/experiments/metrics`): the per-user values of the four built-in metrics
 * (click-through, purchase conversion, revenue per user, day-7 retention), with their pre-exposure
 * covariates and daily series, for one million exposed users and ten million events.
 *
 *   node --import tsx bench/experiment-analysis.ts [--users 1000000] [--events 10000000]
 *
 * `--max-semi-space-size=64` (a larger young generation) takes 1–2 s off: the scan's batches are garbage
 * the moment they are read, and fewer, larger scavenges copy less of the batch still in use.
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
 * process's peak resident memory. stdout: one JSON line.
 */
import { BUILT_IN_METRICS, computeMetrics } from '../src/experiments/metrics/index.js';
import { syntheticLog } from '../src/experiments/metrics/synthetic.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
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
const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(
  JSON.stringify({
    bench: 'experiment-analysis',
    users: USERS,
    events: result.scanned.events,
    seconds: Number(seconds.toFixed(2)),
    rss_mb: rssMb,
  }),
);
