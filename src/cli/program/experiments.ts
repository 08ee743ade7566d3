import { Option, type Command } from 'commander';
import type { DatasetFormat } from '../../evaluation/index.js';
import { decisionsEvaluate } from '../commands/decisions.js';
import { listExperiments, reportExperiment } from '../commands/experiments.js';
import { notifyEvaluate } from '../commands/notify.js';
import { simulate } from '../commands/simulate.js';
import { simulateDecisions } from '../commands/simulate-decisions.js';
import {
  confidenceLevel,
  DEFAULT_SEQUENTIAL_TUNING_N,
  METRIC_KINDS,
  stats,
  type MetricKind,
} from '../commands/stats.js';
import { fraction, positiveInt } from '../options.js';
import { dataDirOption, examples, formatOption, jsonOption } from './shared.js';

/** Experiments and decisions: reports, offline statistics, simulations, policies, timing. */
export function registerExperiments(program: Command): void {
  const experiments = examples(
    program
      .command('experiments')
      .description('experiments and the global holdout: list them, report their lift'),
    [
      'attune experiments list',
      'attune experiments report holdout',
      'attune experiments report upsell-banner --json',
    ],
  );
  examples(
    experiments
      .command('list')
      .description('every experiment with its status, layer, traffic and exposed users per variant')
      .addOption(dataDirOption())
      .addOption(jsonOption('one JSON object on stdout instead of the list'))
      .action(async (opts: { dataDir?: string; json: boolean }) => {
        await listExperiments({ dataDir: opts.dataDir, json: opts.json });
      }),
    ['attune experiments list', 'attune experiments list --data-dir ./shop --json'],
  );
  examples(
    experiments
      .command('report')
      .description('the lift of an experiment (or of personalization: `holdout`) per metric, with verdicts')
      .argument('<id>', 'experiment id, or holdout')
      .addOption(dataDirOption())
      .addOption(jsonOption('one JSON object on stdout instead of the table'))
      .action(async (id: string, opts: { dataDir?: string; json: boolean }) => {
        await reportExperiment(id, { dataDir: opts.dataDir, json: opts.json });
      }),
    [
      'attune experiments report holdout',
      'attune experiments report upsell-banner',
      'attune experiments report upsell-banner --json | jq .summary',
    ],
  );

  examples(
    program
      .command('stats')
      .description('analyse an experiment from per-user rows: lifts, intervals, p-values, chance to win, SRM')
      .requiredOption('--input <path>', 'per-user CSV: variant, then the columns of --kind')
      .addOption(
        new Option('--kind <kind>', 'metric kind (the CSV columns after variant)')
          .choices(METRIC_KINDS)
          .makeOptionMandatory(),
      )
      .requiredOption('--weights <list>', 'intended split, control included, e.g. control=0.5,b=0.5')
      .option('--confidence <level>', 'level of every interval, between 0 and 1', confidenceLevel, 0.95)
      .option(
        '--sequential-tuning <n>',
        'users (all arms) at which the always-valid intervals are tightest',
        positiveInt('--sequential-tuning'),
        DEFAULT_SEQUENTIAL_TUNING_N,
      )
      .addOption(jsonOption('one JSON object on stdout instead of the report'))
      .action(
        async (opts: {
          input: string;
          kind: MetricKind;
          weights: string;
          confidence: number;
          sequentialTuning: number;
          json: boolean;
        }) => {
          await stats(opts);
        },
      ),
    [
      'attune stats --input users.csv --kind conversion --weights control=0.5,b=0.5',
      'attune stats --input revenue.csv --kind mean --weights control=1,b=1,c=1 --confidence 0.9',
      'attune stats --input users.csv --kind conversion --weights control=2,b=1 --json',
    ],
  );

  examples(
    program
      .command('simulate')
      .summary('simulated shoppers (or new users) through the API over days, judged against a planted truth')
      .description(
        "drive the demo shop's users through the HTTP API over simulated days, with an experiment whose true " +
          'effect is planted, and judge the reports against the truth; or (--scenario decisions) drive new ' +
          'users with hidden roles through the onboarding and offer decision points, against the optimal policy',
      )
      .addOption(
        new Option('--scenario <name>', 'what to simulate')
          .choices(['experiment', 'decisions'])
          .default('experiment'),
      )
      .addOption(
        new Option(
          '--data-dir <dir>',
          'an empty store, or one holding just this demo shop (default: a temporary one)',
        ),
      )
      .option(
        '--seed <n>',
        "seed of the shoppers' (or new users') behaviour and of the assignment",
        positiveInt('--seed'),
        1,
      )
      .option('--shop-seed <n>', 'seed of the demo shop', positiveInt('--shop-seed'), 1)
      .option(
        '--users <n>',
        "shoppers (the demo shop's users; default 5000), or new users with decisions (default 10000)",
        positiveInt('--users'),
      )
      .option('--items <n>', 'catalog items', positiveInt('--items'), 500)
      .option(
        '--history-days <n>',
        'days of history before the simulation',
        positiveInt('--history-days'),
        30,
      )
      .option('--days <n>', 'simulated days of traffic', positiveInt('--days'), 14)
      .option(
        '--planted-lift <x>',
        'true relative lift of the upsell on order value, in [0, 1)',
        fraction('--planted-lift'),
        0.1,
      )
      .option('--window <n>', 'decisions: decisions per reported window', positiveInt('--window'), 2_000)
      .option(
        '--holdout <share>',
        "the global holdout's share, in [0, 1) (default: $ATTUNE_HOLDOUT, else 0.05; decisions: 0)",
        fraction('--holdout'),
      )
      .option('--concurrency <n>', 'HTTP requests in flight', positiveInt('--concurrency'), 16)
      .addOption(jsonOption('one JSON object on stdout instead of tables'))
      .action(
        async (opts: {
          scenario: 'experiment' | 'decisions';
          dataDir?: string;
          seed: number;
          shopSeed: number;
          users?: number;
          items: number;
          historyDays: number;
          days: number;
          plantedLift: number;
          window: number;
          holdout?: number;
          concurrency: number;
          json: boolean;
        }) => {
          if (opts.scenario === 'decisions') {
            await simulateDecisions({
              dataDir: opts.dataDir,
              seed: opts.seed,
              users: opts.users ?? 10_000,
              window: opts.window,
              batch: 20,
              concurrency: opts.concurrency,
              holdout: opts.holdout,
              json: opts.json,
            });
            return;
          }
          await simulate({
            ...opts,
            users: opts.users ?? 5_000,
            dataDir: opts.dataDir,
            holdout: opts.holdout,
          });
        },
      ),
    [
      'attune simulate',
      'attune simulate --users 2000 --days 7 --planted-lift 0.05',
      'attune simulate --scenario decisions --users 5000 --json',
    ],
  );

  const decisions = examples(
    program
      .command('decisions')
      .description(
        'contextual-bandit decisions: what a candidate policy would have earned on logged decisions',
      ),
    [
      'attune decisions evaluate onboarding',
      'attune decisions evaluate --logs decisions.csv --policy candidate.json',
    ],
  );
  examples(
    decisions
      .command('evaluate')
      .description(
        "estimate a candidate policy's value from logged decisions: IPS, SNIPS and doubly robust, 95% intervals",
      )
      .argument('[point]', 'a decision point of the engine, evaluated on its own log')
      .addOption(dataDirOption())
      .option(
        '--logs <file>',
        'CSV of decisions logged elsewhere: action, reward, propensity[, position, timestamp], context columns',
      )
      .option(
        '--policy <file>',
        'the candidate, JSON: fixed probabilities (optionally by position) or a learner',
      )
      .addOption(jsonOption('one JSON object on stdout instead of the table'))
      .action(
        async (
          point: string | undefined,
          opts: { logs?: string; policy?: string; json: boolean; dataDir?: string },
        ) => {
          await decisionsEvaluate({ point, ...opts });
        },
      ),
    [
      'attune decisions evaluate onboarding',
      'attune decisions evaluate offer --policy greedy.json --json',
      'attune decisions evaluate --logs decisions.csv --policy candidate.json',
    ],
  );

  const notify = examples(
    program.command('notify').description('notification timing: when to reach each user, replayed on a log'),
    ['attune notify evaluate --input ml-100k/u.data --format ml100k'],
  );
  examples(
    notify
      .command('evaluate')
      .description(
        "does each user's top 3 hours of week hold their next activity after their last week's start",
      )
      .requiredOption('--input <path>', 'interactions or events file')
      .addOption(formatOption())
      .addOption(jsonOption('one JSON object on stdout instead of the summary'))
      .action(async (opts: { input: string; format: DatasetFormat; json: boolean }) => {
        await notifyEvaluate(opts);
      }),
    [
      'attune notify evaluate --input ml-100k/u.data --format ml100k',
      'attune notify evaluate --input events.jsonl --format jsonl --json',
    ],
  );
}
