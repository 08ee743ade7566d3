import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `attune evaluate` as a user runs it: the compiled CLI (`npm test` builds it first) on a small file in
 * the MovieLens 100K layout, two taste clusters so every model has something to learn.
 */
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'attune-evaluate-'));
const input = join(dir, 'u.data');

const lines: string[] = [];
for (let user = 1; user <= 60; user++) {
  const cluster = user % 2;
  for (let j = 0; j < 12; j++) {
    const item = 1 + cluster * 20 + ((user * 7 + j * 3) % 20);
    lines.push(`${user}\t${item}\t4\t${1_000_000 + user * 100 + j}`);
  }
}
writeFileSync(input, lines.join('\n'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const evaluate = (...args: string[]) =>
  run(process.execPath, [CLI, 'evaluate', '--input', input, '--format', 'ml100k', ...args], {
    timeout: 60_000,
  });

describe('attune evaluate --auto', () => {
  it('chooses among the models --models names, and prints one JSON line', async () => {
    const { stdout } = await evaluate('--auto', '--models', 'itemknn,rp3beta', '--no-tune', '--json');
    const out = stdout.trim().split('\n');
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0]!) as {
      model: string;
      chosen: { model: string };
      tried: { model: string }[];
    };
    expect(line.model).toBe('auto');
    const tried = new Set(line.tried.map((t) => t.model));
    // Both named models were tuned, and nothing else but a blend of them.
    expect(tried.has('itemknn') && tried.has('rp3beta')).toBe(true);
    for (const model of tried) expect(['itemknn', 'rp3beta', 'blend']).toContain(model);
    expect(['itemknn', 'rp3beta', 'blend']).toContain(line.chosen.model);
  });

  it('without --json: what was chosen, its validation and test scores, and every candidate', async () => {
    const { stdout } = await evaluate('--auto', '--models', 'itemknn,rp3beta', '--no-tune');
    expect(stdout).toMatch(/^chose (itemknn|rp3beta|blend of .+)(, re-ranked by trees \(two-stage\))? in \d/);
    expect(stdout).toMatch(/\n {2}validation +ndcg@20 0\.\d{4} on 60 users \(\d+ candidates tried\)\n/);
    expect(stdout).toMatch(
      /\n {2}test +ndcg@20 \d\.\d{4} · recall@20 \d\.\d{4} · coverage@20 \d\.\d{4} on 60 users\n/,
    );
    expect(stdout).toMatch(
      /\n {2}data +attune-evaluate-\w+: 60 users · 40 items · 600 train \/ 120 test pairs/,
    );
    expect(stdout).toMatch(/^ {2}itemknn +0\.\d{4} /m);
    expect(stdout).toMatch(/^ {2}rp3beta +0\.\d{4} /m);
  });

  it('refuses an unknown model, naming the option and the model (a usage error: status 2)', async () => {
    await expect(evaluate('--auto', '--models', 'itemknn,nope')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--models: unknown model 'nope'/),
    });
  });
});

describe('attune evaluate --choice', () => {
  it('evaluates exactly the given model and parameters, as --models does at the same settings', async () => {
    const { stdout: plain } = await evaluate('--models', 'itemknn', '--no-tune', '--json');
    const expected = JSON.parse(plain.trim()) as { 'ndcg@20': number; params: unknown };
    const choice = JSON.stringify({ model: 'itemknn', params: expected.params });
    const { stdout } = await evaluate('--choice', choice, '--json');
    const out = stdout.trim().split('\n');
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0]!) as { model: string; 'ndcg@20': number; params: unknown };
    expect(line.model).toBe('itemknn');
    expect(line.params).toEqual(expected.params);
    expect(line['ndcg@20']).toBe(expected['ndcg@20']);
    // Other parameters give another model, and the line says which.
    const fewer = JSON.stringify({ model: 'itemknn', params: { neighbors: 1, shrinkage: 0 } });
    const other = JSON.parse((await evaluate('--choice', fewer, '--json')).stdout) as {
      params: { neighbors: number };
    };
    expect(other.params.neighbors).toBe(1);
    // Without --json: the same numbers, for people.
    const human = (await evaluate('--choice', choice)).stdout;
    expect(human).toMatch(/^evaluated itemknn in /);
    expect(human).toContain(`ndcg@20 ${expected['ndcg@20'].toFixed(4)}`);
  });

  it('refuses a choice that is not a model, naming what is wrong', async () => {
    await expect(evaluate('--choice', '{"model":"nope","params":{}}')).rejects.toMatchObject({
      stderr: expect.stringMatching(/choice\.model: unknown model "nope"/),
    });
    await expect(evaluate('--choice', 'not json')).rejects.toMatchObject({
      stderr: expect.stringMatching(/--choice: not valid JSON/),
    });
  });
});

describe('attune evaluate over several models', () => {
  it('prints a table by default and one JSON line per model with --json', async () => {
    const json = (await evaluate('--models', 'popularity,itemknn', '--no-tune', '--json')).stdout;
    const lines = json
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { model: string; 'ndcg@20': number });
    expect(lines.map((l) => l.model)).toEqual(['popularity', 'itemknn']);
    const { stdout, stderr } = await evaluate('--models', 'popularity,itemknn', '--no-tune');
    expect(stdout).toMatch(/^evaluated 2 models in .* — attune-evaluate-\w+: 60 users/);
    expect(stdout).toMatch(/^ {2}model +ndcg@20 +recall@20 +coverage@20 +val ndcg@20 +train +tune$/m);
    for (const line of lines) {
      expect(stdout).toMatch(new RegExp(`^ {2}${line.model} +${line['ndcg@20'].toFixed(4)} `, 'm'));
    }
    // Progress on stderr, counted in models; never a 0/1 counter.
    expect(stderr).toMatch(/evaluating models +100% 2\/2 models/);
    expect(stderr).not.toMatch(/\b0\/1\b/);
  });
});
