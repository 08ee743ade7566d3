#!/usr/bin/env node
import { Command, Option } from 'commander';
import { DEFAULT_APP, SCOPES, type Scope } from '../access/index.js';
import { datasetFormats, type DatasetFormat } from '../evaluation/index.js';
import {
  churnEvaluate,
  churnEvaluateEvents,
  churnScore,
  churnTrain,
  DEFAULT_CHURN_WINDOW_DAYS,
  type EventChurnCliOptions,
} from './commands/churn.js';
import type { ChurnModelChoice } from '../churn/index.js';
import { decisionsEvaluate } from './commands/decisions.js';
import { demo } from './commands/demo.js';
import { evaluate } from './commands/evaluate.js';
import { listExperiments, reportExperiment } from './commands/experiments.js';
import { featuresExport } from './commands/features.js';
import { importFile } from './commands/import.js';
import { createKey, listKeys, revokeKey } from './commands/keys.js';
import { notifyEvaluate } from './commands/notify.js';
import { serve } from './commands/serve.js';
import {
  positiveNumber,
  SEGMENT_ALGORITHMS,
  segmentsEvaluate,
  segmentsTrain,
  SEGMENTS_DEFAULTS,
  type SegmentAlgorithm,
  type SegmentsTrainOptions,
} from './commands/segments.js';
import { SEGMENT_TRAINING_DEFAULTS } from '../segments/index.js';
import { simulate } from './commands/simulate.js';
import { simulateDecisions } from './commands/simulate-decisions.js';
import {
  confidenceLevel,
  DEFAULT_SEQUENTIAL_TUNING_N,
  METRIC_KINDS,
  stats,
  type MetricKind,
} from './commands/stats.js';
import { train } from './commands/train.js';
import { fraction, port, positiveInt } from './options.js';

const program = new Command('attune')
  .description('Attune: a self-hosted personalization engine. Events in, recommendations out.')
  .showHelpAfterError();

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'where the embedded store lives (default: $ATTUNE_DATA_DIR or ./.attune)');
const formatOption = () =>
  new Option('--format <format>', 'input format').choices(datasetFormats).makeOptionMandatory();

program
  .command('serve')
  .description('serve the HTTP API')
  .addOption(new Option('--port <port>', 'port to listen on (default: $PORT or 8080)'))
  .addOption(new Option('--host <host>', 'address to bind').default('127.0.0.1'))
  .addOption(dataDirOption())
  .option('--demo', 'load the demo shop into an empty store and train before serving', false)
  .action(async (opts: { port?: string; host: string; dataDir?: string; demo: boolean }) => {
    await serve({ port: port(opts.port), host: opts.host, dataDir: opts.dataDir, demo: opts.demo });
  });

program
  .command('start')
  .description('the quick start: serve with the demo shop on first run (what `npm start` runs)')
  .addOption(new Option('--port <port>', 'port to listen on (default: $PORT or 8080)'))
  .addOption(new Option('--host <host>', 'address to bind').default('127.0.0.1'))
  .addOption(dataDirOption())
  .action(async (opts: { port?: string; host: string; dataDir?: string }) => {
    await serve({ port: port(opts.port), host: opts.host, dataDir: opts.dataDir, demo: true });
  });

program
  .command('import')
  .description('import interactions or events from a file into the store')
  .addOption(formatOption())
  .argument('<path>', 'file to import')
  .addOption(dataDirOption())
  .action(async (path: string, opts: { format: DatasetFormat; dataDir?: string }) => {
    await importFile({ path, format: opts.format, dataDir: opts.dataDir });
  });

program
  .command('train')
  .description('train a new model version from the stored events')
  .addOption(dataDirOption())
  .option(
    '--wait',
    'when another process is training on the same store, wait for it (default: exit with status 75)',
    false,
  )
  .action(async (opts: { dataDir?: string; wait: boolean }) => {
    await train({ dataDir: opts.dataDir, wait: opts.wait });
  });

program
  .command('demo')
  .description('generate the deterministic demo shop into the store (or a JSON-lines file)')
  .addOption(dataDirOption())
  .option('--seed <n>', 'random seed', positiveInt('--seed'), 1)
  .option('--users <n>', 'number of users', positiveInt('--users'))
  .option('--items <n>', 'number of items', positiveInt('--items'))
  .option('--days <n>', 'days of history', positiveInt('--days'))
  .option('--out <file>', 'write events as JSON lines instead of into the store')
  .action(
    async (opts: {
      dataDir?: string;
      seed: number;
      users?: number;
      items?: number;
      days?: number;
      out?: string;
    }) => {
      await demo(opts);
    },
  );

program
  .command('evaluate')
  .description('offline evaluation under ../shared/reference/PROTOCOL.md; JSON lines on stdout')
  .requiredOption('--input <path>', 'interactions file')
  .addOption(formatOption())
  .option(
    '--models <list>',
    'comma-separated model names (default: popularity,itemknn,als; with --auto: every model)',
  )
  .option('--k <n>', 'cut-off for the metrics', positiveInt('--k'), 20)
  .option('--no-tune', 'skip hyper-parameter search on the validation split (with --auto: defaults only)')
  .option('--auto', 'choose the best model or blend on validation among --models; one JSON line', false)
  .option('--no-rerank', 'with --auto: do not try the two-stage model (candidates re-ranked by trees)')
  .option(
    '--choice <json>',
    'evaluate exactly this model or blend, e.g. what GET /v1/models says serves: {"model": …, "params": {…}}',
  )
  .action(
    async (opts: {
      input: string;
      format: DatasetFormat;
      models?: string;
      k: number;
      tune: boolean;
      auto: boolean;
      rerank: boolean;
      choice?: string;
    }) => {
      const models = opts.models
        ?.split(',')
        .map((m) => m.trim())
        .filter(Boolean);
      await evaluate({
        input: opts.input,
        format: opts.format,
        ...(models === undefined ? {} : { models }),
        k: opts.k,
        tune: opts.tune,
        auto: opts.auto,
        rerank: opts.rerank,
        ...(opts.choice === undefined ? {} : { choice: opts.choice }),
      });
    },
  );

program
  .command('simulate')
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
  .option('--history-days <n>', 'days of history before the simulation', positiveInt('--history-days'), 30)
  .option('--days <n>', 'simulated days of traffic', positiveInt('--days'), 14)
  .option(
    '--planted-lift <x>',
    'true relative lift of the upsell on order value',
    fraction('--planted-lift'),
    0.1,
  )
  .option('--window <n>', 'decisions: decisions per reported window', positiveInt('--window'), 2_000)
  .option(
    '--holdout <share>',
    "the global holdout's share (default: $ATTUNE_HOLDOUT or 0.05; decisions: 0)",
    fraction('--holdout'),
  )
  .option('--concurrency <n>', 'requests in flight', positiveInt('--concurrency'), 16)
  .option('--json', 'one JSON object instead of tables', false)
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
      await simulate({ ...opts, users: opts.users ?? 5_000, dataDir: opts.dataDir, holdout: opts.holdout });
    },
  );

program
  .command('stats')
  .description('analyse an experiment from per-user rows: lifts, intervals, p-values, chance to win, SRM')
  .requiredOption('--input <path>', 'per-user CSV: variant, then the columns of --kind')
  .addOption(new Option('--kind <kind>', 'metric kind').choices(METRIC_KINDS).makeOptionMandatory())
  .requiredOption('--weights <list>', 'intended split, control included, e.g. control=0.5,b=0.5')
  .option('--confidence <level>', 'level of every interval', confidenceLevel, 0.95)
  .option(
    '--sequential-tuning <n>',
    'users (all arms) at which the always-valid intervals are tightest',
    positiveInt('--sequential-tuning'),
    DEFAULT_SEQUENTIAL_TUNING_N,
  )
  .option('--json', 'one JSON object on stdout instead of the report', false)
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
  );

const segments = program
  .command('segments')
  .description(
    "customer segments: the store's users (train) or a customer table's numeric columns (evaluate)",
  );
segments
  .command('evaluate')
  .description("cluster a CSV's numeric columns (rows with a blank left out); one JSON line")
  .requiredOption('--input <path>', 'customer CSV with a header line')
  .addOption(
    new Option('--algorithm <name>', 'clustering algorithm').choices(SEGMENT_ALGORITHMS).default('kmeans'),
  )
  .option('--k <n>', 'number of clusters (k-means; required there)', positiveInt('--k'))
  .option('--eps <x>', 'DBSCAN radius (default: the knee of the k-distance curve)', positiveNumber('--eps'))
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
    }) => {
      await segmentsEvaluate(opts);
    },
  );

segments
  .command('train')
  .description("segment the store's users on their behavioural features; stores a new `segments` version")
  .addOption(dataDirOption())
  .addOption(
    new Option('--algorithm <name>', 'clustering algorithm').choices(SEGMENT_ALGORITHMS).default('kmeans'),
  )
  .option(
    '--k <n>',
    'number of segments (k-means; default: the best silhouette over --k-range)',
    positiveInt('--k'),
  )
  .option('--k-range <low..high>', 'k-means: the k tried when --k is not given (default 2..10)')
  .option('--eps <x>', 'DBSCAN radius (default: the knee of the k-distance curve)', positiveNumber('--eps'))
  .option(
    '--min-samples <n>',
    'DBSCAN: users within eps of a core user (default 2 × columns)',
    positiveInt('--min-samples'),
  )
  .option('--features <a,b,...>', 'feature columns to cluster (default: the behavioural subset, see README)')
  .option('--at <time>', 'the time features are read at, ISO 8601 or epoch ms (default now)')
  .option('--seed <n>', 'random seed of k-means++', positiveInt('--seed'), SEGMENTS_DEFAULTS.seed)
  .option(
    '--n-init <n>',
    'k-means initialisations per k',
    positiveInt('--n-init'),
    SEGMENT_TRAINING_DEFAULTS.nInit,
  )
  .action(async (opts: SegmentsTrainOptions) => {
    await segmentsTrain(opts);
  });

const experiments = program
  .command('experiments')
  .description('experiments and the global holdout: list them, report their lift');
experiments
  .command('list')
  .description('every experiment with its status and exposed users per variant')
  .addOption(dataDirOption())
  .option('--json', 'one JSON object on stdout', false)
  .action(async (opts: { dataDir?: string; json: boolean }) => {
    await listExperiments({ dataDir: opts.dataDir, json: opts.json });
  });
experiments
  .command('report')
  .description('the lift of an experiment (or of personalization: `holdout`) per metric, with verdicts')
  .argument('<id>', 'experiment id, or holdout')
  .addOption(dataDirOption())
  .option('--json', 'one JSON object on stdout instead of the table', false)
  .action(async (id: string, opts: { dataDir?: string; json: boolean }) => {
    await reportExperiment(id, { dataDir: opts.dataDir, json: opts.json });
  });

const churn = program
  .command('churn')
  .description("churn prediction: from the store's events (train, evaluate, score) or a customer table");
const churnEventOptions = (command: Command) =>
  command
    .addOption(dataDirOption())
    .option(
      '--window <days>',
      'inactivity window: churned = no activity for this many days after the cutoff',
      positiveInt('--window'),
      DEFAULT_CHURN_WINDOW_DAYS,
    )
    .option('--cutoff <time>', 'the latest labelled cut (ISO 8601 or epoch ms; default now − window)')
    .option('--events <names>', 'comma-separated event names that count as activity (default: any event)')
    .option('--now <time>', 'the time to treat as now, for a historic log (default: the system clock)');
churnEventOptions(
  churn
    .command('evaluate')
    .description(
      "time-based validation on the store's events (logreg, gbdt, recency-only), or with --table a CSV " +
        'customer table; JSON lines on stdout',
    )
    .option('--table <path>', 'customer table: CSV with a header line, one row per customer')
    .option('--label <column>', 'with --table: the churn column, Yes/No, true/false or 1/0')
    .option('--drop <columns>', 'with --table: comma-separated columns to leave out, e.g. an identifier')
    .option(
      '--test-rows <path>',
      'with --table: 0-based data-row indices to test on, one per line (default: stratified 80/20)',
    )
    .option('--seed <n>', 'with --table: seed of the stratified split', positiveInt('--seed'), 42),
).action(
  async (
    opts: {
      table?: string;
      label?: string;
      drop?: string;
      testRows?: string;
      seed: number;
    } & EventChurnCliOptions,
    command: Command,
  ) => {
    if (opts.table === undefined) {
      await churnEvaluateEvents(opts);
      return;
    }
    if (opts.label === undefined) command.error("error: required option '--label <column>' not specified");
    await churnEvaluate({ ...opts, table: opts.table, label: opts.label });
  },
);
churnEventOptions(
  churn
    .command('train')
    .description("train and store a churn model on the store's events (a new `churn` version); JSON")
    .addOption(
      new Option('--model <name>', 'the model to store; auto: the better validation AUC')
        .choices(['auto', 'logreg', 'gbdt'])
        .default('auto'),
    ),
).action(async (opts: EventChurnCliOptions & { model: ChurnModelChoice }) => {
  await churnTrain(opts);
});
churn
  .command('score')
  .description('score users at now with the stored churn model; CSV user_id,probability,risk_band,top_driver')
  .addOption(dataDirOption())
  .option('--user <id>', 'only this user')
  .option('--out <file>', 'write the CSV here (default: stdout)')
  .option('--now <time>', 'the time to score at (default: the system clock)')
  .action(async (opts: { dataDir?: string; user?: string; out?: string; now?: string }) => {
    await churnScore(opts);
  });

const features = program
  .command('features')
  .description('the feature store: training tables from the events');
features
  .command('export')
  .description(
    'a CSV training table, point-in-time correct: each row from the events with timestamp < its time',
  )
  .option('--at <time>', 'one row per user seen before this time (ISO 8601 or epoch ms)')
  .option('--rows <file>', 'a CSV of user_id,timestamp[,item_id]: each row at its own timestamp')
  .option('--out <file>', 'where to write the CSV (default: stdout)')
  .option('--definitions <file>', 'feature definitions (default: $ATTUNE_FEATURES, else built-in)')
  .addOption(dataDirOption())
  .action(
    async (opts: { at?: string; rows?: string; out?: string; definitions?: string; dataDir?: string }) => {
      await featuresExport(opts);
    },
  );

const notify = program
  .command('notify')
  .description('notification timing: when to reach each user, replayed on a log');
notify
  .command('evaluate')
  .description("does each user's top 3 hours of week hold their next activity after their last week's start")
  .requiredOption('--input <path>', 'interactions or events file')
  .addOption(formatOption())
  .option('--json', 'one JSON object on stdout instead of the summary', false)
  .action(async (opts: { input: string; format: DatasetFormat; json: boolean }) => {
    await notifyEvaluate(opts);
  });

const decisions = program
  .command('decisions')
  .description('contextual-bandit decisions: what a candidate policy would have earned on logged decisions');
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
  .option('--policy <file>', 'the candidate, JSON: fixed probabilities (optionally by position) or a learner')
  .option('--json', 'one JSON object on stdout instead of the table', false)
  .action(
    async (
      point: string | undefined,
      opts: { logs?: string; policy?: string; json: boolean; dataDir?: string },
    ) => {
      await decisionsEvaluate({ point, ...opts });
    },
  );

const keys = program
  .command('keys')
  .description(
    'API keys: ingest (events only, safe in a browser), server (per-user reads), admin (everything)',
  )
  .addHelpText(
    'after',
    `
Examples:
  $ attune keys create --scope ingest --name "web shop"   # prints the key once
  $ attune keys create --scope admin --json
  $ attune keys list
  $ attune keys revoke 3f9c0e2a7b1d4c55`,
  );
keys
  .command('create')
  .description('create a key and print it (only now: the store keeps its hash)')
  .addOption(new Option('--scope <scope>', 'what the key may do').choices(SCOPES).makeOptionMandatory())
  .option('--app <name>', 'the app whose data the key reaches', DEFAULT_APP)
  .option('--name <text>', 'what the key is for, shown in lists and the audit log')
  .addOption(dataDirOption())
  .option('--json', 'one JSON object on stdout: the key and its record', false)
  .action(async (opts: { scope: Scope; app: string; name?: string; dataDir?: string; json: boolean }) => {
    await createKey(opts);
  });
keys
  .command('list')
  .description('every key: id, app, scope, name, when created and revoked (never the key itself)')
  .addOption(dataDirOption())
  .option('--json', 'one JSON object on stdout', false)
  .action(async (opts: { dataDir?: string; json: boolean }) => {
    await listKeys(opts);
  });
keys
  .command('revoke')
  .description('revoke a key: a running server refuses it within a second')
  .argument('<id>', 'the key id (attune keys list)')
  .addOption(dataDirOption())
  .option('--json', 'the revoked key as one JSON object', false)
  .action(async (id: string, opts: { dataDir?: string; json: boolean }) => {
    await revokeKey(id, opts);
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`attune: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
