import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoShop, POINT_ACTIONS, ROLES, type DemoPoint, type PricedItem } from '../../demo/index.js';
import {
  ApiClient,
  DEFAULT_DECISION_LEARNERS,
  driveDecisions,
  SimulatedClock,
  type DecisionDriveOutcome,
  type LearnerBody,
} from '../../simulate/index.js';
import { openSimulatedEngine } from '../simulated-engine.js';
import { formatTable } from '../table.js';

export interface SimulateDecisionsOptions {
  /** An empty store; default a temporary one. */
  readonly dataDir: string | undefined;
  /** Seed of the users' roles, first events and outcomes. */
  readonly seed: number;
  /** New users, one decision each at each point. */
  readonly users: number;
  /** Decisions per reported window. */
  readonly window: number;
  /** Users arriving per two simulated minutes. */
  readonly batch: number;
  readonly concurrency: number;
  /** The global holdout's share (it gets the default action); default 0, so every decision is the learner's. */
  readonly holdout: number | undefined;
  readonly json: boolean;
  /** The points' learners (default `DEFAULT_DECISION_LEARNERS`). */
  readonly learners?: Readonly<Record<DemoPoint, LearnerBody>>;
}

export interface DecisionSimulationOutcome extends DecisionDriveOutcome {
  readonly seed: number;
  readonly learners: Readonly<Record<DemoPoint, LearnerBody>>;
  readonly seconds: number;
}

/** The demo catalog (the shop's default seed and size): what first sessions view, sorted by price. */
function demoCatalog(): PricedItem[] {
  const { items } = generateDemoShop({ users: 1, days: 1 });
  return items
    .filter((item) => item.price !== null && item.price > 0)
    .map((item) => ({ id: item.id, price: item.price! }))
    .sort((a, b) => a.price - b.price || (a.id < b.id ? -1 : 1));
}

/**
 * `attune simulate --scenario decisions`: the onboarding and offer decision points learning from new users
 * of the demo shop, through a real engine and its HTTP API on a loopback port and a simulated clock.
 */
export async function simulateDecisions(options: SimulateDecisionsOptions): Promise<void> {
  const temporary =
    options.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'attune-simulate-decisions-')) : null;
  try {
    const outcome = await runDecisionSimulation(options, options.dataDir ?? temporary!);
    process.stdout.write(options.json ? `${JSON.stringify(outcome)}\n` : formatDecisionOutcome(outcome));
  } finally {
    if (temporary !== null) rmSync(temporary, { recursive: true, force: true });
  }
}

export async function runDecisionSimulation(
  options: SimulateDecisionsOptions,
  dataDir: string,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<DecisionSimulationOutcome> {
  const started = performance.now();
  const learners = options.learners ?? DEFAULT_DECISION_LEARNERS;
  const catalog = demoCatalog();
  const clock = new SimulatedClock(Date.UTC(2026, 10, 2));
  const { engine, app } = await openSimulatedEngine(dataDir, clock, options.holdout ?? 0);
  try {
    if ((await engine.store.countEvents()) > 0 || engine.decisions.list().length > 0)
      throw new Error(
        `the store in ${dataDir} is not empty; the decisions scenario starts from an empty one`,
      );
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const api = new ApiClient(url);
    await api.post('/v1/items', {
      items: catalog.map((item) => ({ id: item.id, price: item.price })),
    });
    log(`simulating ${options.users} new users at the onboarding and offer decision points against ${url}…`);
    const outcome = await driveDecisions(
      {
        api,
        clock,
        seed: options.seed,
        users: options.users,
        window: options.window,
        batch: options.batch,
        concurrency: options.concurrency,
        catalog,
        onWindow: (point, w) =>
          log(
            `  ${point} ${w.from + w.decisions}: ${pct(w.ratio)} of optimal (uniform ${pct(w.uniform_ratio)})`,
          ),
      },
      learners,
    );
    return {
      seed: options.seed,
      learners,
      ...outcome,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    await app.close();
    await engine.close();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number) => x.toFixed(3);
const sum = (x: number) => x.toFixed(1);

export function formatDecisionOutcome(outcome: DecisionSimulationOutcome): string {
  const out: string[] = [];
  out.push(
    `${outcome.users} new users (seed ${outcome.seed}): ` +
      ROLES.map((role) => `${outcome.roles[role]} ${role}`).join(', ') +
      `; took ${outcome.seconds} s`,
  );
  for (const { point, windows, status } of outcome.points) {
    const learner = Object.entries(outcome.learners[point])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    out.push('', `${point} (${learner}): expected reward per decision, by window`);
    const rows = [
      [
        'decisions',
        'mean reward',
        'expected',
        'optimal',
        'uniform',
        'vs optimal',
        'uniform vs',
        'regret',
        'uniform regret',
      ],
    ];
    for (const w of windows) {
      rows.push([
        `${w.from + 1}–${w.from + w.decisions}`,
        num(w.mean_reward),
        num(w.expected),
        num(w.optimal),
        num(w.uniform),
        pct(w.ratio),
        pct(w.uniform_ratio),
        sum(w.regret),
        sum(w.uniform_regret),
      ]);
    }
    out.push(...formatTable(rows));
    const last = windows.at(-1);
    if (last !== undefined) {
      out.push(`  last window, share of each action by role:`);
      const actions = POINT_ACTIONS[point];
      const shareRows = [['role', ...actions]];
      for (const role of ROLES) shareRows.push([role, ...actions.map((a) => pct(last.shares[role][a] ?? 0))]);
      out.push(...formatTable(shareRows).map((line) => `  ${line}`));
    }
    out.push(
      `  engine: ${status.decisions} decisions, ${status.closed} closed, mean reward ` +
        `${status.mean_reward === null ? '–' : num(status.mean_reward)}, learner ${status.learner.kind} ` +
        `${status.learner.updates} updates (state saved ${status.learner.saved_version} times)`,
    );
  }
  return `${out.join('\n')}\n`;
}
