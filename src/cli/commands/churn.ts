import { ConsentFilter } from '../../privacy/index.js';
import { writeFileSync } from 'node:fs';
import {
  CHURN_MODELS,
  DAY_MS,
  evaluateChurnModel,
  loadChurnScorer,
  parseRowList,
  prepareTable,
  reportLine,
  scoreStore,
  TableInputError,
  trainChurn,
  validateStore,
  type ChurnModelChoice,
  type PreparedTable,
  type StoreChurnOptions,
} from '../../churn/index.js';
import { parseTime, type FeatureSet } from '../../features/index.js';
import { CsvError, parseCsv } from '../../shared/csv.js';
import { openStore, type Store } from '../../store/index.js';
import { performance } from 'node:perf_hooks';
import { cliEngineConfig } from '../config.js';
import { CliError } from '../errors.js';
import { count, score, seconds, summary } from '../format.js';
import { readInputFile } from '../input-file.js';
import { dataDir as dataDirOf, existingDataDir } from '../options.js';
import { createProgress } from '../progress.js';
import { withScanProgress } from '../store-progress.js';
import { formatTable } from '../table.js';

export interface ChurnEvaluateOptions {
  /** The customer table, CSV with a header line. */
  readonly table: string;
  readonly label: string;
  /** Comma-separated columns to leave out. */
  readonly drop?: string;
  /** A file of 0-based data-row indices to test on; else a stratified 80/20 split. */
  readonly testRows?: string;
  readonly seed: number;
}

/** Runs `work`, prefixing the file's name to what is wrong with its content. */
function naming<T>(path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof CsvError || error instanceof TableInputError) {
      throw new Error(`${path}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** `--drop a,b`: names as written, blanks ignored. */
export function parseColumnList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/** Reads and prepares the table as `attune churn evaluate` does; the benchmark prepares through this too. */
export async function loadChurnTable(options: ChurnEvaluateOptions): Promise<PreparedTable> {
  const text = await readInputFile(options.table);
  let testRows: number[] | undefined;
  if (options.testRows !== undefined) {
    const rowsText = await readInputFile(options.testRows);
    testRows = naming(options.testRows, () => parseRowList(rowsText));
  }
  return naming(options.table, () =>
    prepareTable(parseCsv(text), {
      label: options.label,
      drop: parseColumnList(options.drop),
      seed: options.seed,
      ...(testRows === undefined ? {} : { testRows }),
    }),
  );
}

/**
 * `attune churn evaluate`: trains every churn model on the table's train rows and prints one JSON line per
 * model with its test ROC AUC and log loss and its training time in seconds.
 */
export async function churnEvaluate(
  options: ChurnEvaluateOptions & { readonly json?: boolean },
): Promise<void> {
  const table = await loadChurnTable(options);
  const progress = createProgress();
  const results = [];
  for (const [index, model] of CHURN_MODELS.entries()) {
    progress.update('training models', index, CHURN_MODELS.length, 'models');
    const result = evaluateChurnModel(model, table);
    results.push({ ...result, train_s: Number(result.train_s.toFixed(4)) });
  }
  progress.update('training models', CHURN_MODELS.length, CHURN_MODELS.length, 'models');
  progress.stop();
  if (options.json === true) {
    for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const rows = [
    ['model', 'ROC AUC', 'log loss', 'train'],
    ...results.map((r) => [r.model, score(r.auc), score(r.logloss), seconds(r.train_s)]),
  ];
  const best = [...results].sort((a, b) => b.auc - a.auc)[0]!;
  process.stdout.write(
    [
      `churn models on ${options.table}: ${count(table.train.rows)} train / ${count(table.test.rows)} test rows, ` +
        `${table.features.length} features`,
      '',
      ...formatTable(rows),
      '',
      `best ROC AUC: ${best.model} (${score(best.auc)}); --json for JSON lines`,
      '',
    ].join('\n'),
  );
}

// --- churn from the store's events --------------------------------------------------------------------

/** The options `attune churn train|evaluate|score` share (evaluate without `--table`). */
export interface EventChurnCliOptions {
  readonly dataDir?: string;
  /** The inactivity window in days. */
  readonly window: number;
  /** The evaluation cut (train: the final model's cut); default now − window. */
  readonly cutoff?: string;
  /** Comma-separated event names that count as activity; default any event. */
  readonly events?: string;
  /** The time to treat as now (ISO 8601 or epoch ms); default the system clock. */
  readonly now?: string;
}

export const DEFAULT_CHURN_WINDOW_DAYS = 30;

function storeOptions(options: EventChurnCliOptions): StoreChurnOptions {
  const now = options.now === undefined ? Date.now() : parseTime(options.now, '--now');
  const names = parseColumnList(options.events);
  return {
    now,
    windowMs: options.window * DAY_MS,
    events: names.length === 0 ? null : names,
    ...(options.cutoff === undefined ? {} : { cutoff: parseTime(options.cutoff, '--cutoff') }),
  };
}

async function withStore<T>(
  dataDir: string | undefined,
  readonly: boolean,
  work: (store: Store, set: FeatureSet, consent: ConsentFilter) => Promise<T>,
): Promise<T> {
  const config = cliEngineConfig(existingDataDir(dataDir));
  const store = await openStore(config.storeUrl, { readonly });
  const progress = createProgress();
  try {
    // Users whose consent withholds personalization are neither learnt from nor scored.
    const consent = await ConsentFilter.read(store, config.defaultConsent);
    return await work(await withScanProgress(store, progress), config.features, consent);
  } finally {
    progress.stop();
    await store.close();
  }
}

/**
 * `attune churn evaluate` without `--table`: logistic regression, GBDT and the recency-only baseline
 * fitted one window before the cutoff and judged at it; one JSON line per model.
 */
export async function churnEvaluateEvents(
  options: EventChurnCliOptions & { readonly json?: boolean },
): Promise<void> {
  const { validation } = await withStore(options.dataDir, true, (store, set, consent) =>
    validateStore(store, set, { ...storeOptions(options), consent }),
  );
  const cuts = {
    train_cutoff: validation.train.cutoff,
    eval_cutoff: validation.evaluation.cutoff,
    window_days: validation.evaluation.window_days,
    n_train: validation.train.users,
    n_eval: validation.evaluation.users,
    churn_rate: Number(validation.evaluation.churn_rate.toFixed(4)),
  };
  if (options.json === true) {
    for (const report of validation.reports) process.stdout.write(`${reportLine(report, cuts)}\n`);
    return;
  }
  const rows = [
    ['model', 'ROC AUC', 'PR AUC', 'Brier', 'log loss', 'ECE', 'train'],
    ...validation.reports.map((r) => [
      r.model,
      score(r.auc),
      score(r.pr_auc),
      score(r.brier),
      score(r.logloss),
      score(r.ece),
      seconds(r.train_s),
    ]),
  ];
  process.stdout.write(
    [
      `churn validation: fitted on the cut at ${iso(cuts.train_cutoff)} (${count(cuts.n_train)} users), judged at ` +
        `${iso(cuts.eval_cutoff)} (${count(cuts.n_eval)} users, ${pct(cuts.churn_rate)} churned within ${cuts.window_days} days)`,
      '',
      ...formatTable(rows),
      '',
      'next: attune churn train   (--json for JSON lines)',
      '',
    ].join('\n'),
  );
}

const iso = (time: string | number) => new Date(time).toISOString().slice(0, 10);
const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

/** `attune churn train`: validates, fits the final model and stores it as a new `churn` version. */
export async function churnTrain(
  options: EventChurnCliOptions & { readonly model: ChurnModelChoice; readonly json?: boolean },
): Promise<void> {
  const started = performance.now();
  const { version, data } = await withStore(options.dataDir, false, (store, set, consent) =>
    trainChurn(store, set, { ...storeOptions(options), model: options.model, consent }),
  );
  if (options.json !== true) {
    const chosen = data.evaluation.reports.find((r) => r['model'] === data.model.kind);
    const metric = (name: string) => (typeof chosen?.[name] === 'number' ? chosen[name] : null);
    process.stdout.write(
      summary(`trained churn model version ${version} in ${seconds((performance.now() - started) / 1000)}`, [
        ['model', `${data.model.kind}${options.model === 'auto' ? ' (the better validation ROC AUC)' : ''}`],
        ['validation', chosen ? `ROC AUC ${score(metric('auc'))} · PR AUC ${score(metric('pr_auc'))}` : null],
        [
          'data',
          `${count(data.trainRows)} users at the cut ${iso(data.cutoff)}, ${pct(data.churnRate)} churned ` +
            `within ${data.windowMs / DAY_MS} days`,
        ],
        ['risk bands', `medium from ${score(data.bands.medium)}, high from ${score(data.bands.high)}`],
        [
          'saved',
          `churn version ${version} in ${dataDirOf(options.dataDir)}; a server picks it up on its next poll`,
        ],
        ['next', 'attune churn score --out risk.csv   (or GET /v1/users/:id/churn)'],
      ]),
    );
    return;
  }
  process.stdout.write(
    `${JSON.stringify({
      version,
      model: data.model.kind,
      trained_at: new Date(data.trainedAt).toISOString(),
      cutoff: new Date(data.cutoff).toISOString(),
      window_days: data.windowMs / DAY_MS,
      events: data.events,
      users: data.trainRows,
      churn_rate: Number(data.churnRate.toFixed(4)),
      bands: data.bands,
      evaluation: data.evaluation.reports,
    })}\n`,
  );
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * `attune churn score`: every user with an event before now (or one `--user`) scored with the newest
 * stored model, as CSV (`user_id,probability,risk_band,top_driver`) on stdout or into `--out`.
 */
export async function churnScore(
  options: Pick<EventChurnCliOptions, 'dataDir' | 'now'> & { readonly user?: string; readonly out?: string },
): Promise<void> {
  const now = options.now === undefined ? Date.now() : parseTime(options.now, '--now');
  const scores = await withStore(options.dataDir, true, async (store, set, consent) => {
    const scorer = await loadChurnScorer(store);
    if (scorer === null) {
      throw new CliError('no churn model is trained yet', 'run `attune churn train` first');
    }
    return scoreStore(store, set, scorer, now, options.user, consent);
  });
  if (options.user !== undefined && scores.length === 0) {
    throw new Error(`no user "${options.user}" with events before ${new Date(now).toISOString()}`);
  }
  const lines = ['user_id,probability,risk_band,top_driver'];
  for (const s of scores) {
    lines.push(
      [csvField(s.userId), s.probability.toFixed(6), s.riskBand, csvField(s.drivers[0]?.text ?? '')].join(
        ',',
      ),
    );
  }
  const text = `${lines.join('\n')}\n`;
  if (options.out === undefined) process.stdout.write(text);
  else {
    writeFileSync(options.out, text);
    process.stderr.write(`attune: wrote ${scores.length} scores to ${options.out}\n`);
  }
}
