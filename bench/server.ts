import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** The repository root, from which the compiled CLI runs. */
export const ROOT = new URL('..', import.meta.url).pathname;
/** The compiled CLI the benchmarks run. */
export const CLI = join(ROOT, 'dist/cli/main.js');
/**
 * The key every bench server accepts (`ATTUNE_ADMIN_KEY`) and every bench request sends: serving is measured
 * as deployed, behind a key, not as the keyless loopback demo. Builds before API keys ignore both.
 */
export const BENCH_KEY = 'attune-bench-admin-key-0123456789abcdef';
export const AUTH_HEADERS: Readonly<Record<string, string>> = { authorization: `Bearer ${BENCH_KEY}` };
/**
 * Bench servers count requests per key as any server does, but with limits above any bench's rate: one key
 * sends decisions and rewards at 1,000/s each, and the default admin limit (1,000/s) would refuse half.
 */
const BENCH_RATE_LIMITS = 'ingest=1000000,server=1000000,admin=1000000';

/** `fetch` with the bench key. */
export function benchFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...AUTH_HEADERS, ...(init.headers as Record<string, string>) } });
}

/** Data sets and reference numbers beside the checkout (never copied into it). */
export const SHARED = join(ROOT, '..', 'shared');

/**
 * A fresh data directory, removed when the bench process exits: a store per run is gigabytes over a bench
 * session, and leftovers in the temp file system skewed later runs' disk-bound numbers (ingestion).
 */
export function tempDataDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `attune-bench-${name}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the CLI to completion, returning its stdout; fails loudly with its stderr. */
export function runCli(
  args: readonly string[],
  dataDir: string,
  extraEnv: Record<string, string> = {},
  cli = CLI,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, ATTUNE_DATA_DIR: dataDir, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`attune ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
  });
}

export interface RunningServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Resident set size of the server process, in MB. */
  rssMb(): number;
  stop(): Promise<void>;
}

/** Starts `attune serve` on a free port and resolves once it prints where it serves. */
export function startServer(
  dataDir: string,
  extraEnv: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
  cli = CLI,
): Promise<RunningServer> {
  // ATTUNE_BENCH_SERVER_NODE_ARGS: flags for every bench server's node (a CPU profile: --cpu-prof
  // --cpu-prof-dir=DIR, or --trace-gc with ATTUNE_BENCH_SERVER_STDOUT).
  const fromEnv = (process.env['ATTUNE_BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  return startProcessServer([...fromEnv, ...nodeArgs, cli, 'serve', '--port', '0'], {
    ATTUNE_DATA_DIR: dataDir,
    ATTUNE_ADMIN_KEY: BENCH_KEY,
    ATTUNE_RATE_LIMITS: BENCH_RATE_LIMITS,
    ...extraEnv,
  });
}

/**
 * Starts `node ARGS` as a server process and resolves once it prints "serving at URL" on stderr: Attune's
 * own (`startServer`) or a peer measured beside it (`floor-server.ts`).
 */
export function startProcessServer(
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    // ATTUNE_BENCH_SERVER_STDOUT=FILE keeps the server's stdout (a --trace-gc log, say) instead of dropping it.
    const stdoutFile = process.env['ATTUNE_BENCH_SERVER_STDOUT'];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...extraEnv },
      stdio: ['ignore', stdoutFile ? openSync(stdoutFile, 'a') : 'ignore', 'pipe'],
    }) as ChildProcessByStdio<null, null, Readable>;
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /serving at (http:\/\/\S+)/.exec(stderr);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1]!,
        process: child,
        rssMb() {
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
          return kb / 1024;
        },
        stop: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
}

/**
 * Runs `measure` with every server of `all` except `measured` (every one, for null) stopped (SIGSTOP), and
 * continues them after. Benches that compare set-ups keep them all started and measure them run by run in
 * turn, so that all meet the same weather; but an idle server beside the measured one is not idle on this
 * two-core machine (its timers, and V8's clean-up of the heap after its own turn under load), and it was
 * charged to the one measured. A probe (2026-12-06, the bare floor at 2,000 requests/s, 10 s runs beside
 * five idle Attune servers): p99 2.15 / 1.76 / 2.50 ms with the five stopped, 3.24 / 2.67 / 6.26 with them
 * running, and 3.67 / 4.55 / 5.24 just after each had served 3 s of load. A stopped process takes no CPU and
 * keeps its state; its overdue timers run when it continues, which each run's lead-in (`LEAD_SECONDS`)
 * absorbs.
 */
export async function measuredAlone<T>(
  measured: RunningServer | null,
  all: readonly RunningServer[],
  measure: () => Promise<T>,
): Promise<T> {
  const others = all.filter((server) => server !== measured);
  for (const server of others) server.process.kill('SIGSTOP');
  try {
    return await measure();
  } finally {
    for (const server of others) server.process.kill('SIGCONT');
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
