/**
 * Coverage of the off-policy estimators (`src/decisions/ope/`), against the target of the decisions issue:
 * estimates of three candidate policies from 50,000 logged uniform-random decisions must cover the true
 * values with their 95% intervals in 93–97% of 200 repetitions, for IPS, SNIPS and DR alike, and DR's
 * interval must be the narrowest.
 *
 * The simulated environment: 10 actions; a context of 10 features, eight ±1 coins, one count in {0, 1, 2,
 * 3} and one text column in {a, b, c, d}, all uniform and independent, so there are 4,096 equally likely
 * contexts; the reward is Bernoulli with a logistic probability whose weights differ per action, so the
 * best action depends on the context (and the estimators' linear reward model is misspecified, as real
 * ones are). True values are exact: the mean over the 4,096 contexts of Σₐ π(a|x)·P(reward | x, a).
 *
 * The candidates: `fixed`, one distribution favouring the actions best on average (the policy-file path,
 * `evaluatePolicySpec`); `greedy`, the argmax of a noisy copy of the true logits (deterministic, so its
 * weights are 0 or 10); `softmax`, a softmax of the same noisy logits at temperature 0.5. The environment,
 * the candidates and the seed were fixed before the first run; nothing was tuned on coverage.
 *
 *   node --import tsx bench/ope.ts [--repetitions 200] [--rows 50000] [--workers 2]
 *
 * stdout: one JSON line; progress on stderr. Repetitions are split over worker threads, one per core.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  evaluateDistributions,
  evaluatePolicySpec,
  prepareDecisionLog,
  type DecisionLog,
  type Estimate,
  type OffPolicyEvaluation,
} from '../src/decisions/index.js';
import { deriveSeed, Rng } from '../src/demo/index.js';
import { normalCriticalValue } from '../src/experiments/stats/index.js';
import { startWorker } from '../src/shared/worker.js';

const BENCH = 'ope';
/** The one seed every stream derives from; chosen before the first run and never changed to pass. */
const SEED = 20_261_203;
const ACTIONS = 10;
const COINS = 8;
const COUNT_LEVELS = 4;
const TEXT_LEVELS = ['a', 'b', 'c', 'd'] as const;
const FEATURES = COINS + 2;
const CONTEXTS = 2 ** COINS * COUNT_LEVELS * TEXT_LEVELS.length;
const TARGET = [0.93, 0.97] as const;
const ESTIMATORS = ['ips', 'snips', 'dr'] as const;
const POLICIES = ['fixed', 'greedy', 'softmax'] as const;
type EstimatorName = (typeof ESTIMATORS)[number];
type PolicyName = (typeof POLICIES)[number];

// ---------------------------------------------------------------------------------------------------------
// The environment

interface Weights {
  readonly intercept: Float64Array; // per action
  readonly coins: Float64Array; // action × COINS
  readonly count: Float64Array; // per action, on (count − 1.5) / 1.118
  readonly text: Float64Array; // action × text level
}

function drawWeights(rng: Rng, interceptMean: number, spread: number): Weights {
  const normals = (n: number, mean: number) =>
    Float64Array.from({ length: n }, () => mean + spread * rng.normal());
  return {
    intercept: normals(ACTIONS, interceptMean),
    coins: normals(ACTIONS * COINS, 0),
    count: normals(ACTIONS, 0),
    text: normals(ACTIONS * TEXT_LEVELS.length, 0),
  };
}

/** Adds N(0, noise²) to every weight: the candidates' imperfect model of the environment. */
function perturb(weights: Weights, rng: Rng, noise: number): Weights {
  const jitter = (array: Float64Array) => array.map((w) => w + noise * rng.normal());
  return {
    intercept: jitter(weights.intercept),
    coins: jitter(weights.coins),
    count: jitter(weights.count),
    text: jitter(weights.text),
  };
}

/** A context: the coins (±1), the count and the text level's index. */
interface Context {
  readonly coins: Float64Array;
  count: number;
  text: number;
}

function logits(weights: Weights, x: Context, out: Float64Array): Float64Array {
  const count = (x.count - 1.5) / Math.sqrt(1.25);
  for (let a = 0; a < ACTIONS; a++) {
    let z =
      weights.intercept[a]! + weights.count[a]! * count + weights.text[a * TEXT_LEVELS.length + x.text]!;
    for (let j = 0; j < COINS; j++) z += weights.coins[a * COINS + j]! * x.coins[j]!;
    out[a] = z;
  }
  return out;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

interface Environment {
  readonly truth: Weights;
  readonly model: Weights;
  /** The fixed candidate's distribution. */
  readonly fixed: Float64Array;
}

function environment(): Environment {
  const truth = drawWeights(new Rng(deriveSeed(SEED, 'truth')), -1.2, 0.35);
  const model = perturb(truth, new Rng(deriveSeed(SEED, 'model')), 0.15);
  // The fixed candidate: 0.4, 0.25, 0.15 on the three actions best on average, the rest spread evenly.
  const average = new Float64Array(ACTIONS);
  forEachContext((x) => {
    const z = logits(truth, x, new Float64Array(ACTIONS));
    for (let a = 0; a < ACTIONS; a++) average[a]! += sigmoid(z[a]!) / CONTEXTS;
  });
  const ranked = [...average.keys()].sort((a, b) => average[b]! - average[a]!);
  const fixed = new Float64Array(ACTIONS).fill(0.2 / (ACTIONS - 3));
  [0.4, 0.25, 0.15].forEach((p, k) => (fixed[ranked[k]!] = p));
  return { truth, model, fixed };
}

function forEachContext(visit: (x: Context) => void): void {
  const x: Context = { coins: new Float64Array(COINS), count: 0, text: 0 };
  for (let c = 0; c < CONTEXTS; c++) {
    let rest = c;
    for (let j = 0; j < COINS; j++) {
      x.coins[j] = rest % 2 === 0 ? -1 : 1;
      rest = Math.floor(rest / 2);
    }
    x.count = rest % COUNT_LEVELS;
    x.text = Math.floor(rest / COUNT_LEVELS);
    visit(x);
  }
}

/** A candidate's distribution at a context, written into `out`. */
function candidate(
  env: Environment,
  policy: PolicyName,
  x: Context,
  scratch: Float64Array,
  out: Float64Array,
): void {
  if (policy === 'fixed') {
    out.set(env.fixed);
    return;
  }
  const z = logits(env.model, x, scratch);
  if (policy === 'greedy') {
    let best = 0;
    for (let a = 1; a < ACTIONS; a++) if (z[a]! > z[best]!) best = a;
    out.fill(0);
    out[best] = 1;
    return;
  }
  let max = -Infinity;
  for (let a = 0; a < ACTIONS; a++) max = Math.max(max, z[a]!);
  let sum = 0;
  for (let a = 0; a < ACTIONS; a++) sum += out[a] = Math.exp((z[a]! - max) / 0.5);
  for (let a = 0; a < ACTIONS; a++) out[a]! /= sum;
}

/** Exact values: every context is equally likely. */
function trueValues(env: Environment): Record<PolicyName, number> {
  const values = { fixed: 0, greedy: 0, softmax: 0 };
  const z = new Float64Array(ACTIONS);
  const scratch = new Float64Array(ACTIONS);
  const pi = new Float64Array(ACTIONS);
  forEachContext((x) => {
    logits(env.truth, x, z);
    for (const policy of POLICIES) {
      candidate(env, policy, x, scratch, pi);
      let value = 0;
      for (let a = 0; a < ACTIONS; a++) value += pi[a]! * sigmoid(z[a]!);
      values[policy] += value / CONTEXTS;
    }
  });
  return values;
}

// ---------------------------------------------------------------------------------------------------------
// One repetition

interface Simulated {
  readonly log: DecisionLog;
  readonly coins: Float64Array[];
  readonly count: Float64Array;
  readonly text: Int32Array;
}

/** `rows` decisions of the uniform-random logging policy, in the columns the estimators read. */
function simulate(env: Environment, rows: number, rng: Rng): Simulated {
  const coins = Array.from({ length: COINS }, () => new Float64Array(rows));
  const count = new Float64Array(rows);
  const text = new Int32Array(rows);
  const action = new Int32Array(rows);
  const reward = new Float64Array(rows);
  const z = new Float64Array(ACTIONS);
  const x: Context = { coins: new Float64Array(COINS), count: 0, text: 0 };
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < COINS; j++) coins[j]![i] = x.coins[j] = rng.chance(0.5) ? 1 : -1;
    count[i] = x.count = rng.int(0, COUNT_LEVELS - 1);
    text[i] = x.text = rng.int(0, TEXT_LEVELS.length - 1);
    const a = rng.int(0, ACTIONS - 1);
    action[i] = a;
    reward[i] = rng.chance(sigmoid(logits(env.truth, x, z)[a]!)) ? 1 : 0;
  }
  const log: DecisionLog = {
    rows,
    actions: Array.from({ length: ACTIONS }, (_, a) => `a${a}`),
    action,
    reward,
    propensity: new Float64Array(rows).fill(1 / ACTIONS),
    positions: null,
    position: null,
    timestamp: null,
    context: [
      ...coins.map((values, j) => ({ kind: 'numeric' as const, name: `coin${j}`, values })),
      { kind: 'numeric', name: 'count', values: count },
      { kind: 'text', name: 'segment', codes: text, levels: TEXT_LEVELS },
    ],
    lines: null,
  };
  return { log, coins, count, text };
}

type Interval = [estimate: number, low: number, high: number];
type RepetitionResult = Record<PolicyName, Record<EstimatorName, Interval>>;

function repetition(env: Environment, rows: number, index: number): RepetitionResult {
  const sim = simulate(env, rows, new Rng(deriveSeed(SEED, 'repetition', index)));
  const prepared = prepareDecisionLog(sim.log, { seed: deriveSeed(SEED, 'folds', index) });
  const x: Context = { coins: new Float64Array(COINS), count: 0, text: 0 };
  const scratch = new Float64Array(ACTIONS);
  const result = {} as RepetitionResult;
  for (const policy of POLICIES) {
    const evaluation: OffPolicyEvaluation =
      policy === 'fixed'
        ? evaluatePolicySpec(prepared, {
            type: 'fixed',
            by: null,
            probabilities: new Map([...env.fixed].map((p, a) => [`a${a}`, p])),
          })
        : evaluateDistributions(prepared, (row, out) => {
            for (let j = 0; j < COINS; j++) x.coins[j] = sim.coins[j]![row]!;
            x.count = sim.count[row]!;
            x.text = sim.text[row]!;
            candidate(env, policy, x, scratch, out);
          });
    const interval = (e: Estimate): Interval => [e.estimate, e.ciLow, e.ciHigh];
    result[policy] = {
      ips: interval(evaluation.estimators.ips),
      snips: interval(evaluation.estimators.snips),
      dr: interval(evaluation.estimators.dr),
    };
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Threads and the report

interface Job {
  readonly rows: number;
  readonly repetitions: readonly number[];
}

const round = (value: number, digits = 4): number => Number(value.toFixed(digits));

/** Wilson score interval of a proportion. */
function wilson(successes: number, trials: number): [number, number] {
  const z = normalCriticalValue(0.95);
  const p = successes / trials;
  const z2 = (z * z) / trials;
  const center = (p + z2 / 2) / (1 + z2);
  const half = (z / (1 + z2)) * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials));
  return [round(center - half), round(center + half)];
}

function option(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`${name} must be a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const repetitions = option(args, '--repetitions', 200);
  const rows = option(args, '--rows', 50_000);
  const workers = option(args, '--workers', 2);
  const started = performance.now();
  const env = environment();
  const truth = trueValues(env);

  const results: RepetitionResult[] = [];
  await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const job: Job = { rows, repetitions: [...Array(repetitions).keys()].filter((r) => r % workers === w) };
      return new Promise<void>((resolve, reject) => {
        const worker = startWorker(import.meta.url, './ope.js', { workerData: job });
        worker.on('message', (message: RepetitionResult) => {
          results.push(message);
          if (results.length % 20 === 0) process.stderr.write(`${BENCH}: ${results.length}/${repetitions}\n`);
        });
        worker.on('error', reject);
        worker.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`)),
        );
      });
    }),
  );

  const n = results.length;
  const policies = {} as Record<PolicyName, Record<string, unknown>>;
  const widths = { ips: 0, snips: 0, dr: 0 };
  const covered = { ips: 0, snips: 0, dr: 0 };
  let inBand = true;
  for (const policy of POLICIES) {
    const row: Record<string, unknown> = { true_value: round(truth[policy], 6) };
    for (const estimator of ESTIMATORS) {
      let hits = 0;
      let width = 0;
      let sum = 0;
      for (const result of results) {
        const [estimate, low, high] = result[policy][estimator];
        if (low <= truth[policy] && truth[policy] <= high) hits++;
        width += high - low;
        sum += estimate;
      }
      const coverage = hits / n;
      inBand &&= coverage >= TARGET[0] && coverage <= TARGET[1];
      covered[estimator] += hits;
      widths[estimator] += width / n / POLICIES.length;
      row[estimator] = {
        coverage: round(coverage, 3),
        coverage_wilson: wilson(hits, n),
        mean_ci_width: round(width / n, 5),
        bias: round(sum / n - truth[policy], 5),
      };
    }
    policies[policy] = row;
  }
  const narrowest = ESTIMATORS.reduce((best, e) => (widths[e] < widths[best] ? e : best));
  const line = {
    bench: BENCH,
    repetitions: n,
    rows,
    actions: ACTIONS,
    features: FEATURES,
    policies,
    coverage: Object.fromEntries(ESTIMATORS.map((e) => [e, round(covered[e] / (n * POLICIES.length), 4)])),
    mean_ci_width: Object.fromEntries(ESTIMATORS.map((e) => [e, round(widths[e], 5)])),
    narrowest,
    target: { coverage: TARGET, every_cell_in_band: inBand, dr_narrowest: narrowest === 'dr' },
    workers,
    seconds: round((performance.now() - started) / 1000, 1),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

if (isMainThread) {
  await main();
} else {
  const job = workerData as Job;
  const env = environment();
  for (const index of job.repetitions) parentPort!.postMessage(repetition(env, job.rows, index));
}
