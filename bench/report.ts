import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED } from './server.js';

type Json = Record<string, unknown>;

interface Recorded {
  readonly measured_at: string;
  readonly lines: Json[];
}

function load(dir: string, name: string): Recorded | null {
  const file = join(dir, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Recorded) : null;
}

function reference(): Map<string, Json> {
  const file = join(SHARED, 'reference/ml-100k.jsonl');
  const rows = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Json)
    : [];
  return new Map(rows.map((row) => [String(row['model']), row]));
}

const num = (value: unknown, digits = 4): string => (typeof value === 'number' ? value.toFixed(digits) : '–');

/** Which reference model each of ours is held against (issue #2: ≥ 0.98 × the counterpart's ndcg@20). */
const COUNTERPART: Record<string, string> = {
  popularity: 'pop',
  pop: 'pop',
  itemknn: 'itemknn',
  als: 'implicit_als',
};

function qualitySection(recorded: Recorded, refs: Map<string, Json>): string[] {
  const out = [
    `## Quality: MovieLens 100K under \`../shared/reference/PROTOCOL.md\` (measured ${recorded.measured_at})`,
    '',
    '| model | recall@20 | ndcg@20 | coverage@20 | train_s | params | reference | ref ndcg@20 | ratio | target ≥ 0.98 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const line of recorded.lines.filter((l) => typeof l['ndcg@20'] === 'number' && l['model'])) {
    const model = String(line['model']);
    const ref = refs.get(COUNTERPART[model] ?? model);
    const ratio = ref ? (line['ndcg@20'] as number) / (ref['ndcg@20'] as number) : NaN;
    out.push(
      `| ${model} | ${num(line['recall@20'])} | ${num(line['ndcg@20'])} | ${num(line['coverage@20'])} | ${num(line['train_s'], 3)} | \`${JSON.stringify(line['params'])}\` | ${ref ? String(ref['model']) : '–'} | ${num(ref?.['ndcg@20'])} | ${Number.isNaN(ratio) ? '–' : ratio.toFixed(3)} | ${Number.isNaN(ratio) ? '–' : ratio >= 0.98 ? 'met' : '**not met**'} |`,
    );
  }
  out.push(
    '',
    'All reference rows, for comparison:',
    '',
    '| reference | recall@20 | ndcg@20 | coverage@20 | train_s |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const ref of refs.values()) {
    out.push(
      `| ${String(ref['model'])} | ${num(ref['recall@20'])} | ${num(ref['ndcg@20'])} | ${num(ref['coverage@20'])} | ${num(ref['train_s'], 3)} |`,
    );
  }
  return out;
}

function simpleSection(title: string, recorded: Recorded, rows: [string, unknown, string][]): string[] {
  return [
    `## ${title} (measured ${recorded.measured_at})`,
    '',
    '| measure | value | target / reference |',
    '| --- | --- | --- |',
    ...rows.map(
      ([label, value, target]) =>
        `| ${label} | ${
          typeof value === 'number'
            ? String(Number(value.toPrecision(4)))
            : typeof value === 'string'
              ? value
              : '–'
        } | ${target} |`,
    ),
    '',
    '```json',
    JSON.stringify(recorded.lines[0] ?? null),
    '```',
  ];
}

/** Renders `bench/RESULTS.md` from the kept benchmark results; only what was measured is shown. */
/** Diversity and freshness settings side by side, against the plain list (`bench/diversity.ts`). */
/** The serve bench's side-by-side build, when it measured one (`ATTUNE_BENCH_BASELINE_CLI`). */
function baselineRows(line: Json): [string, unknown, string][] {
  const baseline = line['baseline'] as Json | undefined;
  if (baseline === undefined) return [];
  const rules = baseline['with_rules'] as Json | undefined;
  const paired = line['paired'] as Json | undefined;
  const difference = (key: string): string => {
    const comparison = paired?.[key] as Json | undefined;
    const pairs = comparison?.['pairs'];
    if (!Array.isArray(pairs)) return '';
    const each = pairs.map((pair) => num((pair as Json)['p99_difference_ms'], 2)).join(', ');
    return `${num(comparison?.['median_p99_difference_ms'], 2)} (pairs: ${each})`;
  };
  return [
    [
      paired === undefined
        ? 'baseline build, measured the same way right after'
        : 'baseline build, served beside this one, runs alternating',
      String(baseline['cli']),
      '',
    ],
    [
      'baseline median p99 / p50 / p99.9 (ms)',
      `${num(baseline['median_p99_ms'], 2)} / ${num(baseline['median_p50_ms'], 2)} / ${num(baseline['median_p999_ms'], 2)}`,
      '',
    ],
    ['baseline with rules: median p99 (ms)', rules?.['median_p99_ms'], ''],
    ['baseline median server RSS (MB)', baseline['median_rss_mb'], ''],
    ['p99 this build − baseline, run by run, median (ms)', difference('plain'), 'no regression (≤ 0)'],
    ['the same with rules and diversity (ms)', difference('with_rules'), 'no regression (≤ 0)'],
    [
      'two experiments running − baseline plain beside (ms)',
      difference('with_two_experiments_vs_baseline_plain'),
      '',
    ],
  ];
}

/** " (bootstrap SE 0.0011; trees below in 72% of 200 resamples)" from churn-events' summary, or nothing. */
function bootstrapNote(bootstrap: Json | undefined): string {
  if (bootstrap === undefined) return '';
  const below = Math.round(100 * Number(bootstrap['share_gbdt_below_logreg']));
  return ` (bootstrap SE of the gap ${num(bootstrap['gbdt_minus_logreg_se'])}; trees below in ${below}% of ${String(bootstrap['rounds'])} resamples of the evaluation users)`;
}

/** Each run's p99 with the CPU share the hypervisor took during it, e.g. "4.10 (st 2.1%)". */
function runsWithSteal(part: Json | undefined): string {
  const runs = part?.['runs'];
  if (!Array.isArray(runs)) return '';
  return runs
    .map((run) => {
      const r = run as Json;
      return r['stealPct'] === undefined
        ? num(r['p99Ms'], 2)
        : `${num(r['p99Ms'], 2)} (st ${String(r['stealPct'])}%)`;
    })
    .join(', ');
}

function paritySection(recorded: Recorded): string[] {
  const out = [
    `## Online–offline parity: served lists against evaluation, MovieLens 100K train split (measured ${recorded.measured_at})`,
    '',
    "The protocol's train split imported with `attune import`, trained with `attune train`, and the top 20 asked of",
    '`attune serve` for all 943 users (`bench/parity.ts`). "Identical" compares each served list with the evaluation',
    "harness's ranking of the same bundle model over the same training matrix. The ndcg@20 columns score on the",
    "protocol's test split: the served lists, and `attune evaluate --choice` for the model `GET /v1/models` says",
    'serves (the protocol fitting that choice itself: every pair weighs 1, ids in protocol order).',
    '',
    '| engine | serves | identical lists | unexplained differences | served ndcg@20 | evaluate --choice ndcg@20 | served vs evaluate | target |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const line of recorded.lines) {
    const chosen = line['chosen'] as Json | undefined;
    const served = line['served'] as Json | undefined;
    const evaluated = line['evaluate_choice'] as Json | undefined;
    const gap = Number(line['served_vs_evaluate_ndcg']);
    const isDefault = String(line['engine']).startsWith('default');
    out.push(
      `| ${String(line['engine'])} | ${String(chosen?.['model'])} | ${String(line['identical_lists'])} / ${String(
        line['users'],
      )} | ${String(line['differing_unexplained'])} | ${num(served?.['ndcg'])} | ${num(evaluated?.['ndcg'])} | ` +
        `${(gap * 100).toFixed(1)}% | ${isDefault ? `within 2%: ${Math.abs(gap) <= 0.02 ? 'met' : '**not met**'}` : 'identical ≥ 99%'} |`,
    );
  }
  out.push(
    '',
    'Fixed models score below `evaluate --choice` by the feedback weight alone: a `rated` event weighs 3 in the',
    'engine (an opinion, between a click and a cart) and 1 under the protocol, and neither ALS (confidence 1 + α·w)',
    'nor EASE (λ against the Gram matrix) is scale-free. With `rated` weighing 1 (`ATTUNE_FEEDBACK_FILE`) EASE',
    'serves exactly what the protocol measures; ALS stays a little apart because the engine indexes users and',
    'items in arrival order and the protocol in id order, which seeds its factors differently.',
  );
  return out;
}

function diversitySection(recorded: Recorded): string[] {
  const capOf = (line: Json): number =>
    typeof line['max_per_category'] === 'number' ? line['max_per_category'] : 0;
  const base = recorded.lines.find(
    (line) => line['diversity'] === 0 && line['freshness'] === 0 && capOf(line) === 0,
  );
  const baseNdcg = typeof base?.['ndcg@20'] === 'number' ? base['ndcg@20'] : NaN;
  const out = [
    `## Diversity and freshness: ALS top-20 on MovieLens 100K, genres as categories (measured ${recorded.measured_at})`,
    '',
    '| diversity | freshness | ndcg@20 | vs off | ild@20 (genre dissimilarity) | coverage@20 | largest same-genre share | re-rank ms / list |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const ratioOf = (ndcg: unknown): string =>
    typeof ndcg === 'number' ? `${((ndcg / baseNdcg - 1) * 100).toFixed(1)}%` : '–';
  for (const line of recorded.lines.filter((l) => capOf(l) === 0)) {
    const ndcg = line['ndcg@20'];
    out.push(
      `| ${String(line['diversity'])} | ${String(line['freshness'])} | ${num(ndcg)} | ${ratioOf(ndcg)} | ` +
        `${num(line['ild@20'])} | ${num(line['coverage@20'])} | ${num(line['max_same_first_genre'], 2)} / 20 | ` +
        `${num(line['rerank_ms_per_list'], 3)} |`,
    );
  }
  const capped = recorded.lines.filter((l) => capOf(l) > 0);
  if (capped.length > 0) {
    out.push(
      '',
      'Per-category caps (`max_per_category`, no MMR; a movie counts toward each of its genres; when the pool has',
      'too few candidates within the cap, the list is filled from the best remaining ones, so a tight cap can be',
      'exceeded):',
      '',
      '| max_per_category | ndcg@20 | vs off | ild@20 | coverage@20 | largest genre count (mean) | re-rank ms / list |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const line of capped) {
      const ndcg = line['ndcg@20'];
      out.push(
        `| ${capOf(line)} | ${num(ndcg)} | ${ratioOf(ndcg)} | ${num(line['ild@20'])} | ` +
          `${num(line['coverage@20'])} | ${num(line['max_genre_count'], 2)} / 20 | ${num(line['rerank_ms_per_list'], 3)} |`,
      );
    }
  }
  return out;
}

/** `bench/auto.ts`: the `--auto` line and its comparison with the best reference row. */
/** A benchmark whose output is one rich JSON object: a heading, the key figures, and the object itself. */
function rawSection(title: string, recorded: Recorded, figures: [string, unknown][]): string[] {
  return [
    `## ${title} (measured ${recorded.measured_at})`,
    '',
    ...figures.map(
      ([label, value]) =>
        `- ${label}: ${typeof value === 'number' ? String(Number(value.toPrecision(4))) : JSON.stringify(value)}`,
    ),
    '',
    '<details><summary>raw output</summary>',
    '',
    '```json',
    ...recorded.lines.map((line) => JSON.stringify(line)),
    '```',
    '',
    '</details>',
  ];
}

function pick(value: unknown, ...path: (string | number)[]): unknown {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
}

/** A selection's choice (`chosen`: a model and its params, or a blend of them) as one line of text. */
function recipeText(chosen: Json | undefined): string {
  const components = ((chosen?.['params'] as Json | undefined)?.['components'] as Json[] | undefined) ?? [];
  return components.length > 0
    ? components
        .map((c) => `${String(c['model'])}${recencyNote(c['params'])} × ${String(c['weight'])}`)
        .join(' + ')
    : `${String(chosen?.['model'])}${recencyNote(chosen?.['params'])}`;
}

function autoSection(recorded: Recorded): string[] {
  const line = recorded.lines.find((l) => l['model'] === 'auto');
  const cmp = recorded.lines.find((l) => l['comparison'] !== undefined);
  if (!line || !cmp) return [];
  const recipe = recipeText(line['chosen'] as Json | undefined);
  const load = cmp['load_avg_1m'] as Json | undefined;
  const ablation = cmp['without_recency'] as Json | undefined;
  return [
    `## Model selection: \`attune evaluate --auto\` on MovieLens 100K (measured ${recorded.measured_at})`,
    '',
    `Chosen on validation ndcg@20 (${num(line['val_ndcg@20'])}): ${recipe}. The test split is read once, after`,
    'selection and the final refit on the whole train split. "recency h" reads the user\'s history with the k-th',
    'newest interaction weighted 2^(-k/h) (`src/models/recency.ts`); h is tuned on validation with the rest.',
    '',
    '| | measured | target |',
    '| --- | --- | --- |',
    `| ndcg@20 | ${num(cmp['ndcg@20'])} (${num(cmp['ndcg_ratio'], 3)} × ${String(cmp['reference_model'])}) | ` +
      `≥ ${num(cmp['ndcg_target'])} (1.05 × ${num(cmp['reference_ndcg@20'])}) |`,
    `| coverage@20 | ${num(cmp['coverage@20'])} | ≥ ${num(cmp['reference_coverage@20'])} |`,
    `| recall@20 | ${num(line['recall@20'])} | |`,
    `| wall seconds (whole run) | ${num(cmp['wall_s'], 1)} | < 180 s |`,
    `| tuning / final fit seconds | ${num(line['tune_s'], 1)} / ${num(line['train_s'], 1)} | |`,
    `| 1-minute load average (before / after) | ${num(load?.['before'], 2)} / ${num(load?.['after'], 2)} | |`,
    ...(ablation
      ? [
          `| ablation, recency weighting off: ndcg@20 / coverage@20 | ${num(ablation['ndcg@20'])} / ` +
            `${num(ablation['coverage@20'])} | (blending and tuning alone) |`,
        ]
      : []),
  ];
}

/** `bench/generalize.ts`: `--auto` against the libraries' rows on the two simulated data sets. */
function generalizeSection(recorded: Recorded): string[] {
  const out = [
    `## Generalization: \`attune evaluate --auto\` on simulated data sets (measured ${recorded.measured_at})`,
    '',
    'Seeded simulations in the MovieLens CSV layout, shaped before any model ran on them (`bench/generalize.ts`):',
    'issue #3 judges `--auto` on data we do not have (other domains, sparser, 150,000 interactions over 9,000',
    "items): it must beat the libraries' models and finish within 15 minutes. Library rows are the protocol's",
    'tuned counterparts (`attune evaluate --models popularity,itemknn,ease,als,hybrid`).',
    '',
    '| data set | users × items, interactions asked (in the file) | best library (ndcg@20) | `--auto` ndcg@20 | ratio | coverage@20 library / auto | `--auto` wall s | chosen |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const line of recorded.lines) {
    const data = line['data'] as Json;
    const libraries = (line['libraries'] as Json[] | undefined) ?? [];
    const best = libraries.find((row) => row['model'] === line['best_library']);
    const auto = line['auto'] as Json;
    const chosen = auto['chosen'] as Json | undefined;
    const components = (pick(chosen, 'params', 'components') as Json[] | undefined) ?? [];
    const recipe =
      components.length > 0
        ? components.map((c) => `${String(c['model'])}${recencyNote(c['params'])}`).join(' + ')
        : `${String(chosen?.['model'])}${recencyNote(chosen?.['params'])}`;
    out.push(
      `| ${String(data['name'])} | ${String(data['users'])} × ${String(data['items'])}, ${String(
        data['interactions'],
      )}${line['interactions'] === undefined ? '' : ` (${String(line['interactions'])})`} | ${String(line['best_library'])} (${num(best?.['ndcg@20'])}) | ${num(auto['ndcg@20'])} | ${num(
        line['ndcg_ratio'],
        3,
      )} × | ${num(best?.['coverage@20'])} / ${num(auto['coverage@20'])} | ${num(line['auto_wall_s'], 1)} | ${recipe} |`,
    );
  }
  return out;
}

const recencyNote = (params: unknown): string => {
  const recency = pick(params, 'recency');
  return typeof recency === 'number' ? ` (recency ${recency})` : '';
};

/** `bench/stats.ts`: `attune stats --json` against the reference fixtures, per case and in sum. */
function statsSection(recorded: Recorded): string[] {
  const cases = recorded.lines.filter((line) => line['bench'] === 'stats' && line['summary'] !== true);
  const total = recorded.lines.find((line) => line['bench'] === 'stats' && line['summary'] === true);
  const mismatchCount = (line: Json): number =>
    Array.isArray(line['mismatches']) ? line['mismatches'].length : 0;
  const relative = (value: unknown): string => (typeof value === 'number' ? value.toExponential(1) : '–');
  const out = [
    `## Experiment statistics: \`attune stats\` against \`../shared/reference/stats/\` (measured ${recorded.measured_at})`,
    '',
    "Every number of each fixture's expected JSON (numpy/scipy) under `variants`, `comparisons`, `srm`,",
    '`corrections`, `cuped` and `unadjusted_comparisons`, compared as its README says: integers exactly, the rest',
    "within 1e-6 relative. The fixtures' own `t_crit` (scipy `t.ppf`) is good to about 5e-10, which is the",
    'largest difference expected here. CLI time is process start to exit (median of three runs), most of it',
    "Node starting the CLI's modules.",
    '',
    '| case | kind | users | fields compared | mismatches | max relative error | worst field | CLI ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...cases.map(
      (line) =>
        `| ${String(line['case'])} | ${String(line['kind'])} | ${String(line['rows'])} | ${String(line['fields_compared'])} | ` +
        `${mismatchCount(line)} | ${relative(line['max_rel_error'])} | ${String(line['worst_field'] ?? '–')} | ${num(line['cli_ms'], 0)} |`,
    ),
  ];
  if (total !== undefined) {
    const mismatches = Number(total['mismatches']);
    out.push(
      '',
      `${String(total['cases'])} cases, ${String(total['fields_compared'])} fields compared, ${mismatches} mismatches ` +
        `(target 0: ${mismatches === 0 ? 'met' : '**not met**'}); largest relative error ${relative(total['max_rel_error'])} ` +
        `(${String(total['worst_field'])}); CLI median ${num(total['cli_ms_median'], 0)} ms.`,
    );
  }
  return out;
}

/** `bench/experiment-calibration.ts`: the experiment statistics' calibration by simulation, target by target. */
function calibrationSection(recorded: Recorded): string[] {
  const part = (name: string): Json | undefined =>
    recorded.lines.find((line) => line['bench'] === 'experiment-calibration' && line['part'] === name);
  const results = (line: Json | undefined): Json[] => (line?.['results'] as Json[] | undefined) ?? [];
  const verdict = (ok: unknown): string => (ok === true ? 'met' : ok === false ? '**not met**' : '–');
  const interval = (value: unknown): string =>
    Array.isArray(value) ? `[${value.map((bound) => num(bound, 3)).join(', ')}]` : '–';
  const rate = (line: Json | undefined, count: unknown): string =>
    `${num(line?.['fpr'])} (${String(line?.['rejections'])} / ${String(count)}; 95% ${interval(line?.['fpr_ci95'])})`;
  const row = (target: string, expected: string, measured: string, ok: unknown): string =>
    `| ${target} | ${expected} | ${measured} | ${verdict(ok)} |`;

  const aa = part('aa');
  // The pooled rate, then each replication's (runs before replications existed have none).
  const replicated = (line: Json): string => {
    const each = line['replication_fprs'];
    if (!Array.isArray(each)) return rate(line, line['tests']);
    return (
      `${rate(line, line['tests'])}; ${each.length} replications of ${String(aa?.['tests_per_replication'])}: ` +
      `${each.map((value) => num(value)).join(', ')} (${String(line['replications_in_band'])} in the band)`
    );
  };
  const aaRows = results(aa).map((line) =>
    row(
      `A/A at α = 0.05, ${String(aa?.['users_per_arm'])} users/arm: ${String(line['test'])}`,
      String(line['target']).replace('fpr ', 'FPR ').replace('<=', '≤'),
      replicated(line),
      line['ok'],
    ),
  );
  const peeking = part('peeking');
  const peek = (key: string): Json | undefined => peeking?.[key] as Json | undefined;
  const looks = `${String(peeking?.['days'])} daily looks, ${String(peeking?.['users_per_arm_per_day'])} users/arm/day`;
  const peekingRows =
    peeking === undefined
      ? []
      : [
          row(
            `${looks}: confidence sequence, any look`,
            'FPR ≤ 0.05',
            rate(peek('sequential_any_look'), peeking['experiments']),
            peek('sequential_any_look')?.['ok'],
          ),
          row(
            `${looks}: Welch t, any look`,
            'FPR > 0.05 (inflates)',
            rate(peek('welch_any_look'), peeking['experiments']),
            peek('welch_any_look')?.['ok'],
          ),
          row(
            'same experiments, Welch t at day 30 only',
            '≈ 0.05 (contrast)',
            rate(peek('welch_day_30_only'), peeking['experiments']),
            undefined,
          ),
        ];
  const powerRows = results(part('power')).map((line) =>
    row(
      `power, planted lift: ${String(line['test'])} (${num(line['control_mean'])} → ${num(line['treatment_mean'])}, ${String(line['users_per_arm'])} users/arm)`,
      `${num(line['predicted_power'], 3)} ± 0.03 (computed in advance)`,
      `${num(line['observed_power'], 3)} (${String(line['detections'])} / ${String(line['experiments'])}; 95% ${interval(line['observed_ci95'])})`,
      line['ok'],
    ),
  );
  const shop = part('cuped_shop');
  const cupedRows = results(shop).map((line) =>
    row(
      `CUPED width factor, demo shop: ${String(line['metric'])} (ρ = ${num(line['rho'], 3)})`,
      `√(1 − ρ²) = ${num(line['predicted_factor'])} ± 5%`,
      `median ${num(line['observed_factor_median'])} over ${String(line['splits'])} splits (5–95%: ${interval(line['observed_factor_p05_p95'])})`,
      line['ok'],
    ),
  );
  return [
    `## Experiment statistics: calibration by simulation (measured ${recorded.measured_at})`,
    '',
    '`bench/experiment-calibration.ts`, seeded simulations: A/A tests of each test type through `analyzeExperiment`',
    '(revenue per user: 10% buyers, log-normal order values; conversion 8%; CUPED on Poisson activity, ρ ≈ 0.6;',
    'clicks / impressions by the delta method; SRM at 50/50 and 50/25/25). A single look of the confidence sequence',
    'is conservative by design (it covers every sample size at once) and is held to ≤ 0.05 only. With 2,000 tests',
    "a rate's Monte Carlo standard error is about 0.005, so the [0.04, 0.06] band is ± 2 standard errors: a",
    'calibrated test lands outside it about one time in twenty-five. The CUPED rows split the demo shop (first half',
    'of the period as covariate, second half as outcome); θ is fitted on the same users ρ is measured on, so that',
    'target is met almost by construction and checks that the adjustment is applied as fitted.',
    '',
    '| target | expected | measured | |',
    '| --- | --- | --- | --- |',
    ...aaRows,
    ...peekingRows,
    ...powerRows,
    ...cupedRows,
  ];
}

/** `bench/simulate.ts`: coverage of the planted truth over seeded `attune simulate` runs, and the holdout. */
function simulateSection(recorded: Recorded): string[] {
  const summary = recorded.lines.find((line) => line['bench'] === 'simulate');
  if (summary === undefined) return [];
  const runs = Number(summary['runs']);
  const pct = (x: unknown) => (typeof x === 'number' ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%` : '–');
  const coverage = (summary['coverage'] as Json[] | undefined) ?? [];
  const holdout = (summary['holdout'] as Json[] | undefined) ?? [];
  return [
    `### End to end: \`attune simulate\`, ${runs} seeded runs (\`bench/simulate.ts\`, measured ${recorded.measured_at.slice(0, 10)})`,
    '',
    `${String(summary['users'])} demo-shop shoppers over ${String(summary['days'])} simulated days per run through the HTTP API ` +
      `(median ${String(summary['median_visits'])} visits, ${String(summary['median_exposed'])} users exposed to the experiment; ` +
      `sample ratio OK in ${String(summary['sample_ratio_ok'])} of ${runs}). The checkout-upsell experiment's true effect is planted.`,
    '',
    '| metric | true lift | runs whose 95% interval covers it | target | median reported lift | met |',
    '| --- | --- | --- | --- | --- | --- |',
    ...coverage.map(
      (c) =>
        `| ${String(c['metric'])} | ${pct(c['true_lift'])} | ${String(c['covered'])} of ${String(c['runs_with_interval'])} | ≥ ${Math.ceil(0.93 * runs)} of ${runs} | ${pct(c['median_rel_lift'])} | ${c['ok'] === true ? 'met' : '**not met**'} |`,
    ),
    '',
    '| personalization vs the global holdout | runs positive and significant (always-valid) | median lift |',
    '| --- | --- | --- |',
    ...holdout.map(
      (h) =>
        `| ${String(h['metric'])} | ${String(h['positive_significant'])} of ${String(h['runs'])} | ${pct(h['median_rel_lift'])} |`,
    ),
  ];
}

export function renderResults(dir: string): string {
  const names = new Set(readdirSync(dir).map((file) => file.replace(/\.json$/, '')));
  const refs = reference();
  const out = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (`bench/run-all.ts`) from the JSON each benchmark printed; the raw output is in',
    "`bench/results/`. Measured on this project's machine kind (2 cores, 24 GiB, Node 20); reference numbers",
    'come from `../shared/reference/`, measured on the same kind of machine. Medians over the runs listed.',
    '',
  ];
  const quality = names.has('quality') ? load(dir, 'quality') : null;
  if (quality) out.push(...qualitySection(quality, refs), '');
  const parity = names.has('parity') ? load(dir, 'parity') : null;
  if (parity && parity.lines.length > 0) out.push(...paritySection(parity), '');
  const als = names.has('train-als') ? load(dir, 'train-als') : null;
  const alsLine = als?.lines[0];
  if (als && alsLine) {
    out.push(
      ...simpleSection('Training ALS on MovieLens 100K (64 factors, 15 iterations)', als, [
        [
          'median seconds',
          alsLine['median_s'],
          `< ${refs.get('ials')?.['train_s'] ?? 1.752} s (numpy ials) and ≤ 4 × ${refs.get('implicit_als')?.['train_s'] ?? 0.159} s (implicit, C++)`,
        ],
      ]),
      '',
    );
  }
  const ease = names.has('ease') ? load(dir, 'ease') : null;
  const easeLine = ease?.lines[0];
  if (ease && easeLine) {
    out.push(
      ...simpleSection('Fitting EASE (λ = 200) and RP3beta', ease, [
        ['EASE, MovieLens 100K train split, median s', easeLine['ml100k_fit_s'], '< 3 s'],
        ['EASE, synthetic 10,000 items, s', easeLine['synthetic_10k_fit_s'], '< 120 s'],
        [
          'EASE, synthetic 10,000 items, CPU s (both threads)',
          easeLine['synthetic_10k_cpu_s'],
          'wall ≈ CPU / 2 when idle',
        ],
        ['RP3beta, MovieLens 100K train split, median s', easeLine['rp3beta_ml100k_fit_s'], '< 1 s'],
      ]),
      '',
    );
  }
  const auto = names.has('auto') ? load(dir, 'auto') : null;
  if (auto) out.push(...autoSection(auto), '');
  const generalize = names.has('generalize') ? load(dir, 'generalize') : null;
  if (generalize && generalize.lines.length > 0) out.push(...generalizeSection(generalize), '');
  const diversity = names.has('diversity') ? load(dir, 'diversity') : null;
  if (diversity && diversity.lines.length > 0) out.push(...diversitySection(diversity), '');
  const session = names.has('session') ? load(dir, 'session') : null;
  if (session && session.lines[0]) {
    const test = pick(session.lines[0], 'results', 0, 'test');
    out.push(
      ...rawSection(
        'Session-aware re-scoring: next-view prediction in the demo shop (exclude_seen on)',
        session,
        [
          ['test queries', pick(test, 'model_only', 'queries')],
          ['hit@10, trained model alone', pick(test, 'model_only', 'hit@10')],
          ['hit@10, with the session stage', pick(test, 'with_session', 'hit@10')],
          ['MRR@10, trained model alone', pick(test, 'model_only', 'mrr@10')],
          ['MRR@10, with the session stage', pick(test, 'with_session', 'mrr@10')],
          [
            'settings chosen on the validation slice',
            pick(session.lines[0], 'results', 0, 'chosen_on_validation'),
          ],
        ],
      ),
      '',
    );
  }
  const cold = names.has('cold-start') ? load(dir, 'cold-start') : null;
  if (cold && cold.lines.length > 0) {
    // One figure per experiment line: the headline (genres / demographics only) and any feature variants.
    const figures: [string, unknown][] = [
      ['targets', 'cold items ≥ 3 × popularity-within-genre; cold users ≥ 1.5 × popularity'],
    ];
    for (const line of cold.lines) {
      const extra = Object.entries((line['features'] as Record<string, boolean> | undefined) ?? {})
        .filter(([, on]) => on)
        .map(([name]) => name);
      const label = `seed ${String(line['seed'])}, ${extra.length === 0 ? 'genres / demographics' : `+ ${extra.join(', ')}`}`;
      if (line['bench'] === 'cold-start-items') {
        figures.push([
          `cold items (${label}): recall@20 hybrid / best genre-popularity baseline = ratio; ceiling`,
          `${String(pick(line, 'all', 'hybrid'))} / ${String(
            Math.max(
              Number(pick(line, 'all', 'genrePopularityMean')),
              Number(pick(line, 'all', 'genrePopularityMax')),
            ),
          )} = ${String(pick(line, 'all', 'ratio'))}×; a ranking shared by all users tops out at ${String(
            pick(line, 'all', 'oraclePopularity'),
          )}${
            pick(line, 'all', 'genreYearPopularity') === undefined
              ? ''
              : `; baselines that know the release year: year ${String(
                  pick(line, 'all', 'yearPopularity'),
                )}, genre × year ${String(pick(line, 'all', 'genreYearPopularity'))}`
          }; fit ${String(line['fitSeconds'])} s`,
        ]);
        const warm = line['warmCeilingProtocolTest'];
        const warmAll = line['warmCeilingAll'];
        if (warm !== undefined && warmAll !== undefined) {
          figures.push([
            `cold items (${label}): ceilings from EASE that saw the cold items' interactions (by other users ` +
              'for the headline test, 10 folds of users; its own train part for the protocol test part)',
            `headline ${String(pick(warmAll, 'easeSeenItemsByOthers'))} = ${String(pick(warmAll, 'ratio'))}× ` +
              `the genre baseline; protocol test part ${String(pick(warm, 'easeSeenItems'))} = ` +
              `${String(pick(warm, 'ratio'))}× (hybrid there: ${String(pick(line, 'protocolTest', 'ratio'))}×)`,
          ]);
        }
      } else if (line['bench'] === 'cold-start-users') {
        figures.push([
          `cold users (${label}): recall@20 hybrid / popularity = ratio; ceiling`,
          `${String(line['hybrid'])} / ${String(line['popularity'])} = ${String(line['ratio'])}×; a ranking shared by all users tops out at ${String(
            line['oraclePopularity'],
          )}; fit ${String(line['fitSeconds'])} s`,
        ]);
      }
    }
    // Per cold set (seed): the better of the two feature variants, against the target and the ceiling.
    const seeds = [...new Set(cold.lines.map((l) => Number(l['seed'])))];
    const bestOf = (bench: string, seed: number, ratio: (line: Json) => unknown): number =>
      Math.max(
        ...cold.lines.filter((l) => l['bench'] === bench && l['seed'] === seed).map((l) => Number(ratio(l))),
      );
    figures.push([
      'targets met (per cold set: the better feature variant, and the warm ceiling for cold items)',
      seeds
        .map((seed) => {
          const items = bestOf('cold-start-items', seed, (l) => pick(l, 'all', 'ratio'));
          const ceiling = bestOf('cold-start-items', seed, (l) => pick(l, 'warmCeilingAll', 'ratio'));
          const users = bestOf('cold-start-users', seed, (l) => l['ratio']);
          return (
            `seed ${seed}: cold items ${items >= 3 ? 'yes' : 'no'} (${items}× of 3×; ceiling ${ceiling}×), ` +
            `cold users ${users >= 1.5 ? 'yes' : 'no'} (${users}× of 1.5×)`
          );
        })
        .join('; '),
    ]);
    out.push(
      ...rawSection('Cold start on MovieLens 100K: hybrid model vs popularity baselines', cold, figures),
      '',
    );
  }
  const ingest = names.has('ingest') ? load(dir, 'ingest') : null;
  const ingestLine = ingest?.lines[0];
  if (ingest && ingestLine) {
    out.push(
      ...simpleSection(
        'Ingestion: POST /v1/events, batches of 500, durable (WAL, synchronous=FULL)',
        ingest,
        [
          [
            'median events acknowledged / s (empty store at the start)',
            ingestLine['median_events_per_s'],
            '≥ 30,000',
          ],
          ['median request p99 (ms)', ingestLine['median_p99_ms'], ''],
          ...((): [string, unknown, string][] => {
            const prefilled = ingestLine['prefilled'] as Json | undefined;
            return prefilled === undefined
              ? []
              : [
                  [
                    `the same with ${Number(prefilled['events_before']).toLocaleString('en-US')} events stored before: median events / s`,
                    prefilled['median_events_per_s'],
                    '',
                  ],
                  ['with them: median request p99 (ms)', prefilled['median_p99_ms'], ''],
                ];
          })(),
          ...((): [string, unknown, string][] => {
            const baseline = ingestLine['baseline'] as Json | undefined;
            return baseline === undefined
              ? []
              : [
                  ['baseline build, measured the same way right after', String(baseline['cli']), ''],
                  ['baseline median events / s', baseline['median_events_per_s'], ''],
                ];
          })(),
        ],
      ),
      '',
    );
  }
  const userState = names.has('user-state') ? load(dir, 'user-state') : null;
  const stateLine = userState?.lines[0];
  if (userState && stateLine) {
    out.push(
      ...simpleSection(
        "Serving's user state: whole histories in memory (`recommendations/user-history.ts`)",
        userState,
        [
          [
            'users × items each',
            `${String(stateLine['users'])} × ${String(stateLine['items_per_user'])}`,
            '',
          ],
          ['bytes per user (measured: heap + array buffers, after GC)', stateLine['bytes_per_user'], ''],
          [
            'GiB per million users × 100 items',
            stateLine['gib_per_million_users'],
            'compact: typed arrays, no events',
          ],
          ['bytes per item in the arrays', stateLine['bytes_per_item'], ''],
          ['µs to build one user from the store totals', stateLine['read_from_totals_us_per_user'], ''],
          ['µs to fold one new event into a cached user', stateLine['update_one_event_us'], ''],
        ],
      ),
      '',
    );
  }
  const serve = names.has('serve') ? load(dir, 'serve') : null;
  const serveLine = serve?.lines[0];
  if (serve && serveLine) {
    out.push(
      ...simpleSection('Serving: GET /v1/recommendations at 1,000 requests/s, MovieLens 100K model', serve, [
        ['served', String(serveLine['model']), ''],
        ['median p99 (ms)', serveLine['median_p99_ms'], '≤ 10 ms'],
        ['median p50 (ms)', serveLine['median_p50_ms'], ''],
        ['median server RSS (MB)', serveLine['median_rss_mb'], '< 300 MB'],
        [
          'with rules and diversity: median p99 (ms)',
          (serveLine['with_rules'] as Json | undefined)?.['median_p99_ms'],
          '≤ 10 ms',
        ],
        [
          'with rules and diversity: median p50 (ms)',
          (serveLine['with_rules'] as Json | undefined)?.['median_p50_ms'],
          '',
        ],
        ['median p99.9 (ms)', serveLine['median_p999_ms'], ''],
        [
          'with two experiments running (two layers, 5% holdout): median p99 (ms)',
          (serveLine['with_two_experiments'] as Json | undefined)?.['median_p99_ms'],
          '≤ 5 ms',
        ],
        [
          'with two experiments running: median p50 (ms)',
          (serveLine['with_two_experiments'] as Json | undefined)?.['median_p50_ms'],
          '',
        ],
        ['p99 of each run (ms), with the CPU steal during it', runsWithSteal(serveLine), ''],
        [
          'with rules and diversity: each run',
          runsWithSteal(serveLine['with_rules'] as Json | undefined),
          '',
        ],
        [
          'with two experiments: each run',
          runsWithSteal(serveLine['with_two_experiments'] as Json | undefined),
          '',
        ],
        ...baselineRows(serveLine),
      ]),
      '',
    );
  }
  // The serve bench with this build's re-ranker (`ATTUNE_BENCH_ENV=ATTUNE_RERANK=always`: kept whatever
  // validation says, so that its cost is measured) beside a copy of the same training served without it
  // (`ATTUNE_BENCH_BASELINE_ENV=ATTUNE_RERANK=off`), runs alternating, both computing every list (result
  // cache off).
  const rerankServe = names.has('serve-rerank') ? load(dir, 'serve-rerank') : null;
  const rerankLine = rerankServe?.lines[0];
  if (rerankServe && rerankLine) {
    const off = rerankLine['baseline'] as Json | undefined;
    const paired = rerankLine['paired'] as Json | undefined;
    const part = (line: Json | undefined, key: string, field: string) =>
      (line?.[key] as Json | undefined)?.[field];
    const pairs = (key: string): string => {
      const comparison = paired?.[key] as Json | undefined;
      const each = comparison?.['pairs'];
      if (!Array.isArray(each)) return '';
      const list = each.map((pair) => num((pair as Json)['p99_difference_ms'], 2)).join(', ');
      return `${num(comparison?.['median_p99_difference_ms'], 2)} (pairs: ${list})`;
    };
    out.push(
      ...simpleSection(
        'Serving with and without the re-ranker (the top 100, as deep as it learnt), MovieLens 100K model, 1,000 requests/s, every list computed (result cache off)',
        rerankServe,
        [
          ['served', String(rerankLine['model']), ''],
          [
            'did the trained version re-rank? (GET /v1/models serving.reranking)',
            rerankingVerdict(rerankLine['reranking']),
            'must be yes for the rows below to measure the re-ranker',
          ],
          [
            "selection's choice with / without the re-ranker the same (one training, served twice)",
            String(JSON.stringify(rerankLine['chosen']) === JSON.stringify(off?.['chosen'])),
            'true since 2026-12-07',
          ],
          [
            'with the re-ranker: median p99 / p50 (ms)',
            `${num(rerankLine['median_p99_ms'], 2)} / ${num(rerankLine['median_p50_ms'], 2)}`,
            '',
          ],
          [
            'without (ATTUNE_RERANK=off): median p99 / p50 (ms)',
            `${num(off?.['median_p99_ms'], 2)} / ${num(off?.['median_p50_ms'], 2)}`,
            '',
          ],
          ['p99 with − without, run by run, median (ms)', pairs('plain'), '< 2 ms'],
          ['the same with rules and diversity (ms)', pairs('with_rules'), '< 2 ms'],
          [
            'with rules: median p99 with / without (ms)',
            `${num(part(rerankLine, 'with_rules', 'median_p99_ms'), 2)} / ${num(part(off, 'with_rules', 'median_p99_ms'), 2)}`,
            '',
          ],
          [
            "the re-rank stage's own time per computed list, from the server's histogram: p99 at most / mean (ms), lists",
            stageTime(rerankLine, 'rerank'),
            '< 2 ms',
          ],
          [
            'the whole pipeline per computed list, with / without the re-ranker: mean (ms)',
            `${pipelineMean(rerankLine)} / ${pipelineMean(off)}`,
            '',
          ],
          ['each run with the re-ranker (p99, steal)', runsWithSteal(rerankLine), ''],
          ['each run without', runsWithSteal(off), ''],
        ],
      ),
      '',
    );
  }
  // The serve bench run with one fixed model for both builds (`ATTUNE_SELECTION=fixed ATTUNE_PRIMARY_MODEL=als
  // node --import tsx bench/serve.ts`): the serving path compared like for like, whatever selection picks.
  const fixed = names.has('serve-fixed-als') ? load(dir, 'serve-fixed-als') : null;
  const fixedLine = fixed?.lines[0];
  if (fixed && fixedLine) {
    const part = (key: string, field: string) => (fixedLine[key] as Json | undefined)?.[field];
    out.push(
      ...simpleSection('Serving, like for like: both builds serving ALS (fixed selection)', fixed, [
        ['median p99 (ms)', fixedLine['median_p99_ms'], '≤ 10 ms'],
        ['median p50 (ms)', fixedLine['median_p50_ms'], ''],
        ['with rules and diversity: median p99 (ms)', part('with_rules', 'median_p99_ms'), '≤ 10 ms'],
        [
          'with two experiments running: median p99 (ms)',
          part('with_two_experiments', 'median_p99_ms'),
          '≤ 5 ms',
        ],
        ['median server RSS (MB)', fixedLine['median_rss_mb'], '< 300 MB'],
        ...baselineRows(fixedLine),
      ]),
      '',
    );
  }
  const assignment = names.has('assignment') ? load(dir, 'assignment') : null;
  const assignmentLine = assignment?.lines[0];
  if (assignment && assignmentLine) {
    out.push(
      ...simpleSection(
        'Experiments: assignment and exposure per request (`bench/assignment.ts`)',
        assignment,
        [
          ['setting', '5% global holdout, two experiments in two layers, 200,000 users × 3 requests', ''],
          ['median ns per request (plan + expose)', assignmentLine['median_ns_per_request'], '< 20,000 ns'],
        ],
      ),
      '',
    );
  }
  const analysis = names.has('experiment-analysis') ? load(dir, 'experiment-analysis') : null;
  const analysisLine = analysis?.lines.find((l) => l['bench'] === 'experiment-analysis');
  if (analysis && analysisLine) {
    out.push(
      ...simpleSection(
        'Experiments: analysis over the event log (`bench/experiment-analysis.ts`)',
        analysis,
        [
          ['exposed users', analysisLine['users'], '1,000,000'],
          ['events', analysisLine['events'], '10,000,000'],
          ['seconds (four built-in metrics, one pass)', analysisLine['seconds'], '< 10 s'],
          [
            'each run (s)',
            Array.isArray(analysisLine['runs_seconds']) ? analysisLine['runs_seconds'].join(', ') : undefined,
            '',
          ],
          ['thread', analysisLine['thread'], ''],
          ['RSS (MB)', analysisLine['rss_mb'], ''],
        ],
      ),
      '',
    );
  }
  out.push(...tabularSections(dir, names));
  const stats = names.has('stats') ? load(dir, 'stats') : null;
  if (stats && stats.lines.length > 0) out.push(...statsSection(stats), '');
  const calibration = names.has('experiment-calibration') ? load(dir, 'experiment-calibration') : null;
  if (calibration && calibration.lines.length > 0) out.push(...calibrationSection(calibration), '');
  const simulated = names.has('simulate') ? load(dir, 'simulate') : null;
  if (simulated && simulated.lines.length > 0) out.push(...simulateSection(simulated), '');
  out.push(
    '## How these were measured',
    '',
    '- Quality: `bench/quality.ts` runs `evaluateModels` (the code behind `attune evaluate`): hyper-parameters are tuned',
    '  on the validation split cut from train, the model is refit on train, and the test split is scored once. The',
    '  reference `itemknn` row is untuned (100 neighbours, no shrinkage); at that setting (`attune evaluate --no-tune`)',
    '  ours reproduces it exactly.',
    '- ALS training: `bench/train-als.ts`, the protocol train split, 64 factors, 15 iterations, 2 threads, compiled',
    '  code; the first run also starts the helper thread.',
    '- EASE: `bench/ease.ts`, both cores (WebAssembly SIMD sweep, see `src/models/ease-fit.ts`); the 10,000-item',
    '  catalog is synthetic (50,000 users, 1M Zipf-distributed draws); the first MovieLens fit also starts the helper.',
    '- Diversity: `bench/diversity.ts` re-ranks ALS pools (70 candidates) with the serving stages (`rules-score`,',
    '  `diversity`, `truncate`); diversity is category MMR, freshness boosts by release-date age (half-life 14 days,',
    '  now = the last train interaction), so on this 1998 catalog almost nothing is new and freshness barely moves.',
    '- Ingestion: `bench/ingest.ts` starts the real server on an empty store and posts pre-serialised batches of 500',
    '  events with random UUID event ids (the costly case for the id index) from 4 connections; the load generator',
    '  shares the 2 cores with the server. The request p99 is at saturation (4 batches always in flight): since',
    '  2026-12-05 a commit waits for the background thread’s once-a-second index catch-up instead of blocking the',
    '  serving thread, so it shows in p99. Same run, 1,000,000 events stored first, built before and after that',
    '  change alternately: 13.6k / 17.3k events/s before, 14.4k / 16.7k after (p99 ~460 ms before, ~1,000 ms after).',
    '- Serving: `bench/serve.ts` imports and trains MovieLens 100K through the CLI, then drives the server with an',
    '  open-loop generator (`bench/load.ts`) at 1,000 requests/s over all 943 users; latency counts from when each',
    '  request was due. A 5 s warm-up at the same rate precedes the runs and is reported in the JSON as `warmup`.',
    '- Keys: bench servers get `ATTUNE_ADMIN_KEY` and every bench request sends it (`bench/server.ts`), so serving',
    '  is measured behind a key as deployed, not as the keyless loopback demo (results before 2026-12-04T04:40Z',
    '  were measured without keys). `serve-rerank` trains once with `ATTUNE_RERANK=always` and serves copies of',
    '  that training with it and with `ATTUNE_RERANK=off` (the same model on both sides since 2026-12-07; before,',
    "  each side trained its own and selection could choose another blend), so the re-ranker's cost is measured",
    '  whether or not validation keeps it, both with the result cache off (every list computed; since',
    '  2026-12-05). Rate limits are counted as always but set above any bench rate',
    '  (`ATTUNE_RATE_LIMITS`, `bench/server.ts`).',
    '- Floors: `tail` and `decide` also measure a bare `node:http` server answering every request with a reply',
    '  recorded from Attune (`bench/floor-server.ts`), in the same turns and by the same generator: what the',
    '  machine, the loopback and the generator cost on their own that day (since 2026-12-05). It moves a lot: on',
    '  2026-12-06 the floor at 2,000/s was 6.0 ms p99 at 05:33 UTC and 2.0 at 07:03, on a machine booted at 06:49.',
    '- Generator client: since 2026-12-05T22:15Z the open-loop generators (`bench/load.ts`, `bench/decide.ts`) send',
    '  through `bench/raw-http.ts` (keep-alive sockets, prepared request bytes, replies framed by length) instead of',
    "  `node:http`'s client, which used ~40% more of a core on the machine it shares with the server. Latency,",
    '  tail and decide results measured before then used the old client.',
    '- Lead-ins: since 2026-12-06T01:10Z every open-loop run (`bench/load.ts`, `bench/decide.ts`) starts with 2 s at',
    "  its rate over its own connections, left out of the run's percentiles and kept in the run's JSON (`lead`: its",
    '  p99 and max; the decide and tail tables show them). A packet capture of the decide bench showed why: every request',
    '  over 30 ms in a run was in its first 0.3 s after the server had idled between runs, and they alone moved that',
    "  run's p99 from 8.7 to 10.9 ms. Later probes found two causes (docs/SCALING.md): result-cache entries expiring",
    "  over the lull, and V8 deoptimising Node's HTTP code when the previous run's connections closed; decisions,",
    '  which have no result cache, still start slowly. Runs measured before then include that passage.',
    '',
  );
  return `${out.join('\n')}\n`;
}

/** k-means against scikit-learn and the churn models against scikit-learn and XGBoost (issue 10). */
function tabularSections(dir: string, names: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const kmeans = names.has('kmeans') ? load(dir, 'kmeans') : null;
  const kmeansLine = kmeans?.lines[0];
  if (kmeans && kmeansLine) {
    const telco = kmeansLine['telco'] as Json | undefined;
    const part = (key: string) => telco?.[key] as Json | undefined;
    const blobs = kmeansLine['blobs'] as Json | undefined;
    const side = (key: string) => blobs?.[key] as Json | undefined;
    out.push(
      ...simpleSection('k-means: Telco numeric columns and 100,000 × 16 blobs (`bench/kmeans.ts`)', kmeans, [
        [
          'Telco, k = 8, one initialisation: median inertia / 3398.16 over 10 seeds',
          part('nInit1')?.['medianRatio'],
          '≤ 1.01',
        ],
        ['seeds within 1.01 (of 10)', part('nInit1')?.['withinTarget'], ''],
        [
          'scikit-learn, one initialisation, same 10 seeds: median ratio',
          part('sklearnNInit1')?.['medianRatio'],
          '',
        ],
        ['Telco, best of 10 initialisations: inertia ratio', part('bestOf10')?.['ratio'], '≤ 1.01'],
        ['blobs k = 32: seconds (ours, two threads)', side('ours')?.['seconds'], ''],
        ['blobs k = 32: seconds (ours, one thread)', side('oneThread')?.['seconds'], ''],
        [
          'helper threads start, before the timed fit (a server starts them once)',
          side('ours')?.['helpersStartSeconds'],
          '',
        ],
        ['blobs k = 32: seconds (scikit-learn, same run)', side('sklearn')?.['seconds'], ''],
        ['ratio ours / scikit-learn', blobs?.['secondsRatio'], '≤ 1.5'],
      ]),
      '',
    );
  }
  const features = names.has('features') ? load(dir, 'features') : null;
  if (features) {
    const line = (measure: string, held?: string) =>
      features.lines.find(
        (l) => l['measure'] === measure && (held === undefined || l['features_held'] === held),
      );
    const update = line('update');
    out.push(
      ...simpleSection('Feature store: online updates and ingestion (`bench/features.ts`)', features, [
        [
          `online update per event (${String(update?.['users'])} users, ${String(update?.['items'])} items held, ${String(update?.['events'])} events)`,
          `${num(update?.['us_per_event'], 2)} µs`,
          '< 50 µs',
        ],
        ['memory held by the online features', `${String(update?.['held_mb'])} MB`, ''],
        ...(['all users and items', 'none'] as const).map((held): [string, unknown, string] => {
          const ingest = line('ingest', held);
          const runs =
            (ingest?.['runs'] as
              | { eventsPerSecond: number; held: { users: number; items: number; mb: number } }[]
              | undefined) ?? [];
          const end = runs.map((r) => `${r.held.users} / ${r.held.items} / ${r.held.mb} MB`).join('; ');
          return [
            held === 'none'
              ? 'POST /v1/events (server process, 4 connections, 500 per request): nothing held (features load on first read)'
              : 'POST /v1/events (server process, 4 connections, 500 per request): every user and item held at the start',
            `${String(ingest?.['events_per_s'])} events/s (runs ${runs.map((r) => Math.round(r.eventsPerSecond)).join(', ')}; users / items / bytes held at the end: ${end})`,
            '≥ 30,000',
          ];
        }),
      ]),
      '',
    );
  }
  const churnEvents = names.has('churn-events') ? load(dir, 'churn-events') : null;
  if (churnEvents) {
    const models = churnEvents.lines.filter((l) => typeof l['model'] === 'string' && l['validate'] !== true);
    const summaries = churnEvents.lines.filter((l) => l['summary'] === true && l['validate'] !== true);
    out.push(
      `## Churn from events: CDNOW purchase log (\`bench/churn-events.ts\`; measured ${churnEvents.measured_at})`,
      '',
      'Churned = no purchase in [cutoff, cutoff + window). Features from the feature store before each cutoff;',
      'training rows stacked over cutoffs every 30 days up to the training cutoff; tuned on a split of the training',
      "users; judged at the later cutoff. Target: the trees' AUC ≥ logistic regression's and > recency-only.",
      '',
      '| window | train cutoffs (labels until) | eval cutoff (labels until) | churn rate train / eval | model | AUC | PR-AUC | Brier | log loss | ECE | train s |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...models.map(
        (m) =>
          `| ${String(m['window_days'])} d | ${String(m['train_earliest_cutoff'])} … ${String(m['train_cutoff'])} ` +
          `(${String(m['train_labels_until'])}) | ${String(m['eval_cutoff'])} (${String(m['eval_labels_until'])}) | ` +
          `${num(m['train_churn_rate'], 3)} / ${num(m['eval_churn_rate'], 3)} | ${String(m['model'])} | ` +
          `${num(m['auc'])} | ${num(m['pr_auc'])} | ${num(m['brier'])} | ${num(m['logloss'])} | ${num(m['ece'])} | ` +
          `${num(m['train_s'], 2)} |`,
      ),
      '',
      ...summaries.map(
        (l) =>
          `- ${String(l['window_days'])}-day window: trees (${String(l['trees_model'] ?? 'gbdt')}) − logistic AUC ` +
          `${String(l['gbdt_auc_minus_logreg'])}` +
          bootstrapNote(l['bootstrap'] as Json | undefined) +
          `, trees − recency ${String(l['gbdt_auc_minus_recency'])}; target met: ${String(l['target_met'])}` +
          (l['plain_gbdt_auc_minus_logreg'] === undefined
            ? '.'
            : `; plain trees − logistic ${String(l['plain_gbdt_auc_minus_logreg'])}.`),
      ),
      '',
    );
  }
  const rerank = names.has('rerank') ? load(dir, 'rerank') : null;
  if (rerank) {
    const qualities = rerank.lines.filter((l) => l['bench'] === 'rerank-quality');
    const ceilings = rerank.lines.filter((l) => l['bench'] === 'rerank-ceiling');
    const cost = rerank.lines.find((l) => l['bench'] === 'rerank-cost');
    const summary = rerank.lines.find((l) => l['bench'] === 'rerank-summary');
    const first = qualities[0];
    out.push(
      `## Re-ranker on the demo shop's logged lists (\`bench/rerank.ts\`: ${String(first?.['users'])} shoppers, ${String(first?.['days'])} simulated days, the last ${String(first?.['test_days'])} judged) (measured ${rerank.measured_at})`,
      '',
      "Shoppers click by taste, by each listing's appeal, and less on what they passed over before",
      '(`simulate/shoppers.ts`); the history the generator trained on shows only taste. One row per simulation',
      "seed (same shop, same model). The ceiling orders each judged list by its shopper's true click chances;",
      'on raw outcomes it is no bound: it gives up the head start of the served order (what was shown higher was',
      'looked at more), which trees that keep some of that order do not. The debiased column is the fair one.',
      '',
      '| seed | lists trained / judged | ndcg@10 re-ranked / generator | lift (target ≥ 0.10) | lift, debiased outcomes | ceiling lift raw / debiased | kept by validation |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...qualities.map((q) => {
        const c = ceilings.find((l) => l['seed'] === q['seed']);
        return (
          `| ${String(q['seed'])} | ${String(q['train_lists'])} / ${String(q['test_lists_with_outcome'])} | ` +
          `${num(q['ndcg10_reranked'])} / ${num(q['ndcg10_generator'])} | ${num(q['lift'])} | ` +
          `${num(q['ips_lift'])} | ${num(c?.['lift'])} / ${num(c?.['ips_lift'])} | ` +
          `${String(q['chosen_by_validation'])} |`
        );
      }),
      ...(summary === undefined
        ? []
        : [
            `| median | | | ${num(summary['median_lift'])} (lowest ${num(summary['min_lift'])}) | ` +
              `${num(summary['median_ips_lift'])} | ${num(summary['median_ceiling_lift'])} / ` +
              `${num(summary['median_ceiling_ips_lift'])} | ${String(summary['chosen_by_validation'])} of ` +
              `${String(qualities.length)} |`,
          ]),
      '',
      cost === undefined
        ? '- Serving cost: not measured (no re-ranker trained).'
        : `- Re-rank of ${String(cost['candidates'])} candidates (the user's shown lists counted), ${String(cost['trees'])} trees: ` +
            `p50 ${num(cost['p50_ms'], 3)} / p99 ${num(cost['p99_ms'], 3)} ms per call (target p99 < 2 ms).`,
      '',
      '```json',
      JSON.stringify(summary ?? null),
      '```',
      '',
    );
  }
  const dbscan = names.has('dbscan') ? load(dir, 'dbscan') : null;
  const dl = dbscan?.lines[0];
  if (dbscan && dl) {
    const ours = dl['ours'] as Json | undefined;
    const sk = dl['sklearn'] as Json | undefined;
    out.push(
      ...simpleSection('DBSCAN: 100,000 points in 2-D, blobs and noise (`bench/dbscan.ts`)', dbscan, [
        [
          'eps (knee of the k-distance curve) / min_samples',
          `${num(dl['eps'], 4)} / ${String(dl['minSamples'])}`,
          '',
        ],
        ['seconds (ours)', ours?.['seconds'], '< 2'],
        ['seconds (scikit-learn, same run)', sk?.['seconds'], ''],
        ['ratio ours / scikit-learn', dl['secondsRatio'], ''],
        [
          'clusters / noise / core (ours)',
          `${String(ours?.['clusters'])} / ${String(ours?.['noise'])} / ${String(ours?.['core'])}`,
          `scikit-learn: ${String(sk?.['clusters'])} / ${String(sk?.['noise'])} / ${String(sk?.['core'])}`,
        ],
        ['core sets equal', String(dl['coreEqual']), 'true'],
        ['adjusted Rand index on core points', dl['ariCore'], '1.0'],
        ['every label equal (border and noise too)', String(dl['labelsEqual']), ''],
      ]),
      '',
    );
  }
  const bandits = names.has('bandits') ? load(dir, 'bandits') : null;
  const bl = bandits?.lines[0];
  if (bandits && bl) {
    const env = bl['environment'] as Json | undefined;
    const learners = (bl['learners'] as Json[] | undefined) ?? [];
    const eps = learners.find((l) => l['learner'] === 'epsilon-greedy');
    out.push(
      ...simpleSection(
        `Contextual bandits: ${String(env?.['actions'])} actions, ${String(env?.['features'])} context features, ${String(env?.['decisions'])} decisions (\`bench/bandits.ts\`, seeds ${JSON.stringify(bl['reported_seeds'])}, parameters tuned on other seeds)`,
        bandits,
        [
          ['reward model', String(env?.['reward']), ''],
          [
            'a uniformly random policy: last 2,000 decisions / optimal',
            bl['random_policy_tail_ratio_median'],
            '',
          ],
          ...learners.flatMap((l): [string, unknown, string][] => [
            [
              `${String(l['learner'])}: last 2,000 decisions' reward / optimal (median)`,
              l['tail_ratio_median'],
              l['learner'] === 'linucb' || l['learner'] === 'thompson' ? '≥ 0.90' : '',
            ],
            [
              `${String(l['learner'])}: cumulative regret (median)`,
              l['cumulative_regret_median'],
              (l['learner'] === 'linucb' || l['learner'] === 'thompson') && eps !== undefined
                ? `< epsilon-greedy's ${String(eps['cumulative_regret_median'])}`
                : '',
            ],
            [
              `${String(l['learner'])}: µs per choice (median / p99), per update (median)`,
              `${num(l['choose_us_median'], 1)} / ${num(l['choose_us_p99'], 1)}, ${num(l['update_us_median'], 1)}`,
              '',
            ],
          ]),
          ['1-minute load average during the run', bl['load_average_1m'], 'quiet: < 1'],
        ],
      ),
      '',
    );
  }
  const decide = names.has('decide') ? load(dir, 'decide') : null;
  const dp = decide?.lines[0];
  if (decide && dp) {
    const learners = (dp['learners'] as Json[] | undefined) ?? [];
    const runs = (l: Json): Json[] => (l['runs'] as Json[] | undefined) ?? [];
    out.push(
      ...simpleSection(
        `Decision points over HTTP: POST /v1/decisions at ${String(dp['target_rate'])}/s, rewards at the same rate, ${String(dp['actions'])} actions × ${String(dp['features'])} features (\`bench/decide.ts\`, runs of ${String(dp['seconds_per_run'])} s: ${String(dp['runs_per_learner'])} per learner${dp['smoke'] === true ? '; **smoke run, not a measurement**' : ''})`,
        decide,
        [
          [
            'setting',
            `${String(dp['users'])} users, rewards ${JSON.stringify(dp['reward_delay_ms'])} ms after each reply; ${String(dp['world'])}`,
            '',
          ],
          ...learners.flatMap((l): [string, unknown, string][] => {
            const nodeArgs = (l['server_node_args'] as string[] | undefined) ?? [];
            const name = `${String(l['learner'])}${nodeArgs.length > 0 ? ` (server: node ${nodeArgs.join(' ')})` : ''}`;
            const status = l['final_status'] as Json | undefined;
            return [
              [
                `${name}: decide median p99 (ms)`,
                l['median_decide_p99_ms'],
                `≤ ${String(pick(dp, 'targets', 'decide_p99_ms'))} ms`,
              ],
              [
                `${name}: decide p50 / p90 / p99.9 / max (ms, medians over runs)`,
                `${num(l['median_decide_p50_ms'], 2)} / ${num(l['median_decide_p90_ms'], 2)} / ${num(l['median_decide_p999_ms'], 2)} / ${num(l['median_decide_max_ms'], 2)}`,
                '',
              ],
              [
                `${name}: decide p99 over the floor's in the same turn (ms, median over turns); share the server itself answered within 5 ms`,
                `${num(l['median_decide_p99_over_floor_ms'], 2)}; ${num(l['median_server_within_5ms'], 4)}`,
                '',
              ],
              [
                `${name}: reward p50 / p90 / p99 / max (ms)`,
                `${num(l['median_reward_p50_ms'], 2)} / ${num(l['median_reward_p90_ms'], 2)} / ${num(l['median_reward_p99_ms'], 2)} / ${num(l['median_reward_max_ms'], 2)}`,
                '',
              ],
              [
                `${name}: errors (any reply but 200), decide / reward`,
                `${String(l['decide_errors'])} / ${String(l['reward_errors'])} (${JSON.stringify(l['decide_statuses'])}, ${JSON.stringify(l['reward_statuses'])})`,
                '0',
              ],
              [
                `${name}: achieved decide / reward rate (/s)`,
                `${String(l['median_decide_rate'])} / ${String(l['median_reward_rate'])}`,
                '',
              ],
              [
                `${name}: server RSS median / at the end (MB)`,
                `${String(l['median_rss_mb'])} / ${String(l['final_rss_mb'])}`,
                '',
              ],
              [
                `${name}: server CPU µs per decision with its reward; server / generator % of a core`,
                `${String(l['median_server_cpu_us_per_decision'])}; ${String(l['median_server_cpu_pct'])} / ${String(l['median_client_cpu_pct'])}`,
                '',
              ],
              [
                `${name}: learner updates at the end / rewards recorded`,
                `${String(status?.['learnerUpdates'])} / ${String(l['rewards_recorded'])}`,
                'equal',
              ],
              [
                `${name}: chosen actions' expected reward / the best's (uniform choice)`,
                `${num(l['median_learning_ratio'], 3)} (${num(l['uniform_ratio'], 3)})`,
                '',
              ],
              [
                `${name}: decide p99 of each run (ms), with the CPU steal during it`,
                runs(l)
                  .map((r) => `${num(pick(r, 'decide', 'p99Ms'), 2)} (st ${String(r['stealPct'])}%)`)
                  .join(', '),
                '',
              ],
              ...leadRow(
                `${name}: each run's lead-in, decide p99 / max (ms)`,
                runs(l).map((r) => pick(r, 'lead', 'decide') as Json | undefined),
              ),
            ];
          }),
          ...floorRows(dp['floor'] as Json | undefined),
        ],
      ),
      '',
    );
  }
  const soak = names.has('soak') ? load(dir, 'soak') : null;
  const sk = soak?.lines[0];
  if (soak && sk) {
    const target = (sk['target'] as Json | undefined) ?? {};
    out.push(
      ...simpleSection(
        `Soak: mixed ingestion and recommendations at ${String(sk['rate'])}/s for ${String(sk['seconds'])} s on the demo shop (\`bench/soak.ts\`, open loop)`,
        soak,
        [
          [
            'requests sent / achieved rate (/s)',
            `${String(sk['requests'])} / ${String(sk['achieved_rate'])}`,
            '',
          ],
          [
            'error replies (any but 200), by kind',
            `${String(sk['errors'])} ${JSON.stringify(sk['errors_by_kind'])}`,
            String(target['errors'] ?? 0),
          ],
          [
            `resident memory after the ${String(sk['warmup_seconds'])} s warm-up → at the end (MB)`,
            `${String(sk['rss_mb_after_warmup'])} → ${String(sk['rss_mb_end'])}`,
            '',
          ],
          [
            'memory growth after warm-up (%)',
            sk['rss_growth_pct'],
            `< ${String(target['rss_growth_pct_below'])}%`,
          ],
          [
            'latency p50 / p99 / p99.9 / max (ms)',
            `${num(sk['p50_ms'], 2)} / ${num(sk['p99_ms'], 2)} / ${num(sk['p999_ms'], 2)} / ${num(sk['max_ms'], 2)}`,
            '',
          ],
          ['CPU stolen by the hypervisor meanwhile (%)', sk['steal_pct'], ''],
        ],
      ),
      '',
    );
  }
  const dashboard = names.has('dashboard') ? load(dir, 'dashboard') : null;
  const db = dashboard?.lines[0];
  if (dashboard && db) {
    const runs = ((db['first_load_ms'] as number[] | undefined) ?? []).join(', ');
    out.push(
      ...simpleSection(
        `Dashboard: first load in Debian's Chromium on loopback, ${String(db['loads'])} cold loads (\`bench/dashboard.ts\`)`,
        dashboard,
        [
          ['first load, navigation to the load event: median (ms)', db['first_load_ms_median'], '< 1000'],
          ['each load (ms)', runs, ''],
          ['overview numbers on screen: median (ms)', db['overview_drawn_ms_median'], ''],
          [
            'production build: files / bytes / gzipped bytes',
            `${String(db['build_files'])} / ${String(db['build_bytes'])} / ${String(db['build_gzip_bytes'])}`,
            '< 512,000 gzipped',
          ],
          ['bytes transferred by a first load', db['transferred_bytes'], ''],
        ],
      ),
      '',
    );
  }
  const sharedLists = names.has('shared-lists') ? load(dir, 'shared-lists') : null;
  const sl = sharedLists?.lines[0];
  if (sharedLists && sl) {
    const on = (sl['shared'] as Json | undefined) ?? {};
    const off = (sl['not_shared'] as Json | undefined) ?? {};
    const hits = ((on['b_cache'] as Json[] | undefined) ?? [])
      .map((c) => String(c['shared_hit'] ?? 0))
      .join(' / ');
    out.push(
      ...simpleSection(
        `Lists shared between instances in Redis: a user's request on instance B after instance A served them, ${String(sl['rate'])}/s open loop (\`bench/shared-lists.ts\`)`,
        sharedLists,
        [
          ['setup', String(sl['setup']), ''],
          [
            'B: p50 / p99 (ms), shared lists on (the list from Redis), median of runs',
            `${num(on['b_p50_ms'], 2)} / ${num(on['b_p99_ms'], 2)}`,
            '',
          ],
          [
            'B: p50 / p99 (ms), shared lists off (B computes), same run',
            `${num(off['b_p50_ms'], 2)} / ${num(off['b_p99_ms'], 2)}`,
            '',
          ],
          [
            'A (every list computed): p50 / p99 (ms), on / off',
            `${num(on['a_p50_ms'], 2)} / ${num(on['a_p99_ms'], 2)}; ${num(off['a_p50_ms'], 2)} / ${num(off['a_p99_ms'], 2)}`,
            '',
          ],
          ['B: lists served from Redis per run (of the users asked)', hits, ''],
        ],
      ),
      '',
    );
  }
  const cluster = names.has('cluster') ? load(dir, 'cluster') : null;
  const cl = cluster?.lines[0];
  if (cluster && cl) {
    const fresh = (cl['freshness_ms'] as Json | undefined) ?? {};
    const models = ((cl['model_propagation_ms'] as { a: number; b: number }[] | undefined) ?? [])
      .map((m) => `${m.a} / ${m.b}`)
      .join('; ');
    const serving = (cl['recommendations_1000rps_over_two'] as Json | undefined) ?? {};
    const ingest = (cl['ingest_two_instances'] as Json | undefined) ?? {};
    const rss = (cl['rss_mb'] as Json | undefined) ?? {};
    out.push(
      ...simpleSection(
        'Production path: two `attune serve` instances and `attune worker` on PostgreSQL 15 and Redis 7, one 2-core machine (`bench/cluster.ts`)',
        cluster,
        [
          [
            'an event acknowledged by A until B’s next list reflects it: median / p90 / max (ms), 50 users',
            `${String(fresh['median'])} / ${String(fresh['p90'])} / ${String(fresh['max'])}`,
            '≤ 1000',
          ],
          ['a model the worker saved until A / B serve it (ms), per retrain', models, '≤ 2000'],
          [
            'recommendations at 1,000/s spread over both, open loop: p50 / p99 (ms), median of 3 × 20 s',
            `${num(serving['median_p50_ms'], 2)} / ${num(serving['median_p99_ms'], 2)}`,
            'p99 ≤ 5',
          ],
          [
            'ingestion through both into PostgreSQL, batches of 500 (events/s), median of 3 × 10 s',
            ingest['median_events_per_second'],
            '≥ 40,000',
          ],
          [
            'with a NATS JetStream stream in front: acknowledged through both (events/s), median of 3 runs, each 4,000 distinct batches per instance sent once',
            ((cl['ingest_stream'] as Json | undefined) ?? {})['median_events_per_second'],
            '≥ 60,000',
          ],
          [
            'the worker draining the stream into PostgreSQL, from its start (events/s)',
            ((cl['ingest_stream'] as Json | undefined) ?? {})['drain_events_per_second'],
            '',
          ],
          [
            'resident memory: serve A / serve B / worker (MB)',
            `${String(rss['serve_a'])} / ${String(rss['serve_b'])} / ${String(rss['worker'])}`,
            '',
          ],
        ],
      ),
      '',
    );
  }
  const scale = names.has('scale') ? load(dir, 'scale') : null;
  const sc = scale?.lines[0];
  if (scale && sc) {
    const imported = (sc['import'] as Json | undefined) ?? {};
    const trained = (sc['train'] as Json | undefined) ?? {};
    const served = (sc['serve_1000rps'] as Json | undefined) ?? {};
    out.push(
      ...simpleSection(
        `Scale: ${String(sc['events'])} synthetic events (${String(sc['users'])} users, ${String(sc['items'])} items) on ${String(sc['store'])}: import, train, serve (\`bench/scale.ts\`)`,
        scale,
        [
          [
            'attune import: seconds / events per s / peak memory (MB)',
            `${String(imported['seconds'])} / ${String(imported['events_per_second'])} / ${String(imported['peak_rss_mb'])}`,
            '',
          ],
          [
            'attune train (ALS, fixed): seconds / peak memory (MB)',
            `${String(trained['seconds'])} / ${String(trained['peak_rss_mb'])}`,
            '',
          ],
          ...((sc['serve_sweep'] as { rate: number; run: Json }[] | undefined) ?? []).map(
            ({ rate, run }): [string, unknown, string] => [
              `attune serve at ${rate.toLocaleString('en-US')}/s, open loop, every user cold: achieved / p50 / p99 (ms)`,
              `${num(run['achievedRate'], 0)} / ${num(run['p50Ms'], 2)} / ${num(run['p99Ms'], 2)}`,
              '',
            ],
          ),
          [
            `highest rate sustained (${String(sc['sustained_means'])}) / resident memory after (MB)`,
            `${String(sc['highest_sustained_rps'] ?? 'none')} / ${String(served['rssMb'])}`,
            '',
          ],
        ],
      ),
      '',
    );
  }
  const tail = names.has('tail') ? load(dir, 'tail') : null;
  const tl = tail?.lines[0];
  if (tail && tl) {
    const setups = (tl['setups'] as Json[] | undefined) ?? [];
    const rows: [string, unknown, string][] = [];
    for (const setup of setups) {
      const name = String(setup['setup']);
      // The floor (`floor-server.ts`) is read against, not judged: the targets are Attune's.
      const target = (text: string) => (setup['peer'] === true ? 'floor, for reference' : text);
      const a = (setup['at_1000'] as Json | undefined) ?? {};
      const b = (setup['at_2000'] as Json | undefined) ?? {};
      const runs = (b['runs'] as Json[] | undefined) ?? [];
      const cpu = runs.map((r) => {
        const threads = (r['serverCpuPct'] as Record<string, number> | undefined) ?? {};
        const others = Object.entries(threads)
          .filter(([thread]) => thread !== 'main')
          .map(([thread, pct]) => `${thread} ${pct}`)
          .join(', ');
        return `main ${threads['main'] ?? 0}${others ? `, ${others}` : ''}; generator ${String(r['generatorCpuPct'])}; cache hits ${String(r['cacheHitShare'])}`;
      });
      rows.push(
        [
          `${name}: 1,000/s p50 / p99 / p99.9 (ms), median of 3 × 15 s`,
          `${num(a['median_p50_ms'], 2)} / ${num(a['median_p99_ms'], 2)} / ${num(a['median_p999_ms'], 2)}`,
          '',
        ],
        [
          `${name}: 2,000/s p50 / p99 / p99.9 (ms), median of 3 × 15 s`,
          `${num(b['median_p50_ms'], 2)} / ${num(b['median_p99_ms'], 2)} / ${num(b['median_p999_ms'], 2)}`,
          target('p99 ≤ 3'),
        ],
        ...leadRow(
          `${name}: 2,000/s lead-ins, p99 / max (ms) by run`,
          runs.map((r) => r['lead'] as Json | undefined),
        ),
        [`${name}: CPU % at 2,000/s by run`, cpu.join(' · '), ''],
        [`${name}: highest rate sustained (requests/s)`, setup['highest_sustained_rps'], target('≥ 5,000')],
      );
    }
    const machine = tl['machine_stalls'] as Record<string, Json> | undefined;
    for (const [key, label] of [
      ['both_cores', 'a spinning thread on each core'],
      ['one_core', 'one spinning thread'],
    ] as const) {
      const stalls = machine?.[key];
      if (stalls === undefined) continue;
      const perThread = (stalls['perThread'] as Json[] | undefined) ?? [];
      rows.push([
        `the machine, nothing else running, ${label} for ${String(stalls['seconds'])} s: gaps over 1 / 2 / 5 ms, longest (ms), by thread`,
        perThread
          .map(
            (t) =>
              `${String(t['over1ms'])} / ${String(t['over2ms'])} / ${String(t['over5ms'])}, ${num(t['maxMs'], 1)}`,
          )
          .join(' · '),
        'floor of the floor, for reference',
      ]);
    }
    out.push(
      ...simpleSection(
        `One instance's tail from outside: open loop, ML-100K, default selection (\`bench/tail.ts\`; sustained = ${String(tl['sustained_means'])})`,
        tail,
        rows,
      ),
      '',
    );
  }
  const tailEvents = names.has('tail-events') ? load(dir, 'tail-events') : null;
  const te = tailEvents?.lines[0];
  if (tailEvents && te) {
    const rows: [string, unknown, string][] = [];
    if (te['chosen'] !== undefined) {
      const reranked =
        te['reranked'] === true ? ', re-ranked' : te['reranked'] === false ? ', not re-ranked' : '';
      rows.push([
        'serving model (what training chose for this run)',
        `${recipeText(te['chosen'] as Json)}${reranked}`,
        '',
      ]);
    }
    for (const pair of (te['pairs'] as Json[] | undefined) ?? []) {
      const runs = (pair['runs'] as Json[] | undefined) ?? [];
      const rate = `${String(pair['lists_per_s'])} lists/s + ${String(pair['events_per_s'])} events/s`;
      rows.push(
        [
          `${rate}: p50 / p99 (ms), lists/s achieved, median of ${runs.length} × ${String(te['seconds_per_run'])} s`,
          `${num(pair['median_p50_ms'], 2)} / ${num(pair['median_p99_ms'], 2)}, ${String(pair['median_achieved'])}`,
          '',
        ],
        [
          `${rate}: runs sustained; serving thread CPU %, lists served again, by run`,
          `${String(pair['sustained_runs'])} of ${runs.length}; ` +
            runs.map((r) => `${String(r['mainCpuPct'])}%, ${String(r['servedAgainShare'])}`).join(' · '),
          '',
        ],
      );
    }
    out.push(
      ...simpleSection(
        `Serving beside new events: one embedded instance, ML-100K, open loop, events in batches of ${String(te['events_per_batch'])} (\`bench/tail-events.ts\`; sustained = ${String(te['sustained_means'])})`,
        tailEvents,
        rows,
      ),
      '',
    );
  }
  const firstTouch = names.has('first-touch') ? load(dir, 'first-touch') : null;
  const ft = firstTouch?.lines[0];
  if (firstTouch && ft) {
    const rows: [string, unknown, string][] = [];
    const rounds = String(ft['rounds']);
    for (const setup of (ft['setups'] as Json[] | undefined) ?? []) {
      const name = String(setup['setup']);
      const first = (setup['beside_first'] as Json | undefined) ?? {};
      const second = (setup['beside_second'] as Json | undefined) ?? {};
      const warm = (m: Json): string =>
        `${num(m['warm_p50_ms'], 2)} / ${num(m['warm_p99_ms'], 2)} / ${num(m['warm_p999_ms'], 2)}`;
      rows.push(
        [
          `${name}: warm requests beside first requests, p50 / p99 / p99.9 (ms), median of ${rounds}`,
          warm(first),
          '',
        ],
        [
          `${name}: warm requests beside second requests, p50 / p99 / p99.9 (ms), median of ${rounds}`,
          warm(second),
          '',
        ],
        [
          `${name}: first requests, then second, p50 / p99 (ms)`,
          `${num(first['users_p50_ms'], 2)} / ${num(first['users_p99_ms'], 2)}, then ${num(second['users_p50_ms'], 2)} / ${num(second['users_p99_ms'], 2)}`,
          '',
        ],
        [
          `${name}: serving thread CPU % beside first / second requests; requests failed`,
          `${String(first['main_cpu_pct'])} / ${String(second['main_cpu_pct'])}; ${String(Number(first['failed'] ?? 0) + Number(second['failed'] ?? 0))}`,
          '',
        ],
      );
    }
    out.push(
      ...simpleSection(
        `Users' first requests: ML-100K, a fresh server per round, users 1–${String(ft['warm_users'])} at ${String(ft['warm_rate'])}/s beside the first (then second) requests of ${String(ft['new_users'])} others over the same ${String(ft['seconds_per_phase'])} s (\`bench/first-touch.ts\`)`,
        firstTouch,
        rows,
      ),
      '',
    );
  }
  const fuzz = names.has('fuzz') ? load(dir, 'fuzz') : null;
  const fz = fuzz?.lines[0];
  if (fuzz && fz) {
    const statuses = Object.entries((fz['per_status'] as Record<string, number> | undefined) ?? {})
      .map(([status, count]) => `${status}: ${count}`)
      .join(', ');
    const events = (fz['canary_events'] as Json | undefined) ?? {};
    const items = (fz['canary_items'] as Json | undefined) ?? {};
    const violations = (fz['violations'] as unknown[] | undefined) ?? [];
    out.push(
      ...simpleSection(
        `Fuzzing every endpoint: ${String(fz['requests'])} random and hostile requests over ${String(fz['routes'])} routes (\`bench/fuzz.ts\`, seed ${String(fz['seed'])}, in process)`,
        fuzz,
        [
          [
            'requests / routes / elapsed (s) / requests per s',
            `${String(fz['requests'])} / ${String(fz['routes'])} / ${String(fz['elapsed_s'])} / ${String(fz['requests_per_s'])}`,
            '≥ 100,000, every route',
          ],
          [
            'requests known to be hostile / refused with a 4xx naming the problem',
            `${String(fz['hostile'])} / ${String(fz['hostile_refused'])}`,
            'all',
          ],
          ['replies by status', statuses, 'no 5xx'],
          [
            'canary events beside hostile ones: stored exactly / in bodies refused whole, not stored',
            `${String(events['stored'])} / ${String(events['refused'])}`,
            'every one',
          ],
          [
            'canary items: stored exactly / in bodies refused whole, not stored',
            `${String(items['stored'])} / ${String(items['refused'])}`,
            'every one',
          ],
          [
            'violations (5xx, crashes, unnamed refusals, invalid data stored, canaries lost)',
            violations.length,
            '0',
          ],
        ],
      ),
      '',
    );
  }
  const ope = names.has('ope') ? load(dir, 'ope') : null;
  const ol = ope?.lines[0];
  if (ope && ol) {
    const policies = (ol['policies'] as Record<string, Json> | undefined) ?? {};
    const estimators = ['ips', 'snips', 'dr'] as const;
    out.push(
      ...simpleSection(
        `Off-policy evaluation: ${String(ol['repetitions'])} repetitions of ${String(ol['rows'])} uniform-random logged decisions (\`bench/ope.ts\`)`,
        ope,
        [
          ...Object.entries(policies).flatMap(([name, policy]): [string, unknown, string][] => [
            [`${name}: true value`, policy['true_value'], ''],
            ...estimators.map((e): [string, unknown, string] => {
              const cell = policy[e] as Json | undefined;
              return [
                `${name}, ${e}: 95% interval coverage (mean width)`,
                `${num(cell?.['coverage'], 3)} (${num(cell?.['mean_ci_width'], 4)})`,
                '0.93–0.97',
              ];
            }),
          ]),
          ['narrowest intervals on average', String(ol['narrowest']), 'dr'],
          [
            'every cell in 0.93–0.97',
            String((ol['target'] as Json | undefined)?.['every_cell_in_band']),
            'true',
          ],
        ],
      ),
      '',
    );
  }
  const notify = names.has('notify') ? load(dir, 'notify') : null;
  const nl = notify?.lines[0];
  if (notify && nl) {
    out.push(
      ...simpleSection(
        'Notification timing: MovieLens 100K rating times, hour of week in UTC (`bench/notify.ts`, `attune notify evaluate`)',
        notify,
        [
          ['users judged (history before their last week)', nl['users_judged'], ''],
          ["top 3 hours contain the next activity hour: the user's model", nl['hit_rate'], ''],
          ["the population's top 3 hours (plain counts)", nl['population_hit_rate'], ''],
          ['ratio', nl['ratio'], '≥ 1.5'],
          [
            'against the population smoothed as the model smooths it',
            `${num(nl['spread_population_hit_rate'], 4)} (ratio ${num(nl['ratio_vs_spread_population'], 3)})`,
            '',
          ],
          ['parameters chosen', String(nl['chosen_by']), ''],
        ],
      ),
      '',
    );
  }
  const churn = names.has('churn-table') ? load(dir, 'churn-table') : null;
  const churnLine = churn?.lines[0];
  if (churn && churnLine) {
    const models = (churnLine['models'] as Json[] | undefined) ?? [];
    const model = (name: string) => models.find((m) => m['model'] === name);
    const gbdt = churnLine['gbdt'] as Json | undefined;
    const xgboost = gbdt?.['xgboost_side_by_side'] as Json | undefined;
    const sklearn = churnLine['sklearn'] as Json | undefined;
    out.push(
      ...simpleSection(
        'Churn: Telco customer table (`bench/churn-table.ts`, `attune churn evaluate`)',
        churn,
        [
          [
            'logistic regression: test AUC',
            model('logreg')?.['auc'],
            '≥ 0.8399 (scikit-learn 0.8419 − 0.002)',
          ],
          ['logistic regression: log loss', model('logreg')?.['logloss'], 'scikit-learn 0.4206'],
          [
            'logistic regression: train s (median) / scikit-learn same run',
            `${num(churnLine['logreg_train_s_median'], 4)} / ${num(sklearn?.['train_s'], 4)}`,
            '',
          ],
          ['trees: test AUC', model('gbdt')?.['auc'], '≥ 0.8313 (XGBoost 0.8343 − 0.003)'],
          ['trees: log loss', model('gbdt')?.['logloss'], '≤ 0.4452 (1.02 × XGBoost 0.4365)'],
          [
            'trees: train s (median) / XGBoost same run',
            `${num(gbdt?.['train_s_median'], 4)} / ${num(xgboost?.['train_s'], 4)}`,
            '',
          ],
          ['trees: time ratio ours / XGBoost', xgboost?.['time_ratio'], '≤ 1.5'],
        ],
      ),
      '',
    );
  }
  return out;
}

/** Whether a serve run's version re-ranked, from GET /v1/models `serving.reranking` (absent in older results). */
function rerankingVerdict(value: unknown): string {
  if (value === undefined) return 'not recorded';
  if (value === null || typeof value !== 'object') return 'no (not tried)';
  const reranking = value as { chosen?: unknown; skipped?: unknown; forced?: unknown };
  if (reranking.chosen === true)
    return typeof reranking.forced === 'string' ? `yes (${reranking.forced})` : 'yes';
  return `no (${typeof reranking.skipped === 'string' ? reranking.skipped : 'not chosen'})`;
}

/**
 * The decide bench's floor (`bench/floor-server.ts`): a bare `node:http` server with recorded replies,
 * measured in the same turns: what the machine and the generator cost without Attune.
 */
function floorRows(floor: Json | undefined): [string, unknown, string][] {
  if (floor === undefined) return [];
  const runs = (floor['runs'] as Json[] | undefined) ?? [];
  return [
    [
      `floor (${String(floor['server'])}): decide p50 / p99, reward p99 (ms), medians`,
      `${num(floor['median_decide_p50_ms'], 2)} / ${num(floor['median_decide_p99_ms'], 2)}, ${num(floor['median_reward_p99_ms'], 2)}`,
      'floor, for reference',
    ],
    [
      'floor: decide p99 of each run (ms), with the CPU steal during it',
      runs.map((r) => `${num(pick(r, 'decide', 'p99Ms'), 2)} (st ${String(r['stealPct'])}%)`).join(', '),
      '',
    ],
    ...leadRow(
      "floor: each run's lead-in, decide p99 / max (ms)",
      runs.map((r) => pick(r, 'lead', 'decide') as Json | undefined),
    ),
  ];
}

/**
 * The lead-ins (`bench/load.ts`'s `LEAD_SECONDS`) of a bench's runs, p99 / max each: the seconds before
 * every measured run, left out of its percentiles and shown here. Results from before lead-ins have none.
 */
function leadRow(label: string, leads: readonly (Json | undefined)[]): [string, unknown, string][] {
  if (leads.length === 0 || leads.some((lead) => lead === undefined)) return [];
  const text = leads.map((lead) => `${num(lead?.['p99Ms'], 2)} / ${num(lead?.['maxMs'], 2)}`).join(', ');
  return [[label, text, 'not in the percentiles above']];
}

type StageTimes = Record<string, { count: number; mean_ms: number; p99_at_most_ms: number | null }>;

/** One stage's line of `bench/serve.ts`'s `stage_times` (the server's `attune_pipeline_stage_seconds`). */
function stageTime(line: Json | undefined, stage: string): string {
  const times = (line?.['stage_times'] as StageTimes | undefined)?.[stage];
  if (times === undefined) return 'not recorded';
  const bound = times.p99_at_most_ms === null ? 'over 25' : num(times.p99_at_most_ms, 2);
  return `${bound} / ${num(times.mean_ms, 3)}, ${times.count} lists`;
}

/** The stages' mean times summed: a computed list's time in the pipeline. */
function pipelineMean(line: Json | undefined): string {
  const times = line?.['stage_times'] as StageTimes | undefined;
  if (times === undefined) return 'not recorded';
  return num(
    Object.values(times).reduce((sum, stage) => sum + stage.mean_ms, 0),
    3,
  );
}
