import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The real CLI server in a process of its own, for tests that kill it (`durability.test.ts`,
 * `crash.test.ts`). Needs the compiled CLI: `npm test` builds it first (otherwise `npx tsc -p tsconfig.json`).
 */
export const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process wrote to stderr, for failure messages. */
  readonly log: () => string;
}

const children = new Set<ChildProcess>();

export function assertBuilt(): void {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} is missing: build first (npm test does; or npx tsc -p tsconfig.json)`);
  }
}

/** Starts `attune serve` on the data directory and resolves once it prints where it serves. */
export function startServer(
  dataDir: string,
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    env: { ...process.env, ATTUNE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within ${START_TIMEOUT_MS} ms; stderr:\n${stderr}`));
    }, START_TIMEOUT_MS);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /Attune is serving at (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, log: () => stderr });
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`the server exited (code ${code}, signal ${signal}) before serving; stderr:\n${stderr}`),
      );
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  readonly log: () => string;
  /** Resolves once the log matches `pattern` (after what it already holds), or fails after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Starts `attune worker` with the environment given (DATABASE_URL, REDIS_URL, …). */
export function startWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  return {
    child,
    log: () => stderr,
    async waitFor(pattern, timeoutMs = 30_000) {
      const started = Date.now();
      while (!pattern.test(stderr)) {
        if (child.exitCode !== null)
          throw new Error(`the worker exited (${child.exitCode}); stderr:\n${stderr}`);
        if (Date.now() - started > timeoutMs) {
          throw new Error(`the worker did not log ${pattern} within ${timeoutMs} ms; stderr:\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** Sends the signal (SIGKILL unless told) and resolves once the process is gone. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Kills every server a test started and left running (for `afterAll`). */
export function killAll(): Promise<void[]> {
  return Promise.all([...children].map((child) => stopProcess(child)));
}

export async function postJson<T>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}
