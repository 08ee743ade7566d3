import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../src/cli/run-built-cli.js';
import { openSqliteStore } from '../src/store/index.js';

/**
 * What the compiled CLI (`npm test` builds it first) says when something is wrong: what, then what to do
 * next; status 1 for a failure and 2 for a wrong command line; a stack trace only when asked for.
 */
const dir = mkdtempSync(join(tmpdir(), 'attune-errors-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('attune errors', () => {
  it('a data directory without a store: names it and the commands that fill it, and creates nothing', async () => {
    const missing = join(dir, 'typo');
    for (const args of [
      ['train', '--data-dir', missing],
      ['experiments', 'list', '--data-dir', missing],
      ['churn', 'train', '--data-dir', missing],
    ]) {
      const { code, stdout, stderr } = await runBuiltCli(args);
      expect(code, args.join(' ')).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toBe(
        `attune: no data directory at ${missing}\n` +
          '  → run `attune demo` (a demo shop) or `attune import --format <format> <file>` first, ' +
          'or point --data-dir (or ATTUNE_DATA_DIR) at an existing one\n',
      );
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('a store without events: train says how to load some', async () => {
    const empty = join(dir, 'empty');
    await openSqliteStore({ dataDir: empty }).close();
    const { code, stderr } = await runBuiltCli(['train', '--data-dir', empty]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `attune: the store at ${empty} has no events to train on\n  → load some first: \`attune demo\``,
    );
  });

  it('a wrong command line is status 2 with commander’s message, the allowed values and a pointer to --help', async () => {
    const choice = await runBuiltCli(['segments', 'evaluate', '--input', 'x.csv', '--algorithm', 'hdbscan']);
    expect(choice.code).toBe(2);
    expect(choice.stderr).toContain(
      "error: option '--algorithm <name>' argument 'hdbscan' is invalid. Allowed choices are kmeans, dbscan.",
    );
    expect(choice.stderr).toContain('run with --help');
    const number = await runBuiltCli(['demo', '--users', '0']);
    expect(number.code).toBe(2);
    expect(number.stderr).toContain('--users must be a positive integer (1, 2, …), got "0"');
    const typo = await runBuiltCli(['trian']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('(Did you mean train?)');
    const exclusive = await runBuiltCli(['features', 'export', '--data-dir', dir]);
    expect(exclusive.code).toBe(2);
    expect(exclusive.stderr).toBe('attune: give exactly one of --at TIME and --rows FILE\n');
  });

  it('a missing input file is named, before any store is created', async () => {
    const store = join(dir, 'never');
    const { code, stderr } = await runBuiltCli([
      'import',
      '--format',
      'ml100k',
      join(dir, 'nope.data'),
      '--data-dir',
      store,
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain(`attune: no file at ${join(dir, 'nope.data')}\n  → check the path`);
    expect(existsSync(store)).toBe(false);
  });

  it('no stack trace unless --verbose (or ATTUNE_DEBUG)', async () => {
    const args = ['train', '--data-dir', join(dir, 'typo')];
    expect((await runBuiltCli(args)).stderr).not.toMatch(/\n\s+at /);
    const verbose = await runBuiltCli([...args, '--verbose']);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/CliError: no data directory[^]*\n\s+at /);
  });

  it('help is not an error', async () => {
    const top = await runBuiltCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Getting started:');
    const train = await runBuiltCli(['train', '--help']);
    expect(train.code).toBe(0);
    expect(train.stdout).toContain('Examples:\n  $ attune train');
  });
});
