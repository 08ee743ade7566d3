import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { DATABASE_FILE, storeUrlFromDataDir } from '../store/index.js';
import { missingStoreError, UsageError } from './errors.js';

/** Where data lives: `--data-dir`, else `ATTUNE_DATA_DIR`, else `./.attune`. */
export function dataDir(option: string | undefined): string {
  return resolve(option ?? process.env['ATTUNE_DATA_DIR'] ?? '.attune');
}

/**
 * The store a command uses: `--data-dir` (the embedded SQLite store there), else `DATABASE_URL`
 * (`postgres://…`, optionally `?schema=name`), else `ATTUNE_DATA_DIR`, else `./.attune`.
 */
export function storeUrl(option: string | undefined): string {
  const databaseUrl = process.env['DATABASE_URL'];
  if (option === undefined && databaseUrl) return databaseUrl;
  return storeUrlFromDataDir(dataDir(option));
}

/** Where the store is, for messages: the data directory, or "the database in DATABASE_URL" (never the URL). */
export function storeName(option: string | undefined): string {
  return option === undefined && process.env['DATABASE_URL']
    ? 'the database in DATABASE_URL'
    : dataDir(option);
}

/**
 * The data directory of a command that reads what is already there (train, reports, exports): one without
 * a store is a wrong path or a step skipped, and the error says which command fills it. With
 * `DATABASE_URL` (and no `--data-dir`) there is no directory to check: undefined, and the store is opened
 * from the URL.
 */
export function existingDataDir(option: string | undefined): string | undefined {
  if (option === undefined && process.env['DATABASE_URL']) return undefined;
  const dir = dataDir(option);
  if (!existsSync(join(dir, DATABASE_FILE))) throw missingStoreError(dir);
  return dir;
}

/** `--port`, else `PORT`, else 8080. */
export function port(option: string | undefined): number {
  const value = Number(option ?? process.env['PORT'] ?? 8080);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new UsageError(
      `invalid port "${option ?? process.env['PORT']}"`,
      'give an integer from 0 to 65535 (0: any free port)',
    );
  }
  return value;
}

/** Commander's parser for an integer ≥ 1; a bad value is a usage error naming the option. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number <= 0)
      throw new InvalidArgumentError(`${name} must be a positive integer (1, 2, …), got "${value}"`);
    return number;
  };
}

/** A finite number in [0, 1): a share or a relative lift. */
export function fraction(name: string) {
  return (value: string): number => {
    const number = value.trim() === '' ? Number.NaN : Number(value);
    if (!(Number.isFinite(number) && number >= 0 && number < 1))
      throw new InvalidArgumentError(`${name} must be a number in [0, 1), e.g. 0.05, got "${value}"`);
    return number;
  };
}

/** Commander's parser for a finite number above 0. */
export function positiveNumber(name: string) {
  return (value: string): number => {
    const number = value.trim() === '' ? Number.NaN : Number(value);
    if (!(Number.isFinite(number) && number > 0))
      throw new InvalidArgumentError(`${name} must be a positive number, got "${value}"`);
    return number;
  };
}
