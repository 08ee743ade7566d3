/**
 * Decision points over HTTP, against the decisions issue's target: "Decide p99 ≤ 5 ms at 1,000 requests/s
 * with 20 actions and 30 features, rewards arriving at the same rate."
 *
 * Setup, per learner (LinUCB, then linear Thompson sampling as a second variant): `attune serve` in its own
 * process on a fresh store (`server.ts`), and one decision point created through `POST /v1/decision-points`:
 * 20 actions (`a00`…`a19`), 29 numeric context features `x0`…`x28` (with the encoder's constant, a row of
 * 30), the disjoint layout, an explicit reward with a 10-minute window, and the learner's hyper-parameters
 * as `bench/bandits.ts` tuned them (LinUCB α = 0.8, Thompson v = 0.1 with K = 100 draws), with a 5% floor
 * of uniform exploration, as a point logged for later evaluation would have.
 *
 * The world is `bench/bandits.ts`'s (seed 1): expected reward μ_a(x) = c_a + w_a·x with c_a ~ U(0.2, 0.4),
 * w_a ~ N(0, 0.15²·I), x ~ N(0, I/29) (sent rounded to 4 decimals, and μ computed from what was sent);
 * the reward posted is μ_a(x) + N(0, 0.2²) for the action the server chose. So the learner learns something
 * real while it is timed, and each run reports how close its choices came to the best action's (`learning`).
 *
 * Load, open loop (as `load.ts`, whose GET-only generator this extends to two POST streams): decisions are
 * due at a fixed 1,000/s whatever the server does (`POST /v1/decisions/bench`, a user drawn from a pool of
 * 10,000, a fresh context); each decision that succeeds makes its reward due 50–200 ms (uniform) after its
 * reply (`POST /v1/decisions/bench/reward`), so rewards arrive at the same rate. Every latency counts from
 * when its request was due, not when it was sent (no coordinated omission), decide and reward apart; any
 * reply but 200 is an error, counted by status. Decisions are serialised to request bytes before the clock
 * starts and sent through `raw-http.ts`'s lean client, the generator's share of a core kept small. A 5 s
 * warm-up at the same load precedes the runs (reported as `warmup`); then `RUNS` runs of 20 s, the two
 * learners' servers alternating run by run so that both meet the same machine (see `serve.ts`). After each
 * run: the server's RSS, the CPU the hypervisor stole during the run, the server's CPU time per decision
 * (its reward included) and the generator's share of a core (other load moves these less than latency), and
 * the point's status (the learner's updates must equal the rewards recorded: every reward is learned at
 * once). A request is sent once it is due, never before (`load.ts` may send one an interval early).
 * After the learners in each turn, the floor (`floor-server.ts`: a bare `node:http` server answering with
 * recorded replies) takes the same load: what the machine and the generator cost without Attune. While one
 * server is measured, the others are stopped (SIGSTOP: `measuredAlone` in `server.ts`).
 *
 *   npm run bench -- decide
 *   ATTUNE_BENCH_DECIDE_SECONDS=3 ATTUNE_BENCH_DECIDE_RUNS=1 ATTUNE_BENCH_DECIDE_WARMUP=1 \
 *     node --import tsx bench/decide.ts          # a smoke run (flagged "smoke": true in the output)
 *
 * A third variant, `linucb-pretenuring`, is LinUCB again on a server with V8's allocation-site pretenuring
 * left on (V8's default, which `attune` turns off: `src/cli/v8-flags.ts`; `VARIANTS`).
 * A fourth, `linucb-postgres`, is LinUCB on PostgreSQL + Redis (`DATABASE_URL`, `REDIS_URL`: `services.ts`,
 * a schema and key prefix of its own): the decision log and the learner's state in PostgreSQL.
 * `ATTUNE_BENCH_DECIDE_LEARNERS=linucb` measures one variant only. Prints one JSON object.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { deriveSeed, Rng } from '../src/demo/index.js';
import { cpuTicks, LEAD_SECONDS, stealPercent, type LeadResult, type LoadResult } from './load.js';
import {
  AUTH_HEADERS,
  benchFetch,
  measuredAlone,
  median,
  type RunningServer,
  startServer,
  tempDataDir,
} from './server.js';
import { startFloorServer } from './floor-server.js';
import { RawHttpPool } from './raw-http.js';
import { scrape } from './prometheus.js';
import { benchServiceEnv, dropBenchSchema } from './services.js';

const envNumber = (name: string, fallback: number): number => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!(n > 0)) throw new Error(`${name}: expected a positive number, got "${value}"`);
  return n;
};

const RATE = 1_000;
const SECONDS = envNumber('ATTUNE_BENCH_DECIDE_SECONDS', 20);
const RUNS = Math.round(envNumber('ATTUNE_BENCH_DECIDE_RUNS', 5));
const WARMUP_SECONDS = envNumber('ATTUNE_BENCH_DECIDE_WARMUP', 5);
const USERS = 10_000;
const ACTIONS = 20;
/** Context fields x0…x28; the encoder puts a constant first, so the learner's row has 30 numbers. */
const CONTEXT = 29;
const FEATURES = CONTEXT + 1;
const NOISE = 0.2;
const BASE = [0.2, 0.4] as const;
const WEIGHT_SD = 0.15;
const WORLD_SEED = 1;
const REWARD_DELAY_MS = [50, 200] as const;
const POINT = 'bench';
const MAX_SOCKETS = 64;
const TARGET_P99_MS = 5;

const LINUCB = { kind: 'linucb', alpha: 0.8, floor: 0.05 };
/**
 * The servers measured: a learner's definition, and the environment and node flags its server runs with.
 * `linucb-pretenuring` is LinUCB on a server that keeps V8's allocation-site pretenuring
 * (`ATTUNE_V8_PRETENURING=on`): measured beside the default, so the flag's effect is seen in the same turns.
 * (`--v8-pool-size=1`, one V8 worker thread, was measured here until 2026-12-06: docs/SCALING.md.)
 */
const VARIANTS: Readonly<
  Record<
    string,
    {
      readonly learner: Record<string, unknown>;
      readonly env: Record<string, string>;
      readonly nodeArgs: readonly string[];
      /** The store: the embedded one in a fresh data directory, or PostgreSQL + Redis in a fresh schema. */
      readonly store: 'embedded' | 'postgres';
    }
  >
> = {
  linucb: { learner: LINUCB, env: {}, nodeArgs: [], store: 'embedded' },
  thompson: {
    learner: { kind: 'thompson', scale: 0.1, floor: 0.05 },
    env: {},
    nodeArgs: [],
    store: 'embedded',
  },
  'linucb-pretenuring': {
    learner: LINUCB,
    env: { ATTUNE_V8_PRETENURING: 'on' },
    nodeArgs: [],
    store: 'embedded',
  },
  'linucb-postgres': { learner: LINUCB, env: {}, nodeArgs: [], store: 'postgres' },
};
const chosenLearners = (
  process.env['ATTUNE_BENCH_DECIDE_LEARNERS'] ?? 'linucb,thompson,linucb-pretenuring,linucb-postgres'
)
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
for (const name of chosenLearners) {
  if (VARIANTS[name] === undefined)
    throw new Error(`ATTUNE_BENCH_DECIDE_LEARNERS: unknown variant "${name}"`);
}

const actionId = (a: number): string => `a${String(a).padStart(2, '0')}`;
const actionIndex = new Map(Array.from({ length: ACTIONS }, (_, a) => [actionId(a), a]));

/** The bandits bench's world: per action, c_a then w_a (FEATURES numbers each). */
function worldWeights(): Float64Array {
  const rng = new Rng(deriveSeed(WORLD_SEED, 'world'));
  const weights = new Float64Array(ACTIONS * FEATURES);
  for (let a = 0; a < ACTIONS; a++) {
    weights[a * FEATURES] = rng.uniform(BASE[0], BASE[1]);
    for (let i = 1; i < FEATURES; i++) weights[a * FEATURES + i] = WEIGHT_SD * rng.normal();
  }
  return weights;
}
const WEIGHTS = worldWeights();

function definition(learner: Record<string, unknown>) {
  return {
    id: POINT,
    actions: Array.from({ length: ACTIONS }, (_, a) => ({ id: actionId(a) })),
    features: Array.from({ length: CONTEXT }, (_, i) => ({
      source: 'context',
      name: `x${i}`,
      type: 'number',
    })),
    layout: 'disjoint',
    learner,
    reward: { source: 'explicit', window: '10m' },
  };
}

/** One stream's latencies (from when each request was due) and outcomes. */
interface StreamResult extends LoadResult {
  /** Replies by status (`error`: no reply, the connection failed). */
  readonly statuses: Record<string, number>;
}

class Stream {
  private readonly latencies: Float64Array;
  private count = 0;
  ok = 0;
  sent = 0;
  readonly statuses: Record<string, number> = {};
  firstDue = Infinity;
  lastDone = -Infinity;

  constructor(capacity: number) {
    this.latencies = new Float64Array(capacity);
  }

  get done(): number {
    return this.count;
  }

  record(due: number, now: number, status: number | 'error'): void {
    this.latencies[this.count++] = now - due;
    if (due < this.firstDue) this.firstDue = due;
    if (now > this.lastDone) this.lastDone = now;
    const key = String(status);
    this.statuses[key] = (this.statuses[key] ?? 0) + 1;
    if (status === 200) this.ok++;
  }

  leadResult(): LeadResult {
    const { sent, failed, p99Ms, maxMs } = this.result();
    return { sent, failed, p99Ms, maxMs };
  }

  result(): StreamResult {
    const sorted = this.latencies.slice(0, this.count).sort();
    const at = (p: number): number =>
      sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
    const round = (ms: number): number => Math.round(ms * 1000) / 1000;
    const seconds = (this.lastDone - this.firstDue) / 1000;
    return {
      sent: this.sent,
      ok: this.ok,
      failed: this.sent - this.ok,
      achievedRate: this.count > 0 ? Math.round(this.count / seconds) : 0,
      p50Ms: round(at(50)),
      p90Ms: round(at(90)),
      p99Ms: round(at(99)),
      p999Ms: round(at(99.9)),
      maxMs: round(sorted[sorted.length - 1] ?? NaN),
      statuses: this.statuses,
    };
  }
}

/** How the chosen actions did against the best and a random choice on the same contexts. */
interface Learning {
  /** Mean μ of the chosen actions / mean μ of the best actions (the bandits bench's ratio). */
  readonly ratio: number;
  /** The same for a uniformly random choice: what no learning gets. */
  readonly uniformRatio: number;
  /** Share of decisions that chose a best action. */
  readonly optimalShare: number;
}

interface Phase {
  readonly decide: StreamResult;
  readonly reward: StreamResult;
  /** The lead-in before the measured seconds (`load.ts`'s `LEAD_SECONDS`), outside the percentiles above. */
  readonly lead: { readonly decide: LeadResult; readonly reward: LeadResult };
  readonly learning: Learning;
  readonly rssMb: number;
  /** The server's garbage-collection pauses per second of the phase, ms by kind (minor, major, …). */
  readonly gcMsPerSecond: Record<string, number>;
  /** The server's event-loop delay over the phase (ms): p50, p90, p99, max. */
  readonly loopDelayMs: Record<string, number>;
  /**
   * Shares of the phase's decide requests the server itself answered within 1, 2, 5 and 10 ms (its
   * request-duration histogram): what the server spends, apart from what the network and the machine add.
   */
  readonly serverTimeShares: Record<string, number>;
  readonly stealPct: number;
  /**
   * CPU time the server spent per decision (its reward's included), in µs, and its share of one core over
   * the phase: a figure other load on the machine moves much less than latency.
   */
  readonly serverCpuUsPerDecision: number;
  readonly serverCpuPct: number;
  /** The load generator's (this process's) share of one core: it must not be the bottleneck. */
  readonly clientCpuPct: number;
  /**
   * The load generator's own event-loop delay (ms, 1 ms resolution): p50, p99, max. A reply the generator
   * reads late counts as latency, so this bounds what the generator itself adds to the p99.
   */
  readonly clientLoopDelayMs: Record<string, number>;
  /** `GET /v1/decision-points/bench` after the phase: the point's counts and the learner's updates. */
  readonly status: PointCounts;
}

interface PointCounts {
  readonly decisions: number;
  readonly closed: number;
  readonly open: number;
  readonly learnerUpdates: number;
  readonly learnerSavedVersion: number;
}

/**
 * One phase of open-loop load: `leadSeconds` then `seconds` × RATE decisions, each successful one followed
 * by its reward; the lead-in's replies are counted apart (`load.ts` says why). Resolves when every decision
 * and every reward has its reply.
 */
async function drive(
  server: RunningServer,
  label: string,
  seconds: number,
  leadSeconds: number,
): Promise<Omit<Phase, 'rssMb' | 'status' | 'gcMsPerSecond' | 'loopDelayMs' | 'serverTimeShares'>> {
  const lead = Math.round(RATE * leadSeconds);
  const total = lead + Math.round(RATE * seconds);
  const intervalMs = 1000 / RATE;
  const rng = new Rng(deriveSeed(WORLD_SEED, 'load', label));
  // Everything a request needs is drawn and serialised before the clock starts.
  const contexts = new Float64Array(total * FEATURES);
  const noise = new Float64Array(total);
  const delays = new Float64Array(total);
  const decidePool = new RawHttpPool(server.url, MAX_SOCKETS, AUTH_HEADERS);
  const rewardPool = new RawHttpPool(server.url, MAX_SOCKETS, AUTH_HEADERS);
  const decidePath = `/v1/decisions/${POINT}`;
  const rewardPath = `/v1/decisions/${POINT}/reward`;
  const requests: Buffer[] = new Array<Buffer>(total);
  const spread = 1 / Math.sqrt(CONTEXT);
  for (let t = 0; t < total; t++) {
    const context: Record<string, number> = {};
    contexts[t * FEATURES] = 1;
    for (let i = 0; i < CONTEXT; i++) {
      const x = Math.round(spread * rng.normal() * 1e4) / 1e4;
      contexts[t * FEATURES + 1 + i] = x;
      context[`x${i}`] = x;
    }
    noise[t] = NOISE * rng.normal();
    delays[t] = REWARD_DELAY_MS[0] + (REWARD_DELAY_MS[1] - REWARD_DELAY_MS[0]) * rng.next();
    requests[t] = decidePool.prepare(
      'POST',
      decidePath,
      JSON.stringify({ user_id: `user-${rng.int(0, USERS - 1)}`, context }),
    );
  }
  const mu = (t: number, a: number): number => {
    let sum = 0;
    for (let i = 0; i < FEATURES; i++) sum += WEIGHTS[a * FEATURES + i]! * contexts[t * FEATURES + i]!;
    return sum;
  };

  const decide = new Stream(total - lead);
  const reward = new Stream(total - lead);
  const leadDecide = new Stream(lead);
  const leadReward = new Stream(lead);
  const decideStream = (t: number): Stream => (t < lead ? leadDecide : decide);
  const rewardStream = (t: number): Stream => (t < lead ? leadReward : reward);
  let decisionsFired = 0;
  const rewardDue = new Float64Array(total);
  const rewardRequest: Buffer[] = new Array<Buffer>(total);
  /** Rewards waiting to be due, by the millisecond (since the start) they fall due in. */
  const buckets: (number[] | undefined)[] = [];
  let rewardSlot = 0;
  let rewardsScheduled = 0;
  let chosenSum = 0;
  let bestSum = 0;
  let uniformSum = 0;
  let optimal = 0;
  let learned = 0;
  const before = cpuTicks();
  const serverBefore = processCpuMs(server);
  const clientBefore = process.cpuUsage();
  const clientLoop = monitorEventLoopDelay({ resolution: 1 });
  clientLoop.enable();
  const started = performance.now();

  await new Promise<void>((resolve) => {
    let finished = false;
    const check = (): void => {
      if (
        !finished &&
        decide.done + leadDecide.done === total &&
        reward.done + leadReward.done === rewardsScheduled
      ) {
        finished = true;
        resolve();
      }
    };
    const fireReward = (t: number): void => {
      const stream = rewardStream(t);
      stream.sent++;
      rewardPool.send(rewardRequest[t]!, (reply) => {
        stream.record(rewardDue[t]!, performance.now(), reply === 'error' ? 'error' : reply.status);
        check();
      });
    };
    const fireDecision = (t: number): void => {
      const due = started + t * intervalMs;
      const stream = decideStream(t);
      stream.sent++;
      decidePool.send(
        requests[t]!,
        (reply) => {
          const now = performance.now();
          stream.record(due, now, reply === 'error' ? 'error' : reply.status);
          if (reply !== 'error' && reply.status === 200) {
            const decision = JSON.parse(reply.body.toString()) as {
              decision_id: string;
              action: { id: string };
            };
            const a = actionIndex.get(decision.action.id);
            if (a !== undefined) {
              let best = -Infinity;
              let all = 0;
              for (let b = 0; b < ACTIONS; b++) {
                const m = mu(t, b);
                all += m;
                if (m > best) best = m;
              }
              const chosen = mu(t, a);
              chosenSum += chosen;
              bestSum += best;
              uniformSum += all / ACTIONS;
              if (chosen === best) optimal++;
              learned++;
              const value = Math.round((chosen + noise[t]!) * 1e6) / 1e6;
              rewardRequest[t] = rewardPool.prepare(
                'POST',
                rewardPath,
                JSON.stringify({ decision_id: decision.decision_id, value }),
              );
              rewardDue[t] = now + delays[t]!;
              const slot = Math.floor(rewardDue[t]! - started);
              (buckets[slot] ??= []).push(t);
              rewardsScheduled++;
            }
          }
          check();
        },
        true,
      );
    };
    const tick = (): void => {
      const now = performance.now();
      while (decisionsFired < total && started + decisionsFired * intervalMs <= now)
        fireDecision(decisionsFired++);
      const slot = Math.floor(now - started);
      for (; rewardSlot < slot; rewardSlot++) {
        for (const t of buckets[rewardSlot] ?? []) fireReward(t);
        buckets[rewardSlot] = undefined;
      }
      const current = buckets[slot];
      if (current !== undefined) {
        buckets[slot] = current.filter((t) => {
          if (rewardDue[t]! > now) return true;
          fireReward(t);
          return false;
        });
      }
      if (!finished) setTimeout(tick, 0);
    };
    tick();
  });
  const elapsedMs = performance.now() - started;
  const serverCpuMs = processCpuMs(server) - serverBefore;
  const client = process.cpuUsage(clientBefore);
  clientLoop.disable();
  const loopMs = (ns: number): number => Math.round(ns / 1e4) / 100;
  decidePool.destroy();
  rewardPool.destroy();
  const stealPct = stealPercent(before, cpuTicks());
  const round = (x: number): number => Math.round(x * 10_000) / 10_000;
  return {
    decide: decide.result(),
    reward: reward.result(),
    lead: { decide: leadDecide.leadResult(), reward: leadReward.leadResult() },
    learning: {
      ratio: round(chosenSum / bestSum),
      uniformRatio: round(uniformSum / bestSum),
      optimalShare: learned > 0 ? round(optimal / learned) : NaN,
    },
    stealPct,
    serverCpuUsPerDecision: Math.round((1000 * serverCpuMs) / total),
    serverCpuPct: Math.round((100 * serverCpuMs) / elapsedMs),
    clientCpuPct: Math.round((100 * (client.user + client.system)) / 1000 / elapsedMs),
    clientLoopDelayMs: {
      p50: loopMs(clientLoop.percentile(50)),
      p99: loopMs(clientLoop.percentile(99)),
      max: loopMs(clientLoop.max),
    },
  };
}

/** User + system CPU time of the server process so far, in ms (`/proc/<pid>/stat`, clock ticks of 10 ms). */
function processCpuMs(server: RunningServer): number {
  const stat = readFileSync(`/proc/${server.process.pid}/stat`, 'utf8');
  // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th of the line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function pointCounts(server: RunningServer): Promise<PointCounts> {
  const response = await benchFetch(`${server.url}/v1/decision-points/${POINT}`);
  if (!response.ok) throw new Error(`reading the point failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as {
    status: {
      decisions: number;
      closed: number;
      open: number;
      learner: { updates: number; saved_version: number };
    };
  };
  return {
    decisions: body.status.decisions,
    closed: body.status.closed,
    open: body.status.open,
    learnerUpdates: body.status.learner.updates,
    learnerSavedVersion: body.status.learner.saved_version,
  };
}

/** A learner's server, its point created on a fresh store, warmed up. */
interface Variant {
  readonly name: string;
  readonly server: RunningServer;
  readonly warmup: Phase;
  readonly runs: Phase[];
}

/** The server's garbage-collection time so far by kind (ms), from its Prometheus histogram. */
async function gcMs(server: RunningServer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { name, labels, value } of await scrape(server.url)) {
    if (name === 'attune_nodejs_gc_duration_seconds_sum') out[labels['kind']!] = value * 1000;
  }
  return out;
}

/** The server's event-loop delay (ms) since the last scrape: prom-client resets it on every scrape. */
async function loopDelayMs(server: RunningServer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { name, value } of await scrape(server.url)) {
    const at = /^attune_nodejs_eventloop_lag_(p50|p90|p99|max)_seconds$/.exec(name)?.[1];
    if (at !== undefined) out[at] = Math.round(value * 1e4) / 10;
  }
  return out;
}

/**
 * The server's own time for decide requests (from receiving to replying, its Prometheus histogram): the
 * cumulative count per bucket bound, so that a phase's share within 2 and 5 ms is after − before.
 */
async function serverBuckets(server: RunningServer): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const { name, labels, value } of await scrape(server.url)) {
    if (name !== 'attune_http_request_duration_seconds_bucket') continue;
    if (labels['method'] !== 'POST' || labels['route'] !== '/v1/decisions/:id') continue;
    if (labels['status'] !== '200') continue;
    out.set(labels['le'] ?? '', value);
  }
  return out;
}

function serverShares(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const delta = (le: string) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const total = delta('+Inf');
  const share = (le: string) => (total > 0 ? Math.round((delta(le) / total) * 1e4) / 1e4 : NaN);
  return {
    within_1ms: share('0.001'),
    within_2ms: share('0.002'),
    within_5ms: share('0.005'),
    within_10ms: share('0.01'),
  };
}

/** A phase with the server's own measures around it (they span the lead-in too). */
async function measured(
  server: RunningServer,
  label: string,
  seconds: number,
  leadSeconds = LEAD_SECONDS,
): Promise<Phase> {
  const bucketsBefore = await serverBuckets(server);
  const before = await gcMs(server);
  await loopDelayMs(server);
  const phase = await drive(server, label, seconds, leadSeconds);
  const loopDelay = await loopDelayMs(server);
  const serverTime = serverShares(bucketsBefore, await serverBuckets(server));
  const after = await gcMs(server);
  const gcMsPerSecond = Object.fromEntries(
    Object.entries(after).map(([kind, ms]) => [
      kind,
      Math.round(((ms - (before[kind] ?? 0)) / (leadSeconds + seconds)) * 10) / 10,
    ]),
  );
  return {
    ...phase,
    rssMb: Math.round(server.rssMb()),
    gcMsPerSecond,
    loopDelayMs: loopDelay,
    serverTimeShares: serverTime,
    status: await pointCounts(server),
  };
}

/** The PostgreSQL schemas the variants on PostgreSQL + Redis made, dropped when the bench ends. */
const schemas: string[] = [];

/** Where a variant's server keeps its data: a fresh directory, or a fresh schema and key prefix. */
function storeFor(name: string): { readonly dataDir: string; readonly env: Record<string, string> } {
  if (VARIANTS[name]!.store === 'embedded') return { dataDir: tempDataDir(`decide-${name}`), env: {} };
  const schema = `bench_decide_${process.pid}_${schemas.length}`;
  schemas.push(schema);
  return { dataDir: '/nonexistent', env: benchServiceEnv(schema) };
}

async function prepare(name: string): Promise<Variant> {
  const variant = VARIANTS[name]!;
  const { dataDir, env } = storeFor(name);
  const server = await startServer(dataDir, { ...variant.env, ...env }, variant.nodeArgs);
  try {
    const response = await benchFetch(`${server.url}/v1/decision-points`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(definition(VARIANTS[name]!.learner)),
    });
    if (response.status !== 201) {
      throw new Error(`creating the decision point failed: ${response.status} ${await response.text()}`);
    }
    process.stderr.write(`[decide] ${name}: warm-up ${WARMUP_SECONDS} s\n`);
    const warmup = await measured(server, `${name}-warmup`, WARMUP_SECONDS, 0);
    return { name, server, warmup, runs: [] };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

function mergeStatuses(parts: readonly StreamResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of parts) {
    for (const [status, count] of Object.entries(part.statuses)) out[status] = (out[status] ?? 0) + count;
  }
  return out;
}

/**
 * Each run's decide p99 less the floor's in the same turn (run i of each met the same weather), the median
 * over turns: the part of the p99 the engine adds to what the machine, the loopback and the generator
 * cost a bare server, each difference taken within one weather.
 */
function p99OverFloor(runs: readonly Phase[], floor: readonly FloorPhase[]): number {
  const paired = runs.flatMap((run, i) => {
    const beside = floor[i];
    return beside === undefined ? [] : [run.decide.p99Ms - beside.decide.p99Ms];
  });
  return paired.length === 0 ? Number.NaN : Math.round(median(paired) * 1000) / 1000;
}

function summary(variant: Variant, floor: readonly FloorPhase[]) {
  const runs = variant.runs;
  const phases = [variant.warmup, ...runs];
  const of = (stream: 'decide' | 'reward', key: keyof LoadResult): number =>
    median(runs.map((r) => r[stream][key]));
  const last = runs[runs.length - 1] ?? variant.warmup;
  const rewardsRecorded = sum(phases.map((p) => p.reward.ok + p.lead.reward.sent - p.lead.reward.failed));
  const decideP99 = of('decide', 'p99Ms');
  return {
    learner: variant.name,
    definition: VARIANTS[variant.name]!.learner,
    store: VARIANTS[variant.name]!.store,
    server_node_args: VARIANTS[variant.name]!.nodeArgs,
    median_decide_p99_ms: decideP99,
    median_decide_p50_ms: of('decide', 'p50Ms'),
    median_decide_p90_ms: of('decide', 'p90Ms'),
    median_decide_p999_ms: of('decide', 'p999Ms'),
    median_decide_max_ms: of('decide', 'maxMs'),
    median_decide_p99_over_floor_ms: p99OverFloor(runs, floor),
    // The server's own request durations (its histogram, over the lead-in and the run), apart from the
    // machine and the generator.
    median_server_within_5ms: median(runs.map((r) => r.serverTimeShares['within_5ms'] ?? Number.NaN)),
    median_reward_p99_ms: of('reward', 'p99Ms'),
    median_reward_p50_ms: of('reward', 'p50Ms'),
    median_reward_p90_ms: of('reward', 'p90Ms'),
    median_reward_max_ms: of('reward', 'maxMs'),
    median_decide_rate: of('decide', 'achievedRate'),
    median_reward_rate: of('reward', 'achievedRate'),
    decide_errors: sum(runs.map((r) => r.decide.failed)),
    reward_errors: sum(runs.map((r) => r.reward.failed)),
    decide_statuses: mergeStatuses(runs.map((r) => r.decide)),
    reward_statuses: mergeStatuses(runs.map((r) => r.reward)),
    median_rss_mb: median(runs.map((r) => r.rssMb)),
    final_rss_mb: last.rssMb,
    median_steal_pct: median(runs.map((r) => r.stealPct)),
    median_server_cpu_us_per_decision: median(runs.map((r) => r.serverCpuUsPerDecision)),
    median_server_cpu_pct: median(runs.map((r) => r.serverCpuPct)),
    median_client_cpu_pct: median(runs.map((r) => r.clientCpuPct)),
    median_learning_ratio: median(runs.map((r) => r.learning.ratio)),
    uniform_ratio: median(runs.map((r) => r.learning.uniformRatio)),
    // Warm-up and runs together: every reward answered 200 must have been learned.
    rewards_recorded: rewardsRecorded,
    decisions_sent: sum(phases.map((p) => p.decide.sent + p.lead.decide.sent)),
    final_status: last.status,
    updates_equal_rewards: last.status.learnerUpdates === rewardsRecorded,
    decide_p99_target_met: decideP99 <= TARGET_P99_MS,
    warmup: variant.warmup,
    runs,
  };
}

/**
 * The floor (`floor-server.ts`): a bare `node:http` server answering every decide and every reward with a
 * reply recorded from the first learner's server, driven by the same generator in the same turns. Its
 * latencies are what the machine, the loopback and the generator cost without Attune. The replies are
 * recorded on a point of their own (`bench-floor`, the same definition), so the measured point's counts
 * stay exactly the phases' own.
 */
async function startFloor(server: RunningServer, learner: Record<string, unknown>): Promise<RunningServer> {
  const point = `${POINT}-floor`;
  const reply = async (path: string, body: unknown, status: number): Promise<string> => {
    const response = await benchFetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== status) throw new Error(`recording ${path}: ${response.status} ${text}`);
    return text;
  };
  await reply('/v1/decision-points', { ...definition(learner), id: point }, 201);
  const context = Object.fromEntries(Array.from({ length: CONTEXT }, (_, i) => [`x${i}`, 0]));
  const decided = await reply(`/v1/decisions/${point}`, { user_id: 'user-0', context }, 200);
  const id = (JSON.parse(decided) as { decision_id: string }).decision_id;
  const rewarded = await reply(`/v1/decisions/${point}/reward`, { decision_id: id, value: 1 }, 200);
  // The reward's path first: the decide path is its prefix.
  return startFloorServer({
    [`/v1/decisions/${POINT}/reward`]: rewarded,
    [`/v1/decisions/${POINT}`]: decided,
  });
}

/** A phase on the floor: the generator's own measures only (the floor has no metrics to read). */
interface FloorPhase {
  readonly decide: StreamResult;
  readonly reward: StreamResult;
  readonly lead: Phase['lead'];
  readonly stealPct: number;
}

const variants: Variant[] = [];
let floor: RunningServer | null = null;
const floorRuns: FloorPhase[] = [];
try {
  for (const name of chosenLearners) variants.push(await prepare(name));
  floor = await startFloor(variants[0]!.server, VARIANTS[variants[0]!.name]!.learner);
  await drive(floor, 'floor-warmup', WARMUP_SECONDS, 0);
  // Run by run in turn (linucb, thompson, the floor, linucb, …): all meet the same weather.
  // Each measured alone: the others stopped meanwhile (`measuredAlone`).
  const servers = [...variants.map((variant) => variant.server), floor];
  const floorServer = floor;
  for (let i = 0; i < RUNS; i++) {
    for (const { name, server, runs } of variants) {
      process.stderr.write(`[decide] ${name}: run ${i + 1} of ${RUNS}, ${SECONDS} s\n`);
      runs.push(await measuredAlone(server, servers, () => measured(server, `${name}-run-${i}`, SECONDS)));
    }
    process.stderr.write(`[decide] floor: run ${i + 1} of ${RUNS}, ${SECONDS} s\n`);
    const { decide, reward, lead, stealPct } = await measuredAlone(floorServer, servers, () =>
      drive(floorServer, `floor-run-${i}`, SECONDS, LEAD_SECONDS),
    );
    floorRuns.push({ decide, reward, lead, stealPct });
  }
  console.log(
    JSON.stringify({
      bench: 'decide',
      smoke: SECONDS < 20 || RUNS < 3 || WARMUP_SECONDS < 5,
      target_rate: RATE,
      seconds_per_run: SECONDS,
      runs_per_learner: RUNS,
      warmup_seconds: WARMUP_SECONDS,
      users: USERS,
      actions: ACTIONS,
      features: FEATURES,
      context_fields: `x0…x${CONTEXT - 1} (numbers) after the constant`,
      reward_delay_ms: REWARD_DELAY_MS,
      world: `μ_a(x) = c_a + w_a·x, c_a ~ U(${BASE[0]}, ${BASE[1]}), w_a ~ N(0, ${WEIGHT_SD}²·I), x ~ N(0, I/${CONTEXT}); reward μ + N(0, ${NOISE}²); seed ${WORLD_SEED}`,
      learners: variants.map((variant) => summary(variant, floorRuns)),
      floor: {
        server: 'bare node:http, recorded replies (no engine)',
        median_decide_p99_ms: median(floorRuns.map((r) => r.decide.p99Ms)),
        median_decide_p50_ms: median(floorRuns.map((r) => r.decide.p50Ms)),
        median_reward_p99_ms: median(floorRuns.map((r) => r.reward.p99Ms)),
        runs: floorRuns,
      },
      targets: { decide_p99_ms: TARGET_P99_MS },
    }),
  );
} finally {
  for (const variant of variants) await variant.server.stop();
  await floor?.stop();
  for (const schema of schemas) await dropBenchSchema(schema);
}
