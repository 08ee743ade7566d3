#!/usr/bin/env node
import { Command, Option } from 'commander';
import { datasetFormats, type DatasetFormat } from '../evaluation/index.js';
import { churnEvaluate } from './commands/churn.js';
import { demo } from './commands/demo.js';
import { evaluate } from './commands/evaluate.js';
import { listExperiments, reportExperiment } from './commands/experiments.js';
import { importFile } from './commands/import.js';
import { serve } from './commands/serve.js';
import { segmentsEvaluate, SEGMENTS_DEFAULTS } from './commands/segments.js';
import { simulate } from './commands/simulate.js';
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
        ...(opts.choice === undefined ? {} : { choice: opts.choice }),
      });
    },
  );

program
  .command('simulate')
  .description(
    "drive the demo shop's users through the HTTP API over simulated days, with an experiment whose true " +
      'effect is planted, and judge the reports against the truth',
  )
  .addOption(
    new Option(
      '--data-dir <dir>',
      'an empty store, or one holding just this demo shop (default: a temporary one)',
    ),
  )
  .option('--seed <n>', "seed of the shoppers' behaviour and of the assignment", positiveInt('--seed'), 1)
  .option('--shop-seed <n>', 'seed of the demo shop', positiveInt('--shop-seed'), 1)
  .option('--users <n>', "shoppers (the demo shop's users)", positiveInt('--users'), 5_000)
  .option('--items <n>', 'catalog items', positiveInt('--items'), 500)
  .option('--history-days <n>', 'days of history before the simulation', positiveInt('--history-days'), 30)
  .option('--days <n>', 'simulated days of traffic', positiveInt('--days'), 14)
  .option(
    '--planted-lift <x>',
    'true relative lift of the upsell on order value',
    fraction('--planted-lift'),
    0.1,
  )
  .option(
    '--holdout <share>',
    "the global holdout's share (default: $ATTUNE_HOLDOUT or 0.05)",
    fraction('--holdout'),
  )
  .option('--concurrency <n>', 'requests in flight', positiveInt('--concurrency'), 16)
  .option('--json', 'one JSON object instead of tables', false)
  .action(
    async (opts: {
      dataDir?: string;
      seed: number;
      shopSeed: number;
      users: number;
      items: number;
      historyDays: number;
      days: number;
      plantedLift: number;
      holdout?: number;
      concurrency: number;
      json: boolean;
    }) => {
      await simulate({ ...opts, dataDir: opts.dataDir, holdout: opts.holdout });
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
  .description('customer segments: k-means on the numeric columns of a customer table');
segments
  .command('evaluate')
  .description("cluster a CSV's numeric columns (rows with a blank left out); one JSON line")
  .requiredOption('--input <path>', 'customer CSV with a header line')
  .requiredOption('--k <n>', 'number of clusters', positiveInt('--k'))
  .option('--standardize', 'z-score each column (population standard deviation) first', false)
  .option('--seed <n>', 'random seed of k-means++', positiveInt('--seed'), SEGMENTS_DEFAULTS.seed)
  .option(
    '--n-init <n>',
    'initialisations; the lowest inertia is kept',
    positiveInt('--n-init'),
    SEGMENTS_DEFAULTS.nInit,
  )
  .action(async (opts: { input: string; k: number; standardize: boolean; seed: number; nInit: number }) => {
    await segmentsEvaluate(opts);
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

const churn = program.command('churn').description('churn prediction from a customer table');
churn
  .command('evaluate')
  .description('train the churn models on a CSV table and score them on held-out rows; JSON lines on stdout')
  .requiredOption('--table <path>', 'customer table: CSV with a header line, one row per customer')
  .requiredOption('--label <column>', 'the churn column: Yes/No, true/false or 1/0')
  .option('--drop <columns>', 'comma-separated columns to leave out, e.g. an identifier')
  .option(
    '--test-rows <path>',
    '0-based data-row indices to test on, one per line (default: stratified 80/20)',
  )
  .option('--seed <n>', 'seed of the stratified split', positiveInt('--seed'), 42)
  .action(async (opts: { table: string; label: string; drop?: string; testRows?: string; seed: number }) => {
    await churnEvaluate(opts);
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`attune: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
