import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The compiled CLI, as a user runs it (`npm test` builds it first). For tests. */
export const BUILT_CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const run = promisify(execFile);

export interface CliRun {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit code: 0 on success. */
  readonly code: number;
}

/** Runs `attune ARGS` with this Node and resolves whatever it exits with, failures included. */
export async function runBuiltCli(args: readonly string[], timeoutMs = 120_000): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BUILT_CLI, ...args], { timeout: timeoutMs });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}
