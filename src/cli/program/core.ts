import { Option, type Command } from 'commander';
import { DEFAULT_APP, SCOPES, type Scope } from '../../access/index.js';
import { DEMO_DEFAULTS } from '../../demo/index.js';
import type { DatasetFormat } from '../../evaluation/index.js';
import { demo } from '../commands/demo.js';
import { evaluate } from '../commands/evaluate.js';
import { importFile } from '../commands/import.js';
import { createKey, listKeys, revokeKey } from '../commands/keys.js';
import { serve } from '../commands/serve.js';
import { worker } from '../commands/worker.js';
import { train } from '../commands/train.js';
import { port, positiveInt } from '../options.js';
import { dataDirOption, examples, formatOption, jsonOption } from './shared.js';

const portOption = () =>
  new Option('--port <port>', 'TCP port to listen on; 0 picks a free one (default: $PORT, else 8080)');
const hostOption = () =>
  new Option('--host <host>', 'address to bind; 0.0.0.0 for every interface (keys then required)').default(
    '127.0.0.1',
  );

/** Getting started: the quick start, the demo shop, the server. */
export function registerStart(program: Command): void {
  examples(
    program
      .command('start')
      .description(
        'the quick start: serve the API, loading the demo shop and training on first run (`npm start`)',
      )
      .addOption(portOption())
      .addOption(hostOption())
      .addOption(dataDirOption())
      .action(async (opts: { port?: string; host: string; dataDir?: string }) => {
        await serve({ port: port(opts.port), host: opts.host, dataDir: opts.dataDir, demo: true });
      }),
    [
      'attune start',
      'attune start --port 3000 --data-dir ./shop-data',
      'ATTUNE_HOLDOUT=0 attune start   # no global holdout',
    ],
  );

  examples(
    program
      .command('demo')
      .description('generate the deterministic demo shop (users, items, days of events) into the store')
      .addOption(dataDirOption())
      .option('--seed <n>', 'random seed; the same seed gives the same shop', positiveInt('--seed'), 1)
      .option('--users <n>', `number of users (default ${DEMO_DEFAULTS.users})`, positiveInt('--users'))
      .option('--items <n>', `number of items (default ${DEMO_DEFAULTS.items})`, positiveInt('--items'))
      .option('--days <n>', `days of history (default ${DEMO_DEFAULTS.days})`, positiveInt('--days'))
      .option('--out <file>', 'write the events as JSON lines (API shape) to this file instead of the store')
      .addOption(jsonOption())
      .action(
        async (opts: {
          dataDir?: string;
          seed: number;
          users?: number;
          items?: number;
          days?: number;
          out?: string;
          json: boolean;
        }) => {
          await demo(opts);
        },
      ),
    [
      'attune demo',
      'attune demo --users 1000 --items 200 --days 30 --data-dir ./small',
      'attune demo --out events.jsonl   # then: attune import --format jsonl events.jsonl',
    ],
  );

  examples(
    program
      .command('serve')
      .description(
        'serve the HTTP API (and /dashboard, /docs) on the store; trains in the background when no model exists',
      )
      .addOption(portOption())
      .addOption(hostOption())
      .addOption(dataDirOption())
      .option('--demo', 'load the demo shop into an empty store and train before serving', false)
      .action(async (opts: { port?: string; host: string; dataDir?: string; demo: boolean }) => {
        await serve({ port: port(opts.port), host: opts.host, dataDir: opts.dataDir, demo: opts.demo });
      }),
    [
      'attune serve',
      'attune serve --port 8080 --host 0.0.0.0 --data-dir /var/lib/attune',
      'LOG_LEVEL=info attune serve --demo',
    ],
  );

  examples(
    program
      .command('worker')
      .description(
        'the background role beside `attune serve` instances: training, retention, the event stream; one active at a time (the others stand by)',
      )
      .addOption(dataDirOption())
      .action(async (opts: { dataDir?: string }) => {
        await worker({ dataDir: opts.dataDir });
      }),
    ['DATABASE_URL=postgres://attune@db/attune attune worker', 'attune worker --data-dir /var/lib/attune'],
  );
}

/** Data and models: import, train, evaluate. */
export function registerModels(program: Command): void {
  examples(
    program
      .command('import')
      .description(
        'import interactions or events from a file into the store (importing the same file twice adds nothing)',
      )
      .addOption(formatOption())
      .argument('<path>', 'the file to import')
      .addOption(dataDirOption())
      .addOption(jsonOption())
      .action(async (path: string, opts: { format: DatasetFormat; dataDir?: string; json: boolean }) => {
        await importFile({ path, format: opts.format, dataDir: opts.dataDir, json: opts.json });
      }),
    [
      'attune import --format ml100k ml-100k/u.data',
      'attune import --format movielens-csv ml-latest-small/ratings.csv --data-dir ./movies',
      'attune import --format jsonl events.jsonl --json',
    ],
  );

  examples(
    program
      .command('train')
      .description(
        'train a new model version from the stored events: tries the models, keeps the best on validation, ' +
          'saves it for the server to load',
      )
      .addOption(dataDirOption())
      .option(
        '--wait',
        'when another process is training on the same store, wait for it (default: exit with status 75)',
        false,
      )
      .addOption(jsonOption())
      .action(async (opts: { dataDir?: string; wait: boolean; json: boolean }) => {
        await train({ dataDir: opts.dataDir, wait: opts.wait, json: opts.json });
      }),
    [
      'attune train',
      'attune train --data-dir ./movies --wait',
      'attune train --json | jq .selection.chosen',
      'ATTUNE_SELECTION=fixed ATTUNE_PRIMARY_MODEL=ease attune train',
    ],
  );

  examples(
    program
      .command('evaluate')
      .description(
        'offline evaluation of models on a file (temporal split, see PROTOCOL.md): a table by default, ' +
          'JSON lines (one per model) with --json',
      )
      .requiredOption('--input <path>', 'interactions file')
      .addOption(formatOption())
      .option(
        '--models <list>',
        'comma-separated model names: popularity, itemknn, als, ease, rp3beta, hybrid ' +
          '(default: popularity,itemknn,als; with --auto: every model)',
      )
      .option(
        '--k <n>',
        'cut-off of the ranking metrics (recall@k, ndcg@k, coverage@k)',
        positiveInt('--k'),
        20,
      )
      .option('--no-tune', 'skip hyper-parameter search on the validation split (with --auto: defaults only)')
      .option(
        '--auto',
        'choose the best model or blend on validation among --models, as `attune train` does',
        false,
      )
      .option('--no-rerank', 'with --auto: do not try the two-stage model (candidates re-ranked by trees)')
      .option(
        '--choice <json>',
        'evaluate exactly this model or blend, e.g. what GET /v1/models says serves: {"model": …, "params": {…}}',
      )
      .addOption(
        jsonOption('JSON lines on stdout (one per model; one with --auto or --choice) instead of the table'),
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
          json: boolean;
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
            json: opts.json,
            ...(opts.choice === undefined ? {} : { choice: opts.choice }),
          });
        },
      ),
    [
      'attune evaluate --input ml-100k/u.data --format ml100k',
      'attune evaluate --input ratings.csv --format movielens-csv --auto',
      'attune evaluate --input u.data --format ml100k --models ease,rp3beta --k 10 --json',
      `attune evaluate --input u.data --format ml100k --choice '{"model":"itemknn","params":{"neighbors":50}}'`,
    ],
  );
}

/** Administration: API keys. */
export function registerKeys(program: Command): void {
  const keys = examples(
    program
      .command('keys')
      .description(
        'API keys: ingest (events only, safe in a browser), server (per-user reads), admin (everything)',
      ),
    [
      'attune keys create --scope ingest --name "web shop"   # prints the key once',
      'attune keys create --scope admin --json',
      'attune keys list',
      'attune keys revoke 3f9c0e2a7b1d4c55',
    ],
  );
  examples(
    keys
      .command('create')
      .description('create a key and print it (only now: the store keeps its hash)')
      .addOption(new Option('--scope <scope>', 'what the key may do').choices(SCOPES).makeOptionMandatory())
      .option('--app <name>', 'the app (tenant) whose data the key reaches', DEFAULT_APP)
      .option('--name <text>', 'what the key is for, shown in lists and the audit log')
      .addOption(dataDirOption())
      .addOption(jsonOption('one JSON object on stdout: the key and its record'))
      .action(async (opts: { scope: Scope; app: string; name?: string; dataDir?: string; json: boolean }) => {
        await createKey(opts);
      }),
    [
      'attune keys create --scope ingest --name "web shop"',
      'attune keys create --scope server --app eu-store',
      'attune keys create --scope admin --json | jq -r .key',
    ],
  );
  examples(
    keys
      .command('list')
      .description('every key: id, app, scope, name, when created and revoked (never the key itself)')
      .addOption(dataDirOption())
      .addOption(jsonOption('one JSON object on stdout instead of the table'))
      .action(async (opts: { dataDir?: string; json: boolean }) => {
        await listKeys(opts);
      }),
    ['attune keys list', 'attune keys list --data-dir /var/lib/attune --json'],
  );
  examples(
    keys
      .command('revoke')
      .description('revoke a key: a running server refuses it within a second')
      .argument('<id>', 'the key id (attune keys list)')
      .addOption(dataDirOption())
      .addOption(jsonOption('the revoked key as one JSON object'))
      .action(async (id: string, opts: { dataDir?: string; json: boolean }) => {
        await revokeKey(id, opts);
      }),
    ['attune keys revoke 3f9c0e2a7b1d4c55', 'attune keys revoke 3f9c0e2a7b1d4c55 --json'],
  );
}
