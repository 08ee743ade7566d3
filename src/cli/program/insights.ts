import { Option, type Command } from 'commander';
import type { ChurnModelChoice } from '../../churn/index.js';
import { SEGMENT_TRAINING_DEFAULTS } from '../../segments/index.js';
import {
  churnEvaluate,
  churnEvaluateEvents,
  churnScore,
  churnTrain,
  DEFAULT_CHURN_WINDOW_DAYS,
  type EventChurnCliOptions,
} from '../commands/churn.js';
import { featuresExport } from '../commands/features.js';
import {
  SEGMENT_ALGORITHMS,
  segmentsEvaluate,
  segmentsTrain,
  SEGMENTS_DEFAULTS,
  type SegmentAlgorithm,
  type SegmentsTrainOptions,
} from '../commands/segments.js';
import { EXIT_USAGE } from '../errors.js';
import { positiveInt, positiveNumber } from '../options.js';
import { dataDirOption, examples, jsonOption } from './shared.js';

const churnEventOptions = (command: Command) =>
  command
    .addOption(dataDirOption())
    .option(
      '--window <days>',
      'inactivity window in days: churned = no activity for this many days after the cutoff',
      positiveInt('--window'),
      DEFAULT_CHURN_WINDOW_DAYS,
    )
    .option('--cutoff <time>', 'the latest labelled cut, ISO 8601 or epoch ms (default: now − window)')
    .option('--events <names>', 'comma-separated event names that count as activity (default: any event)')
    .option(
      '--now <time>',
      'the time to treat as now, for a historic log, ISO 8601 or epoch ms (default: the clock)',
    );

/** Customer insights: churn, segments, the feature store's tables. */
export function registerInsights(program: Command): void {
  const churn = examples(
    program
      .command('churn')
      .description("churn prediction: from the store's events (train, evaluate, score) or a customer table"),
    ['attune churn evaluate --window 30', 'attune churn train', 'attune churn score --out risk.csv'],
  );
  examples(
    churnEventOptions(
      churn
        .command('evaluate')
        .description(
          "time-based validation on the store's events (logreg, gbdt, recency-only), or with --table a CSV " +
            'customer table: a table by default, JSON lines (one per model) with --json',
        )
        .option('--table <path>', 'customer table: CSV with a header line, one row per customer')
        .option('--label <column>', 'with --table: the churn column, Yes/No, true/false or 1/0')
        .option('--drop <columns>', 'with --table: comma-separated columns to leave out, e.g. an identifier')
        .option(
          '--test-rows <path>',
          'with --table: 0-based data-row indices to test on, one per line (default: stratified 80/20)',
        )
        .option('--seed <n>', 'with --table: seed of the stratified split', positiveInt('--seed'), 42)
        .addOption(jsonOption('JSON lines on stdout (one per model) instead of the table')),
    ).action(
      async (
        opts: {
          table?: string;
          label?: string;
          drop?: string;
          testRows?: string;
          seed: number;
          json: boolean;
        } & EventChurnCliOptions,
        command: Command,
      ) => {
        if (opts.table === undefined) {
          await churnEvaluateEvents(opts);
          return;
        }
        if (opts.label === undefined) {
          command.error("error: required option '--label <column>' not specified (with --table)", {
            exitCode: EXIT_USAGE,
          });
        }
        await churnEvaluate({ ...opts, table: opts.table, label: opts.label });
      },
    ),
    [
      'attune churn evaluate --window 30',
      'attune churn evaluate --now 2026-11-01 --window 14 --events purchased,viewed --json',
      'attune churn evaluate --table telco.csv --label Churn --drop customerID',
    ],
  );
  examples(
    churnEventOptions(
      churn
        .command('train')
        .description("train and store a churn model on the store's events (a new `churn` version)")
        .addOption(
          new Option('--model <name>', 'the model to store; auto: the better validation AUC')
            .choices(['auto', 'logreg', 'gbdt'])
            .default('auto'),
        )
        .addOption(jsonOption()),
    ).action(async (opts: EventChurnCliOptions & { model: ChurnModelChoice; json: boolean }) => {
      await churnTrain(opts);
    }),
    [
      'attune churn train',
      'attune churn train --window 14 --model gbdt',
      'attune churn train --json | jq .bands',
    ],
  );
  examples(
    churn
      .command('score')
      .description(
        'score users at now with the stored churn model; CSV user_id,probability,risk_band,top_driver',
      )
      .addOption(dataDirOption())
      .option('--user <id>', 'only this user')
      .option('--out <file>', 'write the CSV here (default: stdout)')
      .option('--now <time>', 'the time to score at, ISO 8601 or epoch ms (default: the clock)')
      .action(async (opts: { dataDir?: string; user?: string; out?: string; now?: string }) => {
        await churnScore(opts);
      }),
    ['attune churn score --out risk.csv', 'attune churn score --user user-0042'],
  );

  const segments = examples(
    program
      .command('segments')
      .description(
        "customer segments: the store's users (train) or a customer table's numeric columns (evaluate)",
      ),
    ['attune segments train', 'attune segments evaluate --input customers.csv --k 4 --standardize'],
  );
  examples(
    segments
      .command('evaluate')
      .description(
        "cluster a CSV's numeric columns (rows with a blank left out): a summary, or one JSON line with --json",
      )
      .requiredOption('--input <path>', 'customer CSV with a header line')
      .addOption(
        new Option('--algorithm <name>', 'clustering algorithm')
          .choices(SEGMENT_ALGORITHMS)
          .default('kmeans'),
      )
      .option('--k <n>', 'number of clusters (k-means; required there)', positiveInt('--k'))
      .option(
        '--eps <x>',
        'DBSCAN radius (default: the knee of the k-distance curve)',
        positiveNumber('--eps'),
      )
      .option(
        '--min-samples <n>',
        'DBSCAN: rows within eps, itself included, of a core row (default 5)',
        positiveInt('--min-samples'),
      )
      .option('--standardize', 'z-score each column (population standard deviation) first', false)
      .option('--seed <n>', 'random seed of k-means++', positiveInt('--seed'), SEGMENTS_DEFAULTS.seed)
      .option(
        '--n-init <n>',
        'initialisations; the lowest inertia is kept',
        positiveInt('--n-init'),
        SEGMENTS_DEFAULTS.nInit,
      )
      .addOption(jsonOption())
      .action(
        async (opts: {
          input: string;
          algorithm: SegmentAlgorithm;
          k?: number;
          standardize: boolean;
          seed: number;
          nInit: number;
          eps?: number;
          minSamples?: number;
          json: boolean;
        }) => {
          await segmentsEvaluate(opts);
        },
      ),
    [
      'attune segments evaluate --input customers.csv --k 4 --standardize',
      'attune segments evaluate --input customers.csv --algorithm dbscan --min-samples 8',
      'attune segments evaluate --input customers.csv --k 5 --json',
    ],
  );
  examples(
    segments
      .command('train')
      .description("segment the store's users on their behavioural features; stores a new `segments` version")
      .addOption(dataDirOption())
      .addOption(
        new Option('--algorithm <name>', 'clustering algorithm')
          .choices(SEGMENT_ALGORITHMS)
          .default('kmeans'),
      )
      .option(
        '--k <n>',
        'number of segments (k-means; default: the best silhouette over --k-range)',
        positiveInt('--k'),
      )
      .option('--k-range <low..high>', 'k-means: the k tried when --k is not given (default 2..10)')
      .option(
        '--eps <x>',
        'DBSCAN radius (default: the knee of the k-distance curve)',
        positiveNumber('--eps'),
      )
      .option(
        '--min-samples <n>',
        'DBSCAN: users within eps of a core user (default 2 × columns)',
        positiveInt('--min-samples'),
      )
      .option(
        '--features <a,b,...>',
        'feature columns to cluster (default: the behavioural subset, see docs/guide.md)',
      )
      .option('--at <time>', 'the time features are read at, ISO 8601 or epoch ms (default: now)')
      .option('--seed <n>', 'random seed of k-means++', positiveInt('--seed'), SEGMENTS_DEFAULTS.seed)
      .option(
        '--n-init <n>',
        'k-means initialisations per k',
        positiveInt('--n-init'),
        SEGMENT_TRAINING_DEFAULTS.nInit,
      )
      .addOption(jsonOption())
      .action(async (opts: SegmentsTrainOptions) => {
        await segmentsTrain(opts);
      }),
    [
      'attune segments train',
      'attune segments train --k 5 --at 2026-11-01',
      'attune segments train --algorithm dbscan --json',
    ],
  );

  const features = examples(
    program.command('features').description('the feature store: training tables from the events'),
    ['attune features export --at 2026-11-01 --out users.csv'],
  );
  examples(
    features
      .command('export')
      .description(
        'a CSV training table, point-in-time correct: each row from the events with timestamp < its time',
      )
      .option('--at <time>', 'one row per user seen before this time, ISO 8601 or epoch ms')
      .option('--rows <file>', 'a CSV of user_id,timestamp[,item_id]: each row at its own timestamp')
      .option('--out <file>', 'where to write the CSV (default: stdout)')
      .option('--definitions <file>', 'feature definitions, JSON (default: $ATTUNE_FEATURES, else built-in)')
      .addOption(dataDirOption())
      .action(
        async (opts: {
          at?: string;
          rows?: string;
          out?: string;
          definitions?: string;
          dataDir?: string;
        }) => {
          await featuresExport(opts);
        },
      ),
    [
      'attune features export --at 2026-11-01 --out users.csv',
      'attune features export --rows labels.csv --out training.csv',
      'attune features export --at 2026-11-01 --definitions features.json | head',
    ],
  );
}
