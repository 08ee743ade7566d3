import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseWeights } from './stats.js';

/**
 * `attune stats` as a user runs it: the compiled CLI (`npm test` builds it first) on small CSV files.
 * Expected numbers: scipy 1.17 / statsmodels 0.15 on the same rows (see src/experiments/stats/*.test.ts).
 */
const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'attune-stats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csv(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const rows = (variant: string, values: number[]) => values.map((value) => `${variant},${value}`);
const ones = (x: number, n: number) => Array.from({ length: n }, (_, i) => (i < x ? 1 : 0));
// Interleaved, treatment rows first: the order of rows must not matter.
const conversions = csv(
  'conversion.csv',
  [
    'variant,value',
    ...rows('b', ones(13, 45)),
    ...rows('control', ones(6, 40)),
    ...rows('c', ones(5, 38)),
  ].join('\n') + '\n',
);

const stats = (...args: string[]) => run(process.execPath, [CLI, 'stats', ...args], { timeout: 30_000 });

interface Json {
  [key: string]: unknown;
}

describe('attune stats --json', () => {
  it('prints one JSON object with the README fields', async () => {
    const { stdout } = await stats(
      '--input',
      conversions,
      '--kind',
      'conversion',
      '--weights',
      'control=0.4,b=0.3,c=0.3',
      '--json',
    );
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(stdout) as Json;
    expect(result).toMatchObject({
      kind: 'conversion',
      control: 'control',
      treatments: ['b', 'c'],
      rows: 123,
    });
    expect(result['z_crit']).toBeCloseTo(1.959963984540054, 15);
    expect(result['confidence']).toBe(0.95);
    expect(Object.keys(result['variants'] as Json)).toEqual(['control', 'b', 'c']);
    const b = (result['comparisons'] as Record<string, Json>)['b']!;
    expect(b).toMatchObject({ n_c: 40, n_t: 45, x_c: 6, x_t: 13 });
    expect(b['p_value']).toBeCloseTo(0.12288511239249875, 14);
    expect(b['z_p_value']).toBeCloseTo(0.12499568623412499, 14);
    expect(b['t_crit']).toBeCloseTo(1.9893576664746104, 9);
    const srm = result['srm'] as Json;
    expect(srm['observed']).toEqual({ control: 40, b: 45, c: 38 });
    expect(srm['p_value']).toBeCloseTo(0.1710870725586366, 14);
    const corrections = result['corrections'] as Record<string, Record<string, Record<string, number>>>;
    expect(Object.keys(corrections)).toEqual(['p_value', 'z_p_value']);
    expect(corrections['p_value']!['holm']!['b']).toBeCloseTo(0.2457702247849975, 14);
  });

  it('prints the report without --json', async () => {
    const { stdout } = await stats(
      '--input',
      conversions,
      '--kind',
      'conversion',
      '--weights',
      'control=4,b=3,c=3',
    );
    expect(stdout).toContain('b vs control');
    expect(stdout).toContain('sample ratio: chi² 3.531, df 2, p 0.1711: split as intended');
  });
});

describe('attune stats refuses bad input with a clear message and status 1', () => {
  it('names an unknown kind', async () => {
    await expect(
      stats('--input', conversions, '--kind', 'median', '--weights', 'control=1,b=1,c=1'),
      // A value outside the choices is a wrong command line: status 2.
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--kind.*median.*mean, conversion/s) });
  });

  it('names the file, line and column of a bad value', async () => {
    const bad = csv('bad.csv', 'variant,value\ncontrol,1\nb,0\nb,2\n');
    await expect(
      stats('--input', bad, '--kind', 'conversion', '--weights', 'control=1,b=1'),
    ).rejects.toMatchObject({
      code: 1,
      stderr: `attune: ${bad}: line 4, column 2 (value): 2 must be 0 or 1\n`,
    });
  });

  it('names a variant missing from --weights, and bad weights', async () => {
    await expect(
      stats('--input', conversions, '--kind', 'conversion', '--weights', 'control=1,b=1'),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('the data has variant "c" without a weight'),
    });
    await expect(
      stats('--input', conversions, '--kind', 'conversion', '--weights', 'control=1,b'),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--weights: expected name=weight, got "b"'),
    });
  });

  it('names a file it cannot read', async () => {
    await expect(
      stats('--input', join(dir, 'missing.csv'), '--kind', 'mean', '--weights', 'control=1,b=1'),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot read .*missing\.csv/) });
  });
});

describe('parseWeights', () => {
  it('keeps the order given and refuses repeats, non-positive weights and bad names', () => {
    expect([...parseWeights('control=0.5, b = 0.25,c=0.25')]).toEqual([
      ['control', 0.5],
      ['b', 0.25],
      ['c', 0.25],
    ]);
    expect(() => parseWeights('control=1,control=1')).toThrow('--weights: "control" is given twice');
    expect(() => parseWeights('control=1,b=0')).toThrow(/must be a positive number, got "0"/);
    expect(() => parseWeights('control=1,B=1')).toThrow(/"B" is not a variant name/);
  });
});
