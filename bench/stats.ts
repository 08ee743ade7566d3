/**
 * `attune stats` against the reference fixtures in `../shared/reference/stats/` (numpy/scipy values,
 * cross-checked with statsmodels and 40-digit mpmath). For every case, runs the compiled CLI with
 * `--json` and the case's weights, and compares every number the expected JSON has under `variants`,
 * `comparisons`, `srm`, `corrections`, `cuped` and `unadjusted_comparisons`, as the fixtures' README says:
 * integer fields exactly, every other number within 1e-6 relative. Also times the CLI (process start to
 * exit, the median of three runs). Needs a build (`npm run build`).
 *
 *   node --import tsx bench/stats.ts
 *
 * Prints one JSON line per case and a summary line; nothing else on stdout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, runCli, SHARED, tempDataDir } from './server.js';

const FIXTURES = join(SHARED, 'reference/stats');
const COMPARED = [
  'variants',
  'comparisons',
  'srm',
  'corrections',
  'cuped',
  'unadjusted_comparisons',
] as const;
/** The README's integer fields, compared exactly (srm `observed` counts are integers too). */
const INTEGER_FIELDS = new Set(['n', 'n_c', 'n_t', 'x_c', 'x_t', 'rows']);
const TOLERANCE = 1e-6;
const RUNS = 3;

interface Manifest {
  readonly cases: readonly { readonly case: string }[];
}

interface Expected {
  readonly case: string;
  readonly kind: string;
  readonly csv: string;
  readonly rows: number;
  readonly weights: Readonly<Record<string, number>>;
  readonly [field: string]: unknown;
}

interface Mismatch {
  readonly field: string;
  readonly expected: number;
  readonly got: unknown;
}

interface Comparison {
  fields: number;
  maxRelError: number;
  worstField: string;
  readonly mismatches: Mismatch[];
}

function isInteger(path: readonly string[]): boolean {
  const field = path[path.length - 1]!;
  return INTEGER_FIELDS.has(field) || (path[0] === 'srm' && (path[1] === 'observed' || field === 'df'));
}

/** Walks the expected value, comparing each number with the same path in `got`. */
function compare(expected: unknown, got: unknown, path: string[], into: Comparison): void {
  if (typeof expected === 'number') {
    into.fields++;
    const field = path.join('.');
    if (typeof got !== 'number') {
      into.mismatches.push({ field, expected, got: got ?? null });
      return;
    }
    if (isInteger(path)) {
      if (got !== expected) into.mismatches.push({ field, expected, got });
      return;
    }
    const error = Math.abs(got - expected);
    const relative = expected === 0 ? (error === 0 ? 0 : Infinity) : error / Math.abs(expected);
    if (relative > into.maxRelError) {
      into.maxRelError = relative;
      into.worstField = field;
    }
    if (!(error <= TOLERANCE * Math.abs(expected))) into.mismatches.push({ field, expected, got });
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    const gotObject = got !== null && typeof got === 'object' ? (got as Record<string, unknown>) : {};
    for (const [key, value] of Object.entries(expected)) compare(value, gotObject[key], [...path, key], into);
  }
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, 'MANIFEST.json'), 'utf8')) as Manifest;
const dataDir = tempDataDir('stats');
const summary = { cases: 0, fields: 0, mismatches: 0, maxRelError: 0, worst: '', cliMs: [] as number[] };

for (const { case: name } of manifest.cases) {
  const expected = JSON.parse(readFileSync(join(FIXTURES, `${name}.expected.json`), 'utf8')) as Expected;
  const weights = Object.entries(expected.weights)
    .map(([variant, weight]) => `${variant}=${weight}`)
    .join(',');
  const args = [
    'stats',
    '--input',
    join(FIXTURES, expected.csv),
    '--kind',
    expected.kind,
    '--weights',
    weights,
  ];
  const timings: number[] = [];
  let stdout = '';
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    stdout = await runCli([...args, '--json'], dataDir);
    timings.push(performance.now() - start);
  }
  const got = JSON.parse(stdout) as Record<string, unknown>;
  const comparison: Comparison = { fields: 0, maxRelError: 0, worstField: '', mismatches: [] };
  for (const key of COMPARED) {
    if (key in expected) compare(expected[key], got[key], [key], comparison);
  }
  const cliMs = median(timings);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'stats',
      case: name,
      kind: expected.kind,
      rows: expected.rows,
      fields_compared: comparison.fields,
      mismatches: comparison.mismatches,
      max_rel_error: comparison.maxRelError,
      worst_field: comparison.worstField,
      cli_ms: Number(cliMs.toFixed(1)),
    })}\n`,
  );
  summary.cases++;
  summary.fields += comparison.fields;
  summary.mismatches += comparison.mismatches.length;
  summary.cliMs.push(cliMs);
  if (comparison.maxRelError > summary.maxRelError) {
    summary.maxRelError = comparison.maxRelError;
    summary.worst = `${name}: ${comparison.worstField}`;
  }
}

process.stdout.write(
  `${JSON.stringify({
    bench: 'stats',
    summary: true,
    cases: summary.cases,
    fields_compared: summary.fields,
    mismatches: summary.mismatches,
    max_rel_error: summary.maxRelError,
    worst_field: summary.worst,
    tolerance: TOLERANCE,
    cli_ms_median: Number(median(summary.cliMs).toFixed(1)),
    cli_ms_max: Number(Math.max(...summary.cliMs).toFixed(1)),
  })}\n`,
);
