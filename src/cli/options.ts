import { resolve } from 'node:path';
import { storeUrlFromDataDir } from '../store/index.js';

/** Where data lives: `--data-dir`, else `ATTUNE_DATA_DIR`, else `./.attune`. */
export function dataDir(option: string | undefined): string {
  return resolve(option ?? process.env['ATTUNE_DATA_DIR'] ?? '.attune');
}

export function storeUrl(option: string | undefined): string {
  return storeUrlFromDataDir(dataDir(option));
}

/** `--port`, else `PORT`, else 8080. */
export function port(option: string | undefined): number {
  const value = Number(option ?? process.env['PORT'] ?? 8080);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`invalid port "${option}"`);
  return value;
}

export function positiveInt(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number <= 0)
      throw new Error(`${name} must be a positive integer, got "${value}"`);
    return number;
  };
}

/** A finite number in [0, 1): a share or a relative lift. */
export function fraction(name: string) {
  return (value: string): number => {
    const number = value.trim() === '' ? Number.NaN : Number(value);
    if (!(Number.isFinite(number) && number >= 0 && number < 1))
      throw new Error(`${name} must be a number in [0, 1), got "${value}"`);
    return number;
  };
}
