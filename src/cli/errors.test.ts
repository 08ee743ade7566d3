import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/index.js';
import { CliError, EXIT_USAGE, explain, reportError, UsageError, verboseRequested } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'attune-cli-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function report(error: unknown, verbose = false): { text: string; code: number } {
  let text = '';
  const code = reportError(error, verbose, (chunk) => (text += chunk));
  return { text, code };
}

describe('errors as the CLI reports them', () => {
  it('says what to do next, and the status: 1 for failures, 2 for usage', () => {
    expect(report(new CliError('no churn model is trained yet', 'run `attune churn train` first'))).toEqual({
      text: 'attune: no churn model is trained yet\n  → run `attune churn train` first\n',
      code: 1,
    });
    expect(report(new UsageError('give --k or --k-range, not both')).code).toBe(EXIT_USAGE);
  });

  it('keeps the stack for --verbose / ATTUNE_DEBUG only', () => {
    const error = new Error('boom');
    expect(report(error).text).toBe('attune: boom\n');
    expect(report(error, true).text).toContain('at ');
    expect(verboseRequested(['node', 'main.js', 'train', '--verbose'], {})).toBe(true);
    expect(verboseRequested(['node', 'main.js', 'train'], { ATTUNE_DEBUG: '1' })).toBe(true);
    expect(verboseRequested(['node', 'main.js', 'train'], { ATTUNE_DEBUG: '0' })).toBe(false);
    expect(verboseRequested(['node', 'main.js', 'train'], {})).toBe(false);
  });

  it('reads a store that another process holds locked as that, with what to do', async () => {
    const storeDir = join(dir, 'locked');
    const store = openSqliteStore({ dataDir: storeDir });
    await store.close();
    // Another process's write transaction, held open; this one gives up at once instead of waiting.
    const holder = new Database(join(storeDir, 'attune.db'));
    holder.exec('BEGIN IMMEDIATE');
    const other = new Database(join(storeDir, 'attune.db'), { timeout: 0 });
    let caught: unknown = null;
    try {
      other.exec('BEGIN IMMEDIATE');
    } catch (error) {
      caught = error;
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
      other.close();
    }
    expect((caught as { code?: string }).code).toBe('SQLITE_BUSY');
    const { message, hint } = explain(caught);
    expect(message).toMatch(/^the store is locked by another process/);
    expect(hint).toMatch(/wait for it to finish, or stop it/);
  });

  it('reads a read-only open of a directory without a store as a wrong path, naming what fills it', () => {
    let caught: unknown = null;
    try {
      openSqliteStore({ dataDir: join(dir, 'nowhere'), readonly: true });
    } catch (error) {
      caught = error;
    }
    const { message, hint } = explain(caught);
    expect(message).toBe(`no data directory at ${join(dir, 'nowhere')}`);
    expect(hint).toMatch(/attune demo.*attune import/);
  });
});
