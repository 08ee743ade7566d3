import { CommanderError } from 'commander';
import { DATABASE_FILE } from '../store/index.js';

/** Exit statuses: 0 done, 1 the work failed, 2 the command line was wrong (as most Unix tools). */
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/**
 * A failure the user can act on: the message says what is wrong, `hint` what to run or change next.
 * Thrown by commands; `main.ts` prints both, without a stack trace.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly hint: string | null = null,
    readonly exitCode: number = EXIT_ERROR,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** The command line itself is wrong (options that exclude each other, a value out of range): status 2. */
export class UsageError extends CliError {
  constructor(message: string, hint: string | null = null) {
    super(message, hint, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** The next step for a data directory that holds no store yet. */
export function missingStoreError(dir: string): CliError {
  return new CliError(
    `no data directory at ${dir}`,
    'run `attune demo` (a demo shop) or `attune import --format <format> <file>` first, ' +
      'or point --data-dir (or ATTUNE_DATA_DIR) at an existing one',
  );
}

/** What an error from somewhere below the CLI means to its user, when it is one of the known situations. */
export function explain(error: unknown): { readonly message: string; readonly hint: string | null } {
  if (error instanceof CliError) return { message: error.message, hint: error.hint };
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  // Another process writes to the store past the busy timeout: a server, an import, a training run.
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || /database is locked/.test(message)) {
    return {
      message: `the store is locked by another process (${message})`,
      hint:
        'another attune process (a server, an import or a training run) is writing to it; wait for it to ' +
        'finish, or stop it, then run this again',
    };
  }
  // A read-only opener finding no database: the data directory is wrong or never filled.
  const missing = new RegExp(`No Attune database at (.*)/${DATABASE_FILE.replace('.', '\\.')}`).exec(message);
  if (missing) return { message: missingStoreError(missing[1]!).message, hint: missingStoreError('').hint };
  return { message, hint: null };
}

/** Whether a thrown value came from commander's parsing (unknown option, bad choice, missing argument). */
export function isCommanderError(error: unknown): error is CommanderError {
  return error instanceof CommanderError;
}

/**
 * Writes an error the way every command reports one, `attune: <what>` and `  → <next step>`, with the
 * stack only when asked (`--verbose`, `ATTUNE_DEBUG`); returns the exit status.
 */
export function reportError(error: unknown, verbose: boolean, write: (text: string) => void): number {
  const { message, hint } = explain(error);
  write(`attune: ${message}\n`);
  if (hint !== null) write(`  → ${hint}\n`);
  if (verbose && error instanceof Error && error.stack) write(`${error.stack}\n`);
  return error instanceof CliError ? error.exitCode : EXIT_ERROR;
}

/** `--verbose` anywhere on the command line, or `ATTUNE_DEBUG` set to anything but 0/false/empty. */
export function verboseRequested(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const debug = env['ATTUNE_DEBUG'];
  return argv.includes('--verbose') || (debug !== undefined && !/^(|0|false|no|off)$/i.test(debug));
}
