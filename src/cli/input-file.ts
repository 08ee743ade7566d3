import { readFile } from 'node:fs/promises';

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
