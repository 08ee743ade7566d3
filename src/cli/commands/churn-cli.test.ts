import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../run-built-cli.js';

/**
 * `attune churn train|evaluate|score` on the store's events as a user runs them: the compiled CLI (`npm
 * test` builds it first) on a small demo shop, whose planted lapses give churn to learn. The shop ends at
 * 2026-11-01, so every command is told that is now.
 */
const dir = mkdtempSync(join(tmpdir(), 'attune-churn-cli-'));
const NOW = ['--now', '2026-11-01T00:00:00Z'];
const STORE = ['--data-dir', dir];

const attune = (args: readonly string[]) => runBuiltCli(args);

interface ReportLine {
  readonly model: string;
  readonly auc: number;
  readonly pr_auc: number;
  readonly brier: number;
  readonly logloss: number;
  readonly ece: number;
  readonly train_s: number;
  readonly churn_rate: number;
}

beforeAll(async () => {
  const demo = await attune(['demo', ...STORE, '--users', '400', '--items', '100', '--days', '60']);
  expect(demo.code, demo.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('attune churn on the store’s events', () => {
  it('evaluate prints one line per model of the time-based validation, the learners above chance', async () => {
    const { stdout, stderr, code } = await attune([
      'churn',
      'evaluate',
      ...STORE,
      ...NOW,
      '--window',
      '14',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ReportLine);
    expect(lines.map((l) => l.model)).toEqual(['logreg', 'gbdt', 'recency']);
    const table = await attune(['churn', 'evaluate', ...STORE, ...NOW, '--window', '14']);
    expect(table.stdout).toMatch(/^ {2}model +ROC AUC +PR AUC +Brier +log loss +ECE +train$/m);
    expect(table.stdout).toMatch(/^ {2}recency +\d\.\d{4} /m);
    for (const line of lines) {
      expect(line.auc).toBeGreaterThan(0.6);
      expect(line.pr_auc).toBeGreaterThan(line.churn_rate);
      expect(line.brier).toBeLessThan(0.25);
      expect(line.ece).toBeGreaterThanOrEqual(0);
      expect(line.train_s).toBeGreaterThanOrEqual(0);
    }
  }, 120_000);

  it('says when the window has not ended by now', async () => {
    const early = await attune(['churn', 'evaluate', ...STORE, ...NOW, '--cutoff', '2026-10-25T00:00:00Z']);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/labels are not known yet/);
  });

  it('train stores a versioned model; score writes every active user’s risk, or one user’s', async () => {
    const none = await attune(['churn', 'score', ...STORE, ...NOW]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no churn model is trained yet/);

    const trained = await attune([
      'churn',
      'train',
      ...STORE,
      ...NOW,
      '--window',
      '14',
      '--model',
      'gbdt',
      '--json',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const info = JSON.parse(trained.stdout) as {
      version: number;
      model: string;
      cutoff: string;
      bands: { medium: number; high: number };
      evaluation: { model: string }[];
    };
    expect(info).toMatchObject({ version: 1, model: 'gbdt', cutoff: '2026-10-18T00:00:00.000Z' });
    expect(info.bands.medium).toBeLessThanOrEqual(info.bands.high);
    expect(info.evaluation.map((e) => e.model)).toEqual(['logreg', 'gbdt', 'recency']);
    // Without --json: what was stored, how it validated, where; the next version.
    const human = await attune(['churn', 'train', ...STORE, ...NOW, '--window', '14', '--model', 'gbdt']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^trained churn model version 2 in /);
    expect(human.stdout).toMatch(/\n {2}model +gbdt\n/);
    expect(human.stdout).toMatch(/\n {2}validation +ROC AUC 0\.\d{4} · PR AUC 0\.\d{4}\n/);
    expect(human.stdout).toContain(`churn version 2 in ${dir}`);

    const out = join(dir, 'scores.csv');
    const scored = await attune(['churn', 'score', ...STORE, ...NOW, '--out', out]);
    expect(scored.code, scored.stderr).toBe(0);
    const [header, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
    expect(header).toBe('user_id,probability,risk_band,top_driver');
    expect(rows.length).toBeGreaterThan(300);
    const bands = new Set<string>();
    for (const row of rows) {
      const [, probability, band] = row.split(',');
      expect(Number(probability)).toBeGreaterThanOrEqual(0);
      expect(Number(probability)).toBeLessThanOrEqual(1);
      bands.add(band ?? '');
    }
    expect(bands).toEqual(new Set(['low', 'medium', 'high']));

    const user = rows[0]!.split(',')[0]!;
    const one = await attune(['churn', 'score', ...STORE, ...NOW, '--user', user]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.trim().split('\n')).toEqual([header, rows[0]]);
  }, 120_000);

  it('keeps --table requiring --label', async () => {
    const missing = await attune(['churn', 'evaluate', '--table', join(dir, 'absent.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--label <column>' not specified/);
  });
});
