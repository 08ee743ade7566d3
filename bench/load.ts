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

/** What a run's lead-in measured: reported beside the run, never in its percentiles. */
export interface LeadResult {
  readonly sent: number;
  readonly failed: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Seconds of load before each run's measured ones, unless the caller says otherwise. */
export const LEAD_SECONDS = 2;

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
 *
 * Each run begins with a lead-in (`leadSeconds`, 2 s unless told) at the same rate over the same
 * connections, reported apart (`lead`) and left out of the run's percentiles. Without it, a run measured
 * the server's passage from idle to busy, not its steady state: after the idle seconds between runs, the
 * first few hundred ms were slow, the first request on each connection opened then slowest (a packet
 * capture of the decide bench, 2026-12-06: every request over 30 ms in a run was in its first 0.3 s, and
 * alone moved the run's p99 from 8.7 to 10.9 ms). Probes since (docs/SCALING.md) found two causes:
 * result-cache entries expire over a lull longer than their 60 s, and the previous run's connections closing
 * deoptimises Node's stream and HTTP code, which the next run's first requests then run unoptimised. Not all
 * of it: decisions, which have no result cache, still start slowly.
 */
export async function openLoopLoad(options: {
  /** The server; with several (instances behind a load balancer), request `index` goes to `index % n`. */
  readonly url: string | readonly string[];
  readonly rate: number;
  readonly seconds: number;
  /** Seconds sent before the measured ones (default `LEAD_SECONDS`); its requests' indices follow the run's. */
  readonly leadSeconds?: number;
  readonly path: (index: number) => string;
  /** A JSON body for request `index`, which is then a POST; null (or no function) sends a GET. */
  readonly body?: (index: number) => string | null;
  readonly maxSockets?: number;
  /** Called with each reply's status and the request's index: to count what failed, and how. */
  readonly onStatus?: (status: number, index: number) => void;
  /** Sent with every request (the bench key: `server.ts`'s `AUTH_HEADERS`). */
  readonly headers?: Readonly<Record<string, string>>;
}): Promise<LoadResult & { readonly lead: LeadResult }> {
  const pools = (typeof options.url === 'string' ? [options.url] : options.url).map(
    (url) => new RawHttpPool(url, options.maxSockets ?? 64, options.headers),
  );
  const lead = Math.round(options.rate * (options.leadSeconds ?? LEAD_SECONDS));
  const measured = Math.round(options.rate * options.seconds);
  const total = lead + measured;
  // Slot k in time order: the lead-in's first, then the run's; the caller's index puts the run's first.
  const latencies = new Float64Array(total);
  const indexOf = (slot: number): number => (slot < lead ? measured + slot : slot - lead);
  const intervalMs = 1000 / options.rate;
  let sent = 0;
  let done = 0;
  let ok = 0;
  let leadOk = 0;
  const started = performance.now();
  const runStarted = started + lead * intervalMs;

  await new Promise<void>((resolve) => {
    const fire = (slot: number): void => {
      const due = started + slot * intervalMs;
      const index = indexOf(slot);
      const body = options.body?.(index) ?? null;
      const pool = pools[index % pools.length]!;
      const bytes =
        body === null
          ? pool.prepare('GET', options.path(index))
          : pool.prepare('POST', options.path(index), body);
      pool.send(bytes, (reply) => {
        latencies[slot] = performance.now() - due;
        const status = reply === 'error' ? 0 : reply.status;
        options.onStatus?.(status, index);
        if (status === 200) {
          if (slot < lead) leadOk += 1;
          else ok += 1;
        }
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
  const elapsed = (performance.now() - runStarted) / 1000;
  for (const pool of pools) pool.destroy();
  const sorted = latencies.slice(lead).sort();
  const leadSorted = latencies.slice(0, lead).sort();
  return {
    sent: measured,
    ok,
    failed: measured - ok,
    achievedRate: measured / elapsed,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    p999Ms: percentile(sorted, 99.9),
    maxMs: sorted[sorted.length - 1] ?? NaN,
    lead: {
      sent: lead,
      failed: lead - leadOk,
      p99Ms: percentile(leadSorted, 99),
      maxMs: leadSorted[leadSorted.length - 1] ?? NaN,
    },
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
