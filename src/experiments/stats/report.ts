/**
 * A readable terminal report of an `ExperimentAnalysis` (what `attune stats` prints without `--json`).
 * Pure text: no colours, so it reads the same in a log file.
 */
import type {
  Comparison,
  ConversionComparison,
  CorrectedPValues,
  CupedVariantSummary,
  ExperimentAnalysis,
  ValueSummary,
  VariantSummary,
} from './analyze.js';
import type { RatioSummary } from './ratio.js';
import type { MeanComparison } from './welch.js';

const DASH = '–';

/** Four significant digits, without exponent between 1e-4 and 1e9. */
export function formatNumber(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return DASH;
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-4 && magnitude < 1e9) return String(Number(value.toPrecision(digits)));
  return value.toExponential(digits - 1);
}

function signed(value: number, digits = 4): string {
  return value > 0 ? `+${formatNumber(value, digits)}` : formatNumber(value, digits);
}

/** A fraction as a signed percentage: 0.1732 → +17.32%. */
export function formatPercent(value: number, signedOutput = true): string {
  if (!Number.isFinite(value)) return DASH;
  const text = `${(value * 100).toFixed(2)}%`;
  return signedOutput && value > 0 ? `+${text}` : text;
}

/** A p-value: four decimals, or two significant digits in exponent form below 1e-4. */
export function formatPValue(p: number): string {
  if (!Number.isFinite(p)) return DASH;
  return p >= 1e-4 ? p.toFixed(4) : p.toExponential(1);
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * Aligned columns, two spaces apart: the first `leftColumns` columns left-aligned (labels, intervals),
 * the others right-aligned (numbers).
 */
function table(rows: readonly (readonly string[])[], leftColumns: readonly number[] = [0]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) =>
    row
      .map((cell, c) => (leftColumns.includes(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

const interval = (low: number, high: number, format: (x: number) => string): string =>
  `[${format(low)}, ${format(high)}]`;

function isRatio(summary: VariantSummary): summary is RatioSummary {
  return 'ratio' in summary;
}

function isCuped(summary: VariantSummary): summary is CupedVariantSummary {
  return 'mean_pre' in summary;
}

function variantTable(analysis: ExperimentAnalysis): string[] {
  const entries = Object.entries(analysis.variants);
  if (analysis.kind === 'ratio') {
    const rows = entries.filter((entry): entry is [string, RatioSummary] => isRatio(entry[1]));
    return table([
      ['variant', 'users', 'numerator', 'denominator', 'ratio', 'se'],
      ...rows.map(([name, v]) => [
        name,
        count(v.n),
        formatNumber(v.sum_num, 6),
        formatNumber(v.sum_den, 6),
        formatNumber(v.ratio),
        formatNumber(Math.sqrt(v.var_ratio), 3),
      ]),
    ]);
  }
  if (analysis.kind === 'cuped') {
    const rows = entries.filter((entry): entry is [string, CupedVariantSummary] => isCuped(entry[1]));
    return table([
      ['variant', 'users', 'mean (CUPED)', 'sd (CUPED)', 'mean (raw)', 'sd (raw)', 'mean before'],
      ...rows.map(([name, v]) => [
        name,
        count(v.n),
        formatNumber(v.mean),
        formatNumber(Math.sqrt(v.var)),
        formatNumber(v.mean_value),
        formatNumber(Math.sqrt(v.var_value)),
        formatNumber(v.mean_pre),
      ]),
    ]);
  }
  const rows = entries as [string, ValueSummary][];
  return table([
    ['variant', 'users', analysis.kind === 'conversion' ? 'rate' : 'mean', 'sd'],
    ...rows.map(([name, v]) => [
      name,
      count(v.n),
      analysis.kind === 'conversion' ? formatPercent(v.mean, false) : formatNumber(v.mean),
      formatNumber(Math.sqrt(v.var)),
    ]),
  ]);
}

function isConversion(comparison: Comparison): comparison is ConversionComparison {
  return 'z_p_value' in comparison;
}

function testLine(comparison: Comparison): string {
  if ('t_stat' in comparison) {
    return `Welch t ${formatNumber(comparison.t_stat, 3)}, df ${formatNumber(comparison.df, 5)}`;
  }
  return `z ${formatNumber(comparison.z_stat, 3)}`;
}

function comparisonBlock(
  name: string,
  comparison: Comparison,
  analysis: ExperimentAnalysis,
  unadjusted: MeanComparison | undefined,
): string[] {
  const level = `${Math.round(analysis.confidence * 1000) / 10}%`;
  const rows: string[][] = [
    [
      '  lift',
      signed(comparison.abs_lift),
      `${level} CI ${interval(comparison.ci_low, comparison.ci_high, signed)}`,
      `${testLine(comparison)}, p ${formatPValue(comparison.p_value)}`,
    ],
    [
      '  relative lift',
      formatPercent(comparison.rel_lift),
      `${level} CI ${interval(comparison.rel_ci_low, comparison.rel_ci_high, formatPercent)}`,
      `chance to win ${formatPercent(comparison.chance_to_win, false)}`,
    ],
  ];
  if (isConversion(comparison)) {
    rows.push([
      '  two-proportion',
      signed(comparison.p_t - comparison.p_c),
      `Wald CI ${interval(comparison.wald_ci_low, comparison.wald_ci_high, signed)}`,
      `z ${formatNumber(comparison.z_stat, 3)}, p ${formatPValue(comparison.z_p_value)}`,
    ]);
  }
  if (unadjusted !== undefined) {
    rows.push([
      '  without CUPED',
      signed(unadjusted.abs_lift),
      `${level} CI ${interval(unadjusted.ci_low, unadjusted.ci_high, signed)}`,
      `p ${formatPValue(unadjusted.p_value)}`,
    ]);
  }
  rows.push([
    '  always valid',
    '',
    `CI ${interval(comparison.sequential.ci_low, comparison.sequential.ci_high, signed)}`,
    `p ${formatPValue(comparison.sequential.p_value)} (sequential, tuned for ${count(comparison.sequential.tuning_n)} users)`,
  ]);
  return [
    `${name} vs ${analysis.control}`,
    ...table(rows, [0, 2, 3]),
    `  expected loss (relative): shipping ${name} ${formatPercent(comparison.expected_loss.treatment, false)}, ` +
      `keeping ${analysis.control} ${formatPercent(comparison.expected_loss.control, false)}`,
  ];
}

function srmLine(analysis: ExperimentAnalysis): string {
  const { srm } = analysis;
  const observed = Object.entries(srm.observed)
    .map(([name, n]) => `${name} ${count(n)} (expected ${formatNumber(srm.expected[name]!, 6)})`)
    .join(', ');
  const verdict = srm.mismatch
    ? 'MISMATCH: users were lost or misassigned; do not trust the comparisons'
    : 'split as intended';
  return `sample ratio: chi² ${formatNumber(srm.chi2)}, df ${srm.df}, p ${formatPValue(srm.p_value)}: ${verdict}\n  ${observed}`;
}

function correctionLines(corrections: Readonly<Record<string, CorrectedPValues>>): string[] {
  const lines: string[] = [];
  for (const [field, family] of Object.entries(corrections)) {
    if (lines.length > 0) lines.push('');
    lines.push(`multiple comparisons (${field}):`);
    lines.push(
      ...table([
        ['  treatment', 'raw', 'Holm', 'Benjamini-Hochberg'],
        ...Object.keys(family.raw).map((name) => [
          `  ${name}`,
          formatPValue(family.raw[name]!),
          formatPValue(family.holm[name]!),
          formatPValue(family.bh[name]!),
        ]),
      ]),
    );
  }
  return lines;
}

/** The analysis as a terminal report: variants, each comparison, the SRM check, corrections, CUPED. */
export function formatAnalysisReport(analysis: ExperimentAnalysis): string {
  const out = [
    `${analysis.kind} metric: ${count(analysis.rows)} users in ${Object.keys(analysis.variants).length} variants, ` +
      `${Math.round(analysis.confidence * 1000) / 10}% intervals, lift = treatment - ${analysis.control}`,
    '',
    ...variantTable(analysis),
  ];
  if (analysis.cuped !== undefined) {
    const fit = analysis.cuped;
    out.push(
      '',
      `CUPED: theta ${formatNumber(fit.theta)}, correlation with the pre-period ${formatNumber(fit.corr, 3)}, ` +
        `variance x ${formatNumber(fit.variance_reduction, 3)}`,
    );
  }
  for (const [name, comparison] of Object.entries(analysis.comparisons)) {
    out.push('', ...comparisonBlock(name, comparison, analysis, analysis.unadjusted_comparisons?.[name]));
  }
  out.push('', srmLine(analysis));
  if (analysis.corrections !== undefined) out.push('', ...correctionLines(analysis.corrections));
  return `${out.join('\n')}\n`;
}
