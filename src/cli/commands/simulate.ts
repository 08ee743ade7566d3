import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoShop } from '../../demo/index.js';
import type { ExperimentReport } from '../../experiments/index.js';
import {
  ApiClient,
  drive,
  experimentBody,
  judge,
  population,
  SimulatedClock,
  upsellScenario,
  type DriveCounts,
  type Judgement,
} from '../../simulate/index.js';
import { loadDemoShop } from '../load.js';
import { openSimulatedEngine } from '../simulated-engine.js';
import { formatTable } from '../table.js';
import { createProgress, trainingProgress } from '../progress.js';

export interface SimulateOptions {
  /** A store holding nothing, or exactly the demo shop these options generate (trained or not); default a temporary one. */
  readonly dataDir: string | undefined;
  /** Seed of the shoppers' behaviour and of the experiment's assignment. */
  readonly seed: number;
  /** Seed, size and history of the demo shop the shoppers come from. */
  readonly shopSeed: number;
  readonly users: number;
  readonly items: number;
  readonly historyDays: number;
  /** Simulated days of traffic after the history. */
  readonly days: number;
  /** The treatment's true relative lift on order value (revenue per user). */
  readonly plantedLift: number;
  /** The global holdout's share (default: the engine's, `ATTUNE_HOLDOUT` or 5%). */
  readonly holdout: number | undefined;
  readonly concurrency: number;
  readonly json: boolean;
}

export interface SimulationOutcome {
  readonly seed: number;
  readonly shopper_count: number;
  readonly days: number;
  readonly planted_lift: number;
  readonly counts: DriveCounts;
  readonly judgement: Judgement;
  readonly seconds: { readonly setup: number; readonly traffic: number; readonly reports: number };
}

const LIST_LENGTH = 10;

/**
 * `attune simulate`: the demo shop's users as shoppers against a real engine and its HTTP API on a
 * loopback port, on a clock the simulation moves (a month of traffic in minutes), with an experiment whose
 * true effect is planted; then the experiment's and the holdout's reports, judged against the truth.
 */
export async function simulate(options: SimulateOptions): Promise<void> {
  const temporary = options.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'attune-simulate-')) : null;
  try {
    const outcome = await runSimulation(options, options.dataDir ?? temporary!);
    process.stdout.write(options.json ? `${JSON.stringify(outcome)}\n` : formatOutcome(outcome));
  } finally {
    if (temporary !== null) rmSync(temporary, { recursive: true, force: true });
  }
}

async function runSimulation(options: SimulateOptions, dataDir: string): Promise<SimulationOutcome> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();
  const shop = generateDemoShop({
    seed: options.shopSeed,
    users: options.users,
    items: options.items,
    days: options.historyDays,
  });
  const clock = new SimulatedClock(shop.truth.end);
  // The model stays as trained on the history.
  const { engine, app } = await openSimulatedEngine(dataDir, clock, options.holdout);
  try {
    const stored = await engine.store.countEvents();
    if (stored === 0) {
      log(`loading the demo shop (${options.users} users, ${options.historyDays} days of history)…`);
      await loadDemoShop(engine, shop, createProgress());
    } else if (stored !== shop.events.length) {
      throw new Error(
        `the store in ${dataDir} holds ${stored} events; attune simulate starts from an empty store or from one ` +
          `holding exactly the demo shop of these options (${shop.events.length} events)`,
      );
    }
    if (engine.servingBundle === null) {
      log('training on the history…');
      const progress = createProgress();
      await engine.train(trainingProgress(progress));
      progress.stop();
    }
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const api = new ApiClient(url);
    const scenario = upsellScenario(options.plantedLift);
    await api.post('/v1/experiments', experimentBody(scenario, options.seed));
    const setup = performance.now();

    log(`simulating ${options.days} days of ${shop.users.length} shoppers against ${url}…`);
    const counts = await drive({
      api,
      clock,
      population: population(shop, options.seed),
      scenario,
      seed: options.seed,
      days: options.days,
      concurrency: options.concurrency,
      listLength: LIST_LENGTH,
      onDay: (day, c) =>
        log(`  day ${day}: ${c.visits} visits, ${c.clicks} clicks, ${c.purchases} purchases`),
    });
    const traffic = performance.now();

    const experiment = await api.get<ExperimentReport>(`/v1/experiments/${scenario.experiment}/results`);
    const holdout = await api.get<ExperimentReport>('/v1/experiments/holdout/results');
    const done = performance.now();
    return {
      seed: options.seed,
      shopper_count: shop.users.length,
      days: options.days,
      planted_lift: options.plantedLift,
      counts,
      judgement: judge(scenario, experiment, holdout),
      seconds: {
        setup: round((setup - started) / 1000),
        traffic: round((traffic - setup) / 1000),
        reports: round((done - traffic) / 1000),
      },
    };
  } finally {
    await app.close();
    await engine.close();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;
const pct = (x: number | null) => (x === null ? '–' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);
const interval = (ci: readonly [number, number] | null) =>
  ci === null ? '–' : `[${pct(ci[0])}, ${pct(ci[1])}]`;

function formatOutcome(outcome: SimulationOutcome): string {
  const { counts, judgement } = outcome;
  const out: string[] = [];
  out.push(
    `${outcome.shopper_count} shoppers over ${outcome.days} simulated days (seed ${outcome.seed}): ` +
      `${counts.visits} visits, ${counts.clicks} clicks, ${counts.purchases} purchases, ${counts.events} events`,
  );
  out.push(
    `lists served: ${Object.entries(counts.arms)
      .map(([arm, c]) => `${arm} ${c.lists} to ${c.shoppers} shoppers`)
      .join(', ')}`,
  );
  out.push('');
  out.push(
    `experiment checkout-upsell, planted: orders in "upsell" worth ${pct(outcome.planted_lift)}; ` +
      `exposed ${Object.entries(judgement.exposed)
        .map(([v, n]) => `${v} ${n}`)
        .join(', ')}; ` +
      `sample ratio ${judgement.sample_ratio_ok === false ? 'MISMATCH' : 'OK'}`,
  );
  const rows = [['metric', 'true lift', 'reported', '95% interval', 'covers', 'significant']];
  for (const m of judgement.metrics) {
    rows.push([
      `${m.metric}${m.adjustment === 'cuped' ? ' (CUPED)' : ''}`,
      pct(m.true_lift),
      pct(m.rel_lift),
      interval(m.ci),
      m.covered === null ? '–' : m.covered ? 'yes' : 'NO',
      m.significant === null ? '–' : m.significant ? 'yes' : 'no',
    ]);
  }
  out.push(...formatTable(rows));
  out.push('');
  out.push(
    `personalization vs the global holdout (popularity): exposed ` +
      Object.entries(judgement.holdout.exposed)
        .map(([v, n]) => `${v} ${n}`)
        .join(', '),
  );
  const holdoutRows = [['metric', 'lift', '95% interval', 'significant']];
  for (const m of judgement.holdout.metrics) {
    holdoutRows.push([
      m.metric,
      pct(m.rel_lift),
      interval(m.ci),
      m.significant === null ? '–' : m.significant ? 'yes' : 'no',
    ]);
  }
  out.push(...formatTable(holdoutRows));
  out.push(
    '',
    `took ${outcome.seconds.setup} s to set up, ${outcome.seconds.traffic} s of traffic, ${outcome.seconds.reports} s for the reports`,
  );
  return `${out.join('\n')}\n`;
}
