/**
 * The whole experiment loop against the truth (issue 9): `attune simulate` in 100 seeded runs. Each run
 * drives the demo shop's users through the HTTP API over simulated days with the checkout-upsell experiment
 * running beside the global holdout; the upsell's true effect is planted (orders worth 10% more, nothing else
 * changed), so its true lift is +10% on revenue per user and exactly 0 on purchase conversion,
 * click-through and day-7 retention. Counted over the runs: how often each reported 95% interval covers the
 * truth (target ≥ 93 of 100 on every metric), and how often personalization's lift over the holdout is
 * positive and significant (always-valid) on each metric.
 *
 * The demo shop is generated and trained once (`attune demo`, `attune train`, the default configuration:
 * auto selection); each run starts from a copy of that store, so runs differ in the shoppers' behaviour and
 * the experiment's assignment (`--seed`), not in the shop or the model. The holdout's members are fixed by
 * its salt, the same in every run (as in production, where the holdout never changes).
 *
 *   node --import tsx bench/simulate.ts [--runs 100] [--users 3000] [--days 14] [--parallel 1]
 *
 * Needs a build (`npm run build`). stdout: one JSON line per run, then a summary line.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimulationOutcome } from '../src/cli/commands/simulate.js';
import { median, runCli, tempDataDir } from './server.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RUNS = option('--runs', 100);
const USERS = option('--users', 3_000);
const DAYS = option('--days', 14);
const HISTORY_DAYS = 30;
/** Runs at once: on two cores, two runs take about the time of one (the numbers do not change). */
const PARALLEL = option('--parallel', 1);
const COVERAGE_TARGET = 0.93;

const base = tempDataDir('simulate-base');
const shop = ['--users', String(USERS), '--days', String(HISTORY_DAYS)];
process.stderr.write(`generating and training the demo shop (${USERS} users)…\n`);
await runCli(['demo', '--data-dir', base, ...shop], base);
await runCli(['train', '--data-dir', base], base);

/** One seeded run on its own copy of the trained store. */
async function simulateRun(seed: number): Promise<SimulationOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'attune-bench-simulate-'));
  try {
    cpSync(base, dir, { recursive: true });
    const stdout = await runCli(
      [
        'simulate',
        ...['--data-dir', dir, '--seed', String(seed), '--users', String(USERS)],
        ...['--history-days', String(HISTORY_DAYS), '--days', String(DAYS), '--json'],
      ],
      dir,
    );
    const outcome = JSON.parse(stdout) as SimulationOutcome;
    process.stdout.write(`${JSON.stringify({ bench: 'simulate-run', ...compact(outcome) })}\n`);
    process.stderr.write(`run ${seed}/${RUNS}: ${outcome.seconds.traffic} s of traffic\n`);
    return outcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Runs side by side change only the seconds (each run's numbers depend on its seed alone).
const outcomes: SimulationOutcome[] = [];
let nextSeed = 1;
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    while (nextSeed <= RUNS) outcomes.push(await simulateRun(nextSeed++));
  }),
);
outcomes.sort((a, b) => a.seed - b.seed);

/** One run's line: what was judged, without the counts per arm. */
function compact(outcome: SimulationOutcome) {
  return {
    seed: outcome.seed,
    visits: outcome.counts.visits,
    exposed: outcome.judgement.exposed,
    sample_ratio_ok: outcome.judgement.sample_ratio_ok,
    metrics: outcome.judgement.metrics.map((m) => ({
      metric: m.metric,
      true_lift: m.true_lift,
      rel_lift: m.rel_lift,
      ci: m.ci,
      covered: m.covered,
    })),
    holdout: outcome.judgement.holdout.metrics.map((m) => ({
      metric: m.metric,
      rel_lift: m.rel_lift,
      significant: m.significant,
    })),
    seconds: outcome.seconds,
  };
}

const metricNames = [...new Set(outcomes.flatMap((o) => o.judgement.metrics.map((m) => m.metric)))];
const coverage = metricNames.map((metric) => {
  const judged = outcomes.flatMap((o) => o.judgement.metrics.filter((m) => m.metric === metric));
  const withInterval = judged.filter((m) => m.covered !== null);
  const covered = withInterval.filter((m) => m.covered).length;
  return {
    metric,
    true_lift: judged[0]?.true_lift ?? null,
    runs: judged.length,
    runs_with_interval: withInterval.length,
    covered,
    median_rel_lift: median(withInterval.map((m) => m.rel_lift!)),
    ok: withInterval.length === RUNS && covered >= COVERAGE_TARGET * RUNS,
  };
});
const holdoutMetricNames = [
  ...new Set(outcomes.flatMap((o) => o.judgement.holdout.metrics.map((m) => m.metric))),
];
const holdout = holdoutMetricNames.map((metric) => {
  const judged = outcomes.flatMap((o) => o.judgement.holdout.metrics.filter((m) => m.metric === metric));
  const positiveSignificant = judged.filter((m) => m.significant === true && (m.rel_lift ?? 0) > 0).length;
  return {
    metric,
    runs: judged.length,
    positive_significant: positiveSignificant,
    median_rel_lift: median(judged.flatMap((m) => (m.rel_lift === null ? [] : [m.rel_lift]))),
  };
});
process.stdout.write(
  `${JSON.stringify({
    bench: 'simulate',
    runs: RUNS,
    users: USERS,
    days: DAYS,
    median_visits: median(outcomes.map((o) => o.counts.visits)),
    median_exposed: median(
      outcomes.map((o) => Object.values(o.judgement.exposed).reduce((a, b) => a + b, 0)),
    ),
    sample_ratio_ok: outcomes.filter((o) => o.judgement.sample_ratio_ok === true).length,
    coverage,
    holdout,
    parallel: PARALLEL,
    median_traffic_seconds: median(outcomes.map((o) => o.seconds.traffic)),
    ok: coverage.every((c) => c.ok),
  })}\n`,
);
