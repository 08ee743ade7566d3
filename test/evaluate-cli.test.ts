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
    const { stdout } = await evaluate('--auto', '--models', 'itemknn,rp3beta', '--no-tune');
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

  it('refuses an unknown model, naming the option and the model', async () => {
    await expect(evaluate('--auto', '--models', 'itemknn,nope')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--models: unknown model 'nope'/),
    });
  });
});

describe('attune evaluate --choice', () => {
  it('evaluates exactly the given model and parameters, as --models does at the same settings', async () => {
    const { stdout: plain } = await evaluate('--models', 'itemknn', '--no-tune');
    const expected = JSON.parse(plain.trim()) as { 'ndcg@20': number; params: unknown };
    const choice = JSON.stringify({ model: 'itemknn', params: expected.params });
    const { stdout } = await evaluate('--choice', choice);
    const out = stdout.trim().split('\n');
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0]!) as { model: string; 'ndcg@20': number; params: unknown };
    expect(line.model).toBe('itemknn');
    expect(line.params).toEqual(expected.params);
    expect(line['ndcg@20']).toBe(expected['ndcg@20']);
    // Other parameters give another model, and the line says which.
    const fewer = JSON.stringify({ model: 'itemknn', params: { neighbors: 1, shrinkage: 0 } });
    const other = JSON.parse((await evaluate('--choice', fewer)).stdout) as { params: { neighbors: number } };
    expect(other.params.neighbors).toBe(1);
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
