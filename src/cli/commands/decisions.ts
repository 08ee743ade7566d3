import {
  defaultCandidates,
  pointDecisionLog,
  type DecisionPoint,
  DecisionLogError,
  evaluatePolicySpec,
  parseDecisionLogCsv,
  parsePolicyJson,
  PolicySpecError,
  prepareDecisionLog,
  type Estimate,
  type OffPolicyEvaluation,
} from '../../decisions/index.js';
import { readFileSync } from 'node:fs';
import { openStore } from '../../store/index.js';
import { cliEngineConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { existingDataDir } from '../options.js';
import { readInputFile } from '../input-file.js';
import { formatTable } from '../table.js';

export interface DecisionsEvaluateOptions {
  /** A decision point of the engine, whose own log is evaluated. */
  readonly point?: string;
  /** The store holding the point (default: $ATTUNE_DATA_DIR or ./.attune). */
  readonly dataDir?: string;
  /** A CSV of decisions logged elsewhere. */
  readonly logs?: string;
  /** The candidate policy's JSON file. */
  readonly policy?: string;
  /** One JSON object on stdout instead of the table. */
  readonly json: boolean;
}

/** One estimator in the JSON output; undefined numbers (SNIPS over zero weight, n = 1) are null. */
export interface EstimateJson {
  readonly estimate: number | null;
  readonly ci_low: number | null;
  readonly ci_high: number | null;
  readonly ess: number;
  readonly standard_error: number | null;
}

/** What `attune decisions evaluate --json` prints. */
export interface DecisionsEvaluateJson {
  readonly rows: number;
  readonly logged_mean_reward: number;
  readonly estimators: {
    readonly ips: EstimateJson;
    readonly snips: EstimateJson;
    readonly dr: EstimateJson;
  };
  readonly policy: string;
  readonly warnings: readonly string[];
}

const finite = (value: number): number | null => (Number.isFinite(value) ? value : null);

function estimateJson(estimate: Estimate): EstimateJson {
  return {
    estimate: finite(estimate.estimate),
    ci_low: finite(estimate.ciLow),
    ci_high: finite(estimate.ciHigh),
    ess: estimate.ess,
    standard_error: finite(estimate.standardError),
  };
}

export function evaluationJson(evaluation: OffPolicyEvaluation, policy: string): DecisionsEvaluateJson {
  const { ips, snips, dr } = evaluation.estimators;
  return {
    rows: evaluation.rows,
    logged_mean_reward: evaluation.loggedMeanReward,
    estimators: { ips: estimateJson(ips), snips: estimateJson(snips), dr: estimateJson(dr) },
    policy,
    warnings: evaluation.warnings,
  };
}

const number = (value: number): string => (Number.isFinite(value) ? value.toFixed(4) : '—');

/** The table `attune decisions evaluate` prints without --json. */
export function formatEvaluation(evaluation: OffPolicyEvaluation, policy: string): string {
  const rows = [
    ['estimator', 'estimate', '95% interval', 'ess'],
    ...(['ips', 'snips', 'dr'] as const).map((name) => {
      const e = evaluation.estimators[name];
      return [
        name === 'dr' ? 'DR' : name.toUpperCase(),
        number(e.estimate),
        Number.isFinite(e.ciLow) ? `[${number(e.ciLow)}, ${number(e.ciHigh)}]` : '—',
        e.ess.toFixed(1),
      ];
    }),
  ];
  return [
    `policy ${policy} on ${evaluation.rows} logged decisions; logged mean reward ${number(evaluation.loggedMeanReward)}`,
    '',
    ...formatTable(rows),
    ...evaluation.warnings.map((warning) => `\nwarning: ${warning}`),
    '',
  ].join('\n');
}

/** Runs `work`, prefixing the file's name to what is wrong with its content. */
function naming<T>(path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof DecisionLogError || error instanceof PolicySpecError) {
      throw new Error(`${path}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * `attune decisions evaluate --logs FILE.csv --policy POLICY.json [--json]`: IPS, SNIPS and DR estimates of
 * the policy's value from the logged decisions (`src/decisions/ope`). A bad row fails the command with its
 * line: an estimate over silently dropped rows would be of another log.
 */
export async function decisionsEvaluate(options: DecisionsEvaluateOptions): Promise<void> {
  if (options.point !== undefined && options.logs !== undefined) {
    throw new UsageError('give a decision point or --logs FILE.csv, not both');
  }
  if (options.point !== undefined) return evaluatePoint(options.point, options);
  if (options.logs === undefined) {
    throw new UsageError(
      'give a decision point, or the logged decisions with --logs FILE.csv (and the candidate with --policy POLICY.json)',
    );
  }
  if (options.policy === undefined)
    throw new UsageError('--logs needs the candidate policy: --policy POLICY.json');
  const policyPath = options.policy;
  const logsPath = options.logs;
  const [policyText, logText] = await Promise.all([readInputFile(policyPath), readInputFile(logsPath)]);
  const spec = naming(policyPath, () => parsePolicyJson(policyText));
  const log = naming(logsPath, () => parseDecisionLogCsv(logText));
  const prepared = prepareDecisionLog(log);
  // A policy can be wrong only against this log (a position it lacks): that names the policy file.
  const evaluation = naming(policyPath, () => evaluatePolicySpec(prepared, spec));
  process.stdout.write(
    options.json
      ? `${JSON.stringify(evaluationJson(evaluation, spec.type))}\n`
      : formatEvaluation(evaluation, spec.type),
  );
}

/**
 * `attune decisions evaluate POINT [--policy POLICY.json]`: the same estimates from the engine's own log
 * of the point's closed decisions; without a policy file, of the default action, uniform choice and the
 * point's learner replayed.
 */
async function evaluatePoint(id: string, options: DecisionsEvaluateOptions): Promise<void> {
  const store = await openStore(cliEngineConfig(existingDataDir(options.dataDir)).storeUrl, {
    readonly: true,
  });
  try {
    const stored = await store.getDecisionPoint(id);
    if (stored === null) throw new Error(`no decision point "${id}" in this store`);
    const point = stored.body as unknown as DecisionPoint;
    const candidates =
      options.policy === undefined
        ? defaultCandidates(point)
        : [
            {
              name: '',
              spec: naming(options.policy, () => parsePolicyJson(readFileSync(options.policy!, 'utf8'))),
            },
          ].map((c) => ({ ...c, name: c.spec.type }));
    const { log, skipped } = await pointDecisionLog(store, point);
    const prepared = prepareDecisionLog(log);
    const results = candidates.map((candidate) => ({
      name: candidate.name,
      evaluation: evaluatePolicySpec(prepared, candidate.spec),
    }));
    if (options.json) {
      const policies = results.map((r) => evaluationJson(r.evaluation, r.name));
      const body =
        options.policy === undefined
          ? { point: id, skipped, policies }
          : { point: id, skipped, ...policies[0] };
      process.stdout.write(`${JSON.stringify(body)}\n`);
      return;
    }
    const note = skipped > 0 ? ` (${skipped} decisions made under an earlier feature row left out)` : '';
    process.stdout.write(`decision point ${id}: ${log.rows} closed decisions${note}\n\n`);
    for (const r of results) process.stdout.write(`${formatEvaluation(r.evaluation, r.name)}\n`);
  } finally {
    await store.close();
  }
}
