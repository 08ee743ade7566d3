import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../run-built-cli.js';

/**
 * `attune segments train` as a user runs it: the compiled CLI (`npm test` builds it first) on a small
 * demo shop, which ends at 2026-11-01, so features are read then.
 */
const dir = mkdtempSync(join(tmpdir(), 'attune-segments-cli-'));
const AT = ['--at', '2026-11-01T00:00:00Z'];
const STORE = ['--data-dir', dir];

const attune = (args: readonly string[]) => runBuiltCli(args);

interface TrainSummary {
  readonly version: number;
  readonly algorithm: string;
  readonly users: number;
  readonly k?: number;
  readonly k_scores?: { k: number; silhouette: number }[];
  readonly eps?: number;
  readonly eps_suggested?: boolean;
  readonly silhouette: number | null;
  readonly columns: string[];
  readonly segments: { id: string; size: number; share: number; description: string }[];
}

beforeAll(async () => {
  const demo = await attune(['demo', ...STORE, '--users', '200', '--items', '60', '--days', '30']);
  expect(demo.code, demo.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('attune segments train', () => {
  it('segments the demo shop’s users with k by silhouette and stores versions', async () => {
    const first = await attune(['segments', 'train', ...STORE, ...AT, '--k-range', '2..6', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as TrainSummary;
    expect(summary).toMatchObject({ version: 1, algorithm: 'kmeans' });
    expect(summary.k_scores?.map((s) => s.k)).toEqual([2, 3, 4, 5, 6]);
    const best = Math.max(...summary.k_scores!.map((s) => s.silhouette));
    expect(summary.k_scores?.find((s) => s.k === summary.k)?.silhouette).toBe(best);
    expect(summary.segments).toHaveLength(summary.k!);
    expect(summary.segments.reduce((sum, s) => sum + s.size, 0)).toBe(summary.users);
    expect(summary.users).toBeGreaterThan(150);
    // The demo's shoppers differ by their favourite categories: some segment is named by one.
    expect(summary.segments.some((s) => / of [a-z]+/.test(s.description))).toBe(true);
    expect(summary.columns).toContain('recency_days');

    const fixed = await attune([
      'segments',
      'train',
      ...STORE,
      ...AT,
      '--k',
      '3',
      '--features',
      'frequency,recency_days',
      '--json',
    ]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(JSON.parse(fixed.stdout)).toMatchObject({
      version: 2,
      k: 3,
      columns: ['frequency', 'recency_days'],
    });

    const dense = await attune(['segments', 'train', ...STORE, ...AT, '--algorithm', 'dbscan', '--json']);
    expect(dense.code, dense.stderr).toBe(0);
    const dbscan = JSON.parse(dense.stdout) as TrainSummary;
    expect(dbscan).toMatchObject({ version: 3, algorithm: 'dbscan', eps_suggested: true });
    expect(dbscan.eps).toBeGreaterThan(0);

    // Without --json: the stored version, how it was clustered, and one row per segment.
    const human = await attune(['segments', 'train', ...STORE, ...AT, '--k', '3']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^trained segments version 4 in .+: 3 segments of \d+ users\n/);
    expect(human.stdout).toMatch(/\n {2}clustering +k-means, k = 3\n/);
    expect(human.stdout).toMatch(/^ {2}segment +users +share +description$/m);
    expect(human.stdout.match(/^ {2}\S+ +[\d,]+ +\d+\.\d% +\S/gm)).toHaveLength(3);
  }, 120_000);

  it('refuses options of the other algorithm and unknown features', async () => {
    const eps = await attune(['segments', 'train', ...STORE, '--eps', '0.5']);
    // Options that do not go together are a wrong command line: status 2.
    expect(eps.code).toBe(2);
    expect(eps.stderr).toMatch(/--eps and --min-samples apply to --algorithm dbscan only/);
    const range = await attune(['segments', 'train', ...STORE, '--k-range', '5..2']);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/--k-range must be LOW..HIGH/);
    const unknown = await attune(['segments', 'train', ...STORE, '--features', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no user feature "nope"/);
  }, 60_000);
});
