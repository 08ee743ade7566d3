import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { CliError } from './errors.js';

/** A file a command reads (`--input`, `--table`, …); a missing or unreadable one is an error naming it. */
export async function readInputFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** Fails, naming the path, unless it is a file this process can read. */
export async function readableFile(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CliError(
      code === 'ENOENT'
        ? `no file at ${path}`
        : `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
      code === 'ENOENT' ? 'check the path (relative paths start from the current directory)' : null,
      undefined,
      { cause: error },
    );
  }
}
