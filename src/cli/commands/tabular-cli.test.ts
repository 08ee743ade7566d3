import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../run-built-cli.js';

/**
 * `attune churn evaluate` and `attune segments evaluate` as a user runs them: the compiled CLI (`npm test`
 * builds it first) on small generated customer tables.
 */
const dir = mkdtempSync(join(tmpdir(), 'attune-tabular-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const attune = (args: readonly string[]) => runBuiltCli(args);

/**
 * 600 customers: churn is likely on a monthly contract with short tenure; `id` is an identifier,
 * `charges` numeric text with blanks, `region` a category that carries no signal.
 */
function customers(): string {
  const lines = ['id,contract,tenure,charges,region,Churn'];
  for (let i = 0; i < 600; i++) {
    const monthly = i % 3 !== 0;
    const tenure = (i * 7919) % 72;
    const risk = (monthly ? 0.5 : -1.5) - tenure / 24 + (((i * 104_729) % 100) / 100 - 0.5) * 1.5;
    const charges = i % 50 === 7 ? '' : (20 + ((i * 31) % 90)).toFixed(2);
    lines.push(
      `C-${i},${monthly ? 'Month-to-month' : '"One year, paid"'},${tenure},${charges},${['north', 'south'][i % 2]},${risk > 0 ? 'Yes' : 'No'}`,
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

describe('attune churn evaluate', () => {
  it('prints one JSON line per model, both well above chance on a planted signal', async () => {
    const table = file('customers.csv', customers());
    const { stdout, code } = await attune([
      'churn',
      'evaluate',
      '--table',
      table,
      '--label',
      'Churn',
      '--drop',
      'id',
      '--json',
    ]);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { model: string; auc: number; logloss: number; train_s: number });
    expect(lines.map((line) => line.model)).toEqual(['logreg', 'gbdt']);
    for (const line of lines) {
      expect(line.auc).toBeGreaterThan(0.85);
      expect(line.logloss).toBeLessThan(Math.log(2));
    }
    // Without --json: one table row per model, the better named.
    const human = await attune(['churn', 'evaluate', '--table', table, '--label', 'Churn', '--drop', 'id']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ {2}model +ROC AUC +log loss +train$/m);
    for (const line of lines) {
      expect(human.stdout).toMatch(new RegExp(`^ {2}${line.model} +${line.auc.toFixed(4)} `, 'm'));
    }
    expect(human.stdout).toMatch(/best ROC AUC: (logreg|gbdt)/);
  });

  it('names the column when the label is missing, and the row of a bad label', async () => {
    const table = file('customers-2.csv', customers());
    const missing = await attune(['churn', 'evaluate', '--table', table, '--label', 'Churned']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Churned/);
    const bad = file('bad-label.csv', customers().replace(/,Yes\r\n/, ',Maybe\r\n'));
    const refused = await attune(['churn', 'evaluate', '--table', bad, '--label', 'Churn', '--drop', 'id']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Maybe/);
    expect(refused.stderr).toMatch(/row/);
  });
});

describe('attune segments evaluate', () => {
  it('clusters the numeric columns of planted groups, leaving text columns and blank rows out', async () => {
    // Three tight, far-apart groups in (spend, visits), a text column, and one row with a blank.
    const lines = ['name,spend,visits'];
    const centres = [
      [10, 1],
      [200, 30],
      [500, 5],
    ] as const;
    const groups: [number, number][][] = [[], [], []];
    for (let i = 0; i < 90; i++) {
      const [spend, visits] = centres[i % 3]!;
      const point: [number, number] = [spend + (i % 5) * 0.1, visits + (i % 7) * 0.1];
      groups[i % 3]!.push(point);
      lines.push(`c${i},${point[0]},${point[1]}`);
    }
    lines.push('blank,,3');
    // The planted partition's inertia, from each group's own mean: k-means must find exactly it.
    let expected = 0;
    for (const group of groups) {
      const mean = [0, 1].map((c) => group.reduce((sum, p) => sum + p[c]!, 0) / group.length);
      for (const p of group) expected += (p[0] - mean[0]!) ** 2 + (p[1] - mean[1]!) ** 2;
    }
    const input = file('groups.csv', `${lines.join('\n')}\n`);
    const { stdout, code } = await attune([
      'segments',
      'evaluate',
      '--input',
      input,
      '--k',
      '3',
      '--n-init',
      '4',
      '--json',
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { inertia: number; rows: number; columns: string[]; k: number };
    expect(result).toMatchObject({ rows: 90, columns: ['spend', 'visits'], k: 3 });
    expect(result.inertia).toBeCloseTo(expected, 9);
    // Without --json: the same fit, for people.
    const human = await attune(['segments', 'evaluate', '--input', input, '--k', '3', '--n-init', '4']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`k-means on ${input}: k = 3`);
    expect(human.stdout).toMatch(/\n {2}inertia +\d/);
    expect(human.stdout).toMatch(/\n {2}data +90 rows · 2 numeric columns \(spend, visits\)/);
  });
});

describe('attune segments evaluate --algorithm dbscan', () => {
  /**
   * Three groups of 25 customers on 5 × 5 lattices of step 0.5 (each row has 2 to 4 others 0.5 away, so
   * every row is core at eps 1 with 4 samples), five loners far from everything, a text column and a row
   * with a blank.
   */
  function lattices(): string {
    const lines = ['name,spend,visits'];
    const centres = [
      [0, 0],
      [40, 0],
      [0, 40],
    ] as const;
    for (const [x, y] of centres) {
      for (let i = 0; i < 25; i++)
        lines.push(`c${lines.length},${x + (i % 5) * 0.5},${y + Math.floor(i / 5) * 0.5}`);
    }
    for (const [x, y] of [
      [100, 100],
      [-100, 100],
      [100, -100],
      [-100, -100],
      [20, 20],
    ] as const) {
      lines.push(`loner${lines.length},${x},${y}`);
    }
    lines.push('blank,,3');
    return `${lines.join('\n')}\n`;
  }

  it('prints clusters, noise, core rows and seconds at the given eps', async () => {
    const input = file('lattices.csv', lattices());
    const args = ['segments', 'evaluate', '--input', input, '--algorithm', 'dbscan'];
    const { stdout, code } = await attune([...args, '--eps', '1', '--min-samples', '4', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ clusters: 3, noise: 5, core: 75, eps: 1, minSamples: 4, rows: 80 });
    expect(result['seconds']).toBeGreaterThanOrEqual(0);
    expect(result).not.toHaveProperty('suggestedEps');
    // Below the lattice step every row has only itself within eps: all noise.
    const tight = JSON.parse(
      (await attune([...args, '--eps', '0.3', '--min-samples', '4', '--json'])).stdout,
    ) as object;
    expect(tight).toMatchObject({ clusters: 0, noise: 80, core: 0 });
  });

  it('suggests eps from the k-distance curve when --eps is left out', async () => {
    const input = file('lattices-2.csv', lattices());
    const args = ['segments', 'evaluate', '--input', input, '--algorithm', 'dbscan', '--min-samples', '4'];
    const { stdout, code } = await attune([...args, '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      eps: number;
      suggestedEps: number;
      clusters: number;
      noise: number;
    };
    // The lattices' 4-distances are 0.5 and 0.5·√2 (corners); the loners' are tens: the knee is a corner's.
    expect(result.suggestedEps).toBeCloseTo(Math.SQRT1_2, 12);
    expect(result.eps).toBe(result.suggestedEps);
    expect(result).toMatchObject({ clusters: 3, noise: 5 });
  });

  it("refuses the other algorithm's options, and keeps k-means' output as it was", async () => {
    const input = file('lattices-3.csv', lattices());
    const base = ['segments', 'evaluate', '--input', input];
    // Side by side: five processes one after another come close to the timeout on a loaded machine.
    const [withK, withoutK, epsWithKmeans, unknown, kmeans] = await Promise.all([
      attune([...base, '--algorithm', 'dbscan', '--k', '3']),
      attune(base),
      attune([...base, '--k', '3', '--eps', '1']),
      attune([...base, '--algorithm', 'hdbscan']),
      attune([...base, '--k', '3', '--json']),
    ]);
    // Options that do not go together, or a value outside the choices, are a wrong command line: status 2.
    expect(withK.code).toBe(2);
    expect(withK.stderr).toMatch(/--k applies to --algorithm kmeans/);
    expect(withoutK.code).toBe(2);
    expect(withoutK.stderr).toMatch(/--k is required/);
    expect(epsWithKmeans.code).toBe(2);
    expect(epsWithKmeans.stderr).toMatch(/--eps/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/hdbscan/);
    const kmeansLine = JSON.parse(kmeans.stdout) as object;
    expect(Object.keys(kmeansLine)).toEqual(['inertia', 'iterations', 'seconds', 'k', 'rows', 'columns']);
  });
});
