/**
 * Contextual-bandit learners (`src/decisions/learners/`) in a simulated decision point with a known
 * reward function, against the decisions issue's target: LinUCB or linear Thompson sampling reaches
 * ≥ 90% of the optimal policy's reward within 20,000 decisions, with lower cumulative regret than
 * epsilon-greedy.
 *
 * The environment (fixed before the first run; seeded per replication):
 * - 30 context features: x₀ = 1 (an intercept), x₁…x₂₉ ~ N(0, 1/29) (so ‖x₁…₂₉‖ ≈ 1);
 * - 20 actions, expected reward μ_a(x) = c_a + w_a·x₁…₂₉ with c_a ~ U(0.2, 0.4) and w_a ~ N(0, 0.15²·I):
 *   each action's reward varies with the context by about ±0.15 around its base, so which action is best
 *   depends on the context (reported: how many actions are optimal somewhere, and the most common one's
 *   share of contexts);
 * - observed reward μ_a(x) + N(0, 0.2²).
 * The optimal policy earns E max_a μ_a(x) ≈ 0.6 against ≈ 0.3 for a uniformly random one, so the 90%
 * target sits well above what no learning gives; the random policy's ratio is reported beside it.
 *
 * Per learner and replication: 20,000 decisions, each choose (with its propensities) then update with the
 * reward at once. Reported: cumulative (expected) regret Σ_t max_a μ_a(x_t) − μ_{a_t}(x_t); over the last
 * 2,000 decisions the mean expected reward of the chosen actions over that of the optimal actions on the
 * same contexts (the target ratio) and the share of optimal choices; seconds; µs per choose and per update
 * (median and p99 over the run, each call timed alone, timer included). Medians over 5 replications.
 *
 * Hyper-parameters (α, v, ε) come from `--tune`: a grid over 3 other seeds, the value with the lowest
 * median cumulative regret; the grid's results are printed by `--tune` and the values used are reported.
 * Learners use a disjoint layout (one ridge model per action over the 30 features; λ = 1); Thompson
 * sampling logs propensities from K = 100 draws. Greedy (ε = 0) runs as a reference, not a contender.
 *
 *   node --import tsx bench/bandits.ts          # the report: one JSON line
 *   node --import tsx bench/bandits.ts --tune   # the tuning grid: one JSON line
 *
 * stdout: one JSON line; progress on stderr. About 20 s for the report and 65 s for `--tune` on the
 * project's machine (2 cores, shared: per-call timings move with other load, which is why the load
 * average is reported).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { deriveSeed, Rng } from '../src/demo/index.js';
import { createLearner, type Learner, type LearnerOptions } from '../src/decisions/learners/index.js';

const BENCH = 'bandits';
const ACTIONS = 20;
const FEATURES = 30;
const DECISIONS = 20_000;
const TAIL = 2_000;
const NOISE = 0.2;
const BASE = [0.2, 0.4] as const;
const WEIGHT_SD = 0.15;
const TARGET_RATIO = 0.9;
const SAMPLES = 100;

/** Seeds fixed before the first run; tuning never sees the reported ones. */
const REPORTED_SEEDS = [1, 2, 3, 4, 5];
const TUNING_SEEDS = [101, 102, 103];

const GRID = {
  alpha: [0.05, 0.1, 0.2, 0.4, 0.8, 1.6],
  scale: [0.025, 0.05, 0.1, 0.2, 0.4],
  epsilon: [0.01, 0.02, 0.05, 0.1],
} as const;

/** The values `--tune` chose (lowest median regret on TUNING_SEEDS); the report uses these. */
const TUNED = { alpha: 0.8, scale: 0.1, epsilon: 0.05 } as const;

// ---------------------------------------------------------------------------------------------------------
// Environment

interface Environment {
  /** Context t at t·FEATURES. */
  contexts: Float64Array;
  /** μ_a(x_t) at t·ACTIONS + a. */
  means: Float64Array;
  /** The noise of the reward of each (t, a), drawn up front so every learner faces the same world. */
  noise: Float64Array;
  optimal: Float64Array;
  /** Mean over actions of μ_a(x_t): what a uniformly random policy earns. */
  uniform: Float64Array;
  /** How many contexts each action is optimal in: the optimum must depend on the context. */
  optimalCounts: number[];
}

function environment(seed: number): Environment {
  const rng = new Rng(deriveSeed(seed, 'world'));
  const weights = new Float64Array(ACTIONS * FEATURES);
  for (let a = 0; a < ACTIONS; a++) {
    weights[a * FEATURES] = rng.uniform(BASE[0], BASE[1]);
    for (let i = 1; i < FEATURES; i++) weights[a * FEATURES + i] = WEIGHT_SD * rng.normal();
  }
  const draws = new Rng(deriveSeed(seed, 'contexts'));
  const contexts = new Float64Array(DECISIONS * FEATURES);
  const means = new Float64Array(DECISIONS * ACTIONS);
  const noise = new Float64Array(DECISIONS * ACTIONS);
  const optimal = new Float64Array(DECISIONS);
  const uniform = new Float64Array(DECISIONS);
  const optimalCounts = new Array<number>(ACTIONS).fill(0);
  const spread = 1 / Math.sqrt(FEATURES - 1);
  for (let t = 0; t < DECISIONS; t++) {
    const x = t * FEATURES;
    contexts[x] = 1;
    for (let i = 1; i < FEATURES; i++) contexts[x + i] = spread * draws.normal();
    let best = -Infinity;
    let bestAction = 0;
    let total = 0;
    for (let a = 0; a < ACTIONS; a++) {
      let mu = 0;
      for (let i = 0; i < FEATURES; i++) mu += weights[a * FEATURES + i]! * contexts[x + i]!;
      means[t * ACTIONS + a] = mu;
      noise[t * ACTIONS + a] = NOISE * draws.normal();
      if (mu > best) {
        best = mu;
        bestAction = a;
      }
      total += mu;
    }
    optimalCounts[bestAction]!++;
    optimal[t] = best;
    uniform[t] = total / ACTIONS;
  }
  return { contexts, means, noise, optimal, uniform, optimalCounts };
}

// ---------------------------------------------------------------------------------------------------------
// One run

interface Run {
  regret: number;
  tailRatio: number;
  tailOptimalShare: number;
  seconds: number;
  chooseMicros: { median: number; p99: number };
  updateMicros: { median: number; p99: number };
  /** Largest |Σ propensities − 1| seen: they must sum to one on every decision. */
  propensityError: number;
  /** Smallest logged propensity of a chosen action. */
  minPropensity: number;
}

function run(world: Environment, learner: Learner): Run {
  const probabilities = new Float64Array(ACTIONS);
  const x = new Float64Array(FEATURES);
  const chooseTimes = new Float64Array(DECISIONS);
  const updateTimes = new Float64Array(DECISIONS);
  let regret = 0;
  let tailReward = 0;
  let tailOptimal = 0;
  let tailHits = 0;
  let propensityError = 0;
  let minPropensity = 1;
  const start = performance.now();
  for (let t = 0; t < DECISIONS; t++) {
    for (let i = 0; i < FEATURES; i++) x[i] = world.contexts[t * FEATURES + i]!;
    const t0 = performance.now();
    const action = learner.choose(x, probabilities);
    const t1 = performance.now();
    const mu = world.means[t * ACTIONS + action]!;
    learner.update(action, x, mu + world.noise[t * ACTIONS + action]!);
    const t2 = performance.now();
    chooseTimes[t] = (t1 - t0) * 1000;
    updateTimes[t] = (t2 - t1) * 1000;

    let sum = 0;
    for (let a = 0; a < ACTIONS; a++) sum += probabilities[a]!;
    propensityError = Math.max(propensityError, Math.abs(sum - 1));
    minPropensity = Math.min(minPropensity, probabilities[action]!);
    regret += world.optimal[t]! - mu;
    if (t >= DECISIONS - TAIL) {
      tailReward += mu;
      tailOptimal += world.optimal[t]!;
      if (mu === world.optimal[t]) tailHits++;
    }
  }
  return {
    regret,
    tailRatio: tailReward / tailOptimal,
    tailOptimalShare: tailHits / TAIL,
    seconds: (performance.now() - start) / 1000,
    chooseMicros: { median: quantile(chooseTimes, 0.5), p99: quantile(chooseTimes, 0.99) },
    updateMicros: { median: quantile(updateTimes, 0.5), p99: quantile(updateTimes, 0.99) },
    propensityError,
    minPropensity,
  };
}

function learnerOptions(
  kind: 'linucb' | 'thompson' | 'epsilon-greedy',
  value: number,
  seed: number,
): LearnerOptions {
  const common = { actions: ACTIONS, dimension: FEATURES, layout: 'disjoint' as const, seed };
  switch (kind) {
    case 'linucb':
      return { ...common, kind, alpha: value };
    case 'thompson':
      return { ...common, kind, scale: value, samples: SAMPLES };
    case 'epsilon-greedy':
      return { ...common, kind, epsilon: value };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tuning and report

function tune(): void {
  const worlds = TUNING_SEEDS.map((seed) => environment(seed));
  const results: Record<string, { value: number; median_regret: number; median_tail_ratio: number }[]> = {};
  const chosen: Record<string, number> = {};
  for (const [kind, param] of [
    ['linucb', 'alpha'],
    ['thompson', 'scale'],
    ['epsilon-greedy', 'epsilon'],
  ] as const) {
    const rows = GRID[param].map((value) => {
      const runs = worlds.map((world, i) =>
        run(world, createLearner(learnerOptions(kind, value, deriveSeed(TUNING_SEEDS[i]!, 'learner', kind)))),
      );
      progress(`tune ${kind} ${param}=${value}: regret ${round(median(runs.map((r) => r.regret)), 1)}`);
      return {
        value,
        median_regret: round(median(runs.map((r) => r.regret)), 1),
        median_tail_ratio: round(median(runs.map((r) => r.tailRatio))),
      };
    });
    results[param] = rows;
    chosen[param] = rows.reduce((best, row) => (row.median_regret < best.median_regret ? row : best)).value;
  }
  print({ mode: 'tune', seeds: TUNING_SEEDS, decisions: DECISIONS, grid: results, chosen });
}

function report(): void {
  const started = performance.now();
  const load = loadavg()[0]!;
  const contenders = [
    { name: 'linucb', kind: 'linucb', value: TUNED.alpha, param: 'alpha' },
    { name: 'thompson', kind: 'thompson', value: TUNED.scale, param: 'scale' },
    { name: 'epsilon-greedy', kind: 'epsilon-greedy', value: TUNED.epsilon, param: 'epsilon' },
    { name: 'greedy (reference)', kind: 'epsilon-greedy', value: 0, param: 'epsilon' },
  ] as const;
  const runs = new Map<string, Run[]>(contenders.map((c) => [c.name, []]));
  const randomRatios: number[] = [];
  const optimumSpread: { actions_ever_optimal: number; most_common_optimal_share: number }[] = [];
  for (const seed of REPORTED_SEEDS) {
    const world = environment(seed);
    let tailUniform = 0;
    let tailOptimal = 0;
    for (let t = DECISIONS - TAIL; t < DECISIONS; t++) {
      tailUniform += world.uniform[t]!;
      tailOptimal += world.optimal[t]!;
    }
    randomRatios.push(tailUniform / tailOptimal);
    optimumSpread.push({
      actions_ever_optimal: world.optimalCounts.filter((count) => count > 0).length,
      most_common_optimal_share: round(Math.max(...world.optimalCounts) / DECISIONS),
    });
    for (const c of contenders) {
      const learner = createLearner(learnerOptions(c.kind, c.value, deriveSeed(seed, 'learner', c.kind)));
      const result = run(world, learner);
      runs.get(c.name)!.push(result);
      progress(
        `seed ${seed} ${c.name}: regret ${round(result.regret, 1)}, tail ratio ${round(result.tailRatio)}`,
      );
    }
  }
  const summary = contenders.map((c) => {
    const rs = runs.get(c.name)!;
    return {
      learner: c.name,
      [c.param]: c.value,
      cumulative_regret_median: round(median(rs.map((r) => r.regret)), 1),
      cumulative_regret_by_seed: rs.map((r) => round(r.regret, 1)),
      tail_ratio_median: round(median(rs.map((r) => r.tailRatio))),
      tail_ratio_by_seed: rs.map((r) => round(r.tailRatio)),
      tail_optimal_share_median: round(median(rs.map((r) => r.tailOptimalShare))),
      seconds_median: round(median(rs.map((r) => r.seconds)), 2),
      choose_us_median: round(median(rs.map((r) => r.chooseMicros.median)), 2),
      choose_us_p99: round(median(rs.map((r) => r.chooseMicros.p99)), 2),
      update_us_median: round(median(rs.map((r) => r.updateMicros.median)), 2),
      update_us_p99: round(median(rs.map((r) => r.updateMicros.p99)), 2),
      max_propensity_sum_error: Math.max(...rs.map((r) => r.propensityError)),
      min_logged_propensity: Math.min(...rs.map((r) => r.minPropensity)),
    };
  });
  const regretOf = (name: string): number =>
    summary.find((s) => s.learner === name)!.cumulative_regret_median;
  const epsilonRegret = regretOf('epsilon-greedy');
  const meets = (name: string): boolean => {
    const s = summary.find((row) => row.learner === name)!;
    return s.tail_ratio_median >= TARGET_RATIO && s.cumulative_regret_median < epsilonRegret;
  };
  print({
    mode: 'report',
    environment: {
      actions: ACTIONS,
      features: FEATURES,
      decisions: DECISIONS,
      tail: TAIL,
      reward: `c_a + w_a·x + N(0, ${NOISE}²), c_a ~ U(${BASE[0]}, ${BASE[1]}), w_a ~ N(0, ${WEIGHT_SD}²·I)`,
      layout: 'disjoint',
      ridge: 1,
      thompson_samples: SAMPLES,
    },
    reported_seeds: REPORTED_SEEDS,
    tuning: { seeds: TUNING_SEEDS, grid: GRID, chosen: TUNED, criterion: 'lowest median cumulative regret' },
    random_policy_tail_ratio_median: round(median(randomRatios)),
    optimal_action_spread_by_seed: optimumSpread,
    learners: summary,
    target: `tail_ratio_median >= ${TARGET_RATIO} and cumulative regret below epsilon-greedy's, for linucb or thompson`,
    linucb_ok: meets('linucb'),
    thompson_ok: meets('thompson'),
    ok: meets('linucb') || meets('thompson'),
    load_average_1m: round(load, 2),
    seconds: round((performance.now() - started) / 1000, 1),
  });
}

// ---------------------------------------------------------------------------------------------------------

function quantile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (value: number, digits = 4): number => Number(value.toFixed(digits));

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: BENCH, ...line })}\n`);
}

function progress(message: string): void {
  process.stderr.write(`[${BENCH}] ${message}\n`);
}

if (process.argv.includes('--tune')) tune();
else report();
