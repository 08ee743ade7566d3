import { readdirSync, readFileSync } from 'node:fs';
import { RawHttpPool } from './raw-http.js';

export interface LoadResult {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly achievedRate: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * An open-loop load generator: requests are due at a fixed rate whatever the server does, and each
 * latency is measured from when the request was due, not from when it was sent, so a stalled server is
 * charged for the queue it causes (no coordinated omission). autocannon's rate limit sends each second's
 * requests in bursts, which measures the burst, not the server; hence this. Requests go out through
 * `raw-http.ts`'s lean client: `node:http`'s took a quarter of a core at 2,000 requests/s, from the server
 * it measures.
 */
export async function openLoopLoad(options: {
  /** The server; with several (instances behind a load balancer), request `index` goes to `index % n`. */
  readonly url: string | readonly string[];
  readonly rate: number;
  readonly seconds: number;
  readonly path: (index: number) => string;
  /** A JSON body for request `index`, which is then a POST; null (or no function) sends a GET. */
  readonly body?: (index: number) => string | null;
  readonly maxSockets?: number;
  /** Called with each reply's status and the request's index: to count what failed, and how. */
  readonly onStatus?: (status: number, index: number) => void;
  /** Sent with every request (the bench key: `server.ts`'s `AUTH_HEADERS`). */
  readonly headers?: Readonly<Record<string, string>>;
}): Promise<LoadResult> {
  const pools = (typeof options.url === 'string' ? [options.url] : options.url).map(
    (url) => new RawHttpPool(url, options.maxSockets ?? 64, options.headers),
  );
  const total = Math.round(options.rate * options.seconds);
  const latencies = new Float64Array(total);
  const intervalMs = 1000 / options.rate;
  let sent = 0;
  let done = 0;
  let ok = 0;
  const started = performance.now();

  await new Promise<void>((resolve) => {
    const fire = (index: number): void => {
      const due = started + index * intervalMs;
      const body = options.body?.(index) ?? null;
      const pool = pools[index % pools.length]!;
      const bytes =
        body === null
          ? pool.prepare('GET', options.path(index))
          : pool.prepare('POST', options.path(index), body);
      pool.send(bytes, (reply) => {
        latencies[index] = performance.now() - due;
        const status = reply === 'error' ? 0 : reply.status;
        options.onStatus?.(status, index);
        if (status === 200) ok += 1;
        if (++done === total) resolve();
      });
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
      while (sent < due) fire(sent++);
      if (sent < total) setTimeout(tick, 0);
    };
    tick();
  });
  const elapsed = (performance.now() - started) / 1000;
  for (const pool of pools) pool.destroy();
  const sorted = latencies.slice().sort();
  return {
    sent,
    ok,
    failed: total - ok,
    achievedRate: total / elapsed,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    p999Ms: percentile(sorted, 99.9),
    maxMs: sorted[sorted.length - 1] ?? NaN,
  };
}

/** CPU ticks (1/100 s) of each of a process's threads, by thread name. */
export function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    // Node names its main thread after the executable; worker threads and libuv's pool have their own.
    const key = Number(task) === pid ? 'main' : name;
    out.set(key, (out.get(key) ?? 0) + ticks);
  }
  return out;
}

/** The machine's CPU time counters from `/proc/stat` (all CPUs, in clock ticks). */
export interface CpuTicks {
  readonly total: number;
  readonly steal: number;
}

export function cpuTicks(): CpuTicks {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9);
  const ticks = fields.map(Number);
  return { total: ticks.reduce((a, b) => a + b, 0), steal: ticks[7] ?? 0 };
}

/**
 * The share of CPU time the hypervisor gave to others between two readings (`st` in `vmstat`), in percent.
 * This machine is a virtual one: at 10–20% steal a virtual CPU is taken away for milliseconds at a time, and
 * a run's p99 moves by as much as anything the code does, so every timed run reports it.
 */
export function stealPercent(before: CpuTicks, after: CpuTicks): number {
  const total = after.total - before.total;
  return total > 0 ? Math.round((1000 * (after.steal - before.steal)) / total) / 10 : 0;
}
