import { describe, expect, it } from 'vitest';
import { analyzeExperiment } from './analyze.js';
import { formatAnalysisReport, formatNumber, formatPercent, formatPValue } from './report.js';

const columns = (values: number[]) => [Float64Array.from(values)];
const ones = (x: number, n: number) => Array.from({ length: n }, (_, i) => (i < x ? 1 : 0));

describe('formatAnalysisReport', () => {
  it('shows variants, each comparison with its intervals, the SRM verdict and the corrections', () => {
    const analysis = analyzeExperiment(
      {
        kind: 'conversion',
        variants: new Map([
          ['control', columns(ones(6, 40))],
          ['b', columns(ones(13, 45))],
          ['c', columns(ones(5, 38))],
        ]),
      },
      {
        weights: new Map([
          ['control', 0.4],
          ['b', 0.3],
          ['c', 0.3],
        ]),
      },
    );
    const report = formatAnalysisReport(analysis);
    expect(report).toMatch(/^conversion metric: 123 users in 3 variants, 95% intervals/);
    expect(report).toMatch(/^control\s+40\s+15\.00%/m);
    expect(report).toContain('b vs control');
    // abs lift 0.13888…, relative +92.59%, Welch p 0.1229, z-test p 0.1250
    expect(report).toMatch(
      /lift\s+\+0\.1389\s+95% CI \[-0\.03836, \+0\.3161\]\s+Welch t 1\.56, df 81\.892, p 0\.1229/,
    );
    expect(report).toMatch(/relative lift\s+\+92\.59%/);
    expect(report).toMatch(/two-proportion .* p 0\.1250/);
    expect(report).toContain('sample ratio: chi² 3.531, df 2, p 0.1711: split as intended');
    expect(report).toMatch(/multiple comparisons \(z_p_value\):/);
    expect(report).toMatch(/^ {2}b\s+0\.1229\s+0\.2458\s+0\.2458$/m);
  });

  it('calls out a broken split', () => {
    const analysis = analyzeExperiment(
      {
        kind: 'srm',
        variants: new Map([
          ['control', columns(ones(30, 300))],
          ['b', columns(ones(10, 100))],
        ]),
      },
      {
        weights: new Map([
          ['control', 0.5],
          ['b', 0.5],
        ]),
      },
    );
    expect(formatAnalysisReport(analysis)).toContain('MISMATCH');
  });
});

describe('number formats', () => {
  it('prints four significant digits, percentages and p-values', () => {
    expect(formatNumber(0.0008472999965645194)).toBe('0.0008473');
    expect(formatNumber(12216.258617267402)).toBe('12220');
    expect(formatNumber(1.2e-7)).toBe('1.200e-7');
    expect(formatNumber(NaN)).toBe('–');
    expect(formatPercent(0.1732)).toBe('+17.32%');
    expect(formatPercent(-0.0041, false)).toBe('-0.41%');
    expect(formatPValue(0.07412774434712965)).toBe('0.0741');
    expect(formatPValue(7.1e-12)).toBe('7.1e-12');
  });
});
