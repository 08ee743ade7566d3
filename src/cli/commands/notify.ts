import { basename, dirname } from 'node:path';
import { runTimingEvaluation, timestampsByUser, type TimingReport } from '../../decisions/notify/index.js';
import { readInteractions, type DatasetFormat } from '../../evaluation/index.js';

export interface NotifyEvaluateOptions {
  readonly input: string;
  readonly format: DatasetFormat;
  readonly json: boolean;
}

/** What `attune notify evaluate --json` prints. */
export interface NotifyEvaluateJson {
  readonly dataset: string;
  readonly users: number;
  readonly users_judged: number;
  readonly hit_rate: number;
  /** Baseline: the population's top 3 hours by plain counts. */
  readonly population_hit_rate: number;
  readonly ratio: number | null;
  /** A stronger baseline: the population's top 3 spread as the model spreads it. */
  readonly spread_population_hit_rate: number;
  readonly prior_strength: number;
  readonly smoothing: number;
  readonly half_life_days: number | null;
  readonly day_pooling: number;
  readonly chosen_by: string;
}

export function reportJson(dataset: string, report: TimingReport): NotifyEvaluateJson {
  const { test, choice } = report;
  return {
    dataset,
    users: test.users,
    users_judged: test.judged,
    hit_rate: test.hitRate,
    population_hit_rate: test.populationHitRate,
    ratio: test.ratio,
    spread_population_hit_rate: test.spreadPopulationHitRate,
    prior_strength: choice.params.priorStrength,
    smoothing: choice.params.smoothing,
    half_life_days: choice.params.halfLifeDays,
    day_pooling: choice.params.dayPooling,
    chosen_by: choice.how,
  };
}

/**
 * Replays a log under the notification-timing protocol (`decisions/notify/evaluate.ts`): each user's
 * next activity after their last event − 7 days, judged against the top 3 hours of week (UTC) from their
 * history, and against the population's top 3.
 */
export async function notifyEvaluate(options: NotifyEvaluateOptions): Promise<void> {
  const users = await timestampsByUser(readInteractions(options.input, options.format));
  const name = options.format === 'ml100k' ? basename(dirname(options.input)) : basename(options.input);
  const json = reportJson(name, runTimingEvaluation(users));
  if (options.json) {
    process.stdout.write(`${JSON.stringify(json)}\n`);
    return;
  }
  const pct = (value: number) => `${(100 * value).toFixed(1)}%`;
  process.stdout.write(
    [
      `notification timing on ${name}: ${json.users_judged} of ${json.users} users judged (a history before their last week)`,
      `  top-3 hit rate, user model   ${pct(json.hit_rate)}`,
      `  top-3 hit rate, population   ${pct(json.population_hit_rate)}`,
      `  ratio                        ${json.ratio === null ? 'n/a' : json.ratio.toFixed(2)}`,
      `  top-3 hit rate, population spread as the model spreads it   ${pct(json.spread_population_hit_rate)}`,
      `  prior strength ${json.prior_strength}, smoothing ${json.smoothing}, half-life ${json.half_life_days ?? 'none'}, day pooling ${json.day_pooling}`,
      `  chosen by ${json.chosen_by}`,
      '',
    ].join('\n'),
  );
}
