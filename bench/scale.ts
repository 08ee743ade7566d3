/**
 * Ten million events: a synthetic shop (1,000,000 users, 100,000 items, popularity skewed as in real
 * catalogs, views / carts / purchases) written as JSON lines, imported with `attune import` into the store
 * `ATTUNE_BENCH_STORE` names (`postgres`: a schema of this run's own on the machine's server, the default;
 * `sqlite`: a fresh data directory), trained with `attune train` (ALS, fixed selection) and served by
 * `attune serve` at 250, 500, 750 and 1,000 requests/s in turn (open loop, 10 s each, every request for a
 * user not asked about before). Records the import rate, the training time, each process's peak memory
 * (VmHWM), the serving latency at each rate and the highest rate sustained. `ATTUNE_BENCH_EVENTS` changes
 * the count. Prints one JSON object.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openLoopLoad } from './load.js';
import { AUTH_HEADERS, BENCH_KEY, CLI, startServer, tempDataDir } from './server.js';
import { mulberry32 } from '../src/models/random.js';
import { benchStoreUrl, dropBenchSchema } from './services.js';

const EVENTS = Number(process.env['ATTUNE_BENCH_EVENTS'] ?? 10_000_000);
const USERS = 1_000_000;
const ITEMS = 100_000;
const STORE = process.env['ATTUNE_BENCH_STORE'] ?? 'postgres';
/** Serving is measured at each of these rates in turn, cold users throughout. */
const SERVE_RATES = [250, 500, 750, 1_000] as const;
/** As `tail.ts` counts a rate sustained. */
const SUSTAINED_P99_MS = 50;
const sustained = (run: Awaited<ReturnType<typeof openLoopLoad>>, rate: number): boolean =>
  run.failed === 0 && run.achievedRate >= 0.99 * rate && run.p99Ms <= SUSTAINED_P99_MS;

/** Writes the events as JSON lines; items drawn with a power law (a few hits, a long tail). */
async function writeEvents(path: string): Promise<void> {
  // Seeded, so every run imports the same shop.
  const next = mulberry32(42);
  const out = createWriteStream(path);
  const start = Date.UTC(2026, 0, 1);
  const spanMs = 300 * 86_400_000;
  let chunk = '';
  for (let n = 0; n < EVENTS; n++) {
    const user = Math.floor(next() * USERS);
    const item = Math.floor(ITEMS * Math.pow(next(), 2.5));
    const roll = next();
    const name = roll < 0.8 ? 'product_viewed' : roll < 0.93 ? 'added_to_cart' : 'purchased';
    chunk += `{"event":"${name}","event_id":"e${n}","user_id":"u${user}","item_id":"i${item}","timestamp":${start + Math.floor((n / EVENTS) * spanMs)}}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** Runs the CLI, sampling its peak resident memory (VmHWM) until it exits. */
function runMeasured(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ seconds: number; peakRssMb: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    const sample = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      } catch {
        // exited between ticks
      }
    }, 250);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString().slice(-4_000)));
    child.on('exit', (code) => {
      clearInterval(sample);
      if (code !== 0) reject(new Error(`attune ${args.join(' ')} exited ${code}: ${stderr}`));
      else
        resolve({
          seconds: (performance.now() - started) / 1000,
          peakRssMb: Math.round(peakKb / 1024),
          stdout,
        });
    });
  });
}

async function main(): Promise<void> {
  const file = join(tmpdir(), `attune-scale-${randomUUID().slice(0, 8)}.jsonl`);
  process.once('exit', () => rmSync(file, { force: true }));
  const schema = `scale_${randomUUID().slice(0, 8)}`;
  const env: Record<string, string> =
    STORE === 'postgres'
      ? { DATABASE_URL: benchStoreUrl(schema) }
      : { ATTUNE_DATA_DIR: tempDataDir('scale') };
  Object.assign(env, {
    ATTUNE_SELECTION: 'fixed',
    ATTUNE_RETRAIN_INTERVAL_MS: 'off',
    ATTUNE_ADMIN_KEY: BENCH_KEY,
    ATTUNE_HOLDOUT: '0',
  });
  try {
    const generated = performance.now();
    await writeEvents(file);
    const generateSeconds = (performance.now() - generated) / 1000;
    const imported = await runMeasured(['import', '--format', 'jsonl', '--json', file], env);
    const trained = await runMeasured(['train', '--json'], env);
    const server = await startServer(env['ATTUNE_DATA_DIR'] ?? '/nonexistent', env);
    const sweep: { rate: number; run: Awaited<ReturnType<typeof openLoopLoad>> }[] = [];
    let rssMb = 0;
    try {
      // Every request names a user no earlier request named (a stride through the million): each list is
      // computed cold, the user's history read from the store. Warmed at a rate it sustains, so that no
      // backlog carries into the sweep.
      let next = 0;
      const coldUser = () => `u${(next++ * 104_729) % USERS}`;
      await openLoopLoad({
        url: server.url,
        rate: 250,
        seconds: 5,
        path: () => `/v1/recommendations?user_id=${coldUser()}&n=20`,
        headers: AUTH_HEADERS,
      });
      for (const rate of SERVE_RATES) {
        const run = await openLoopLoad({
          url: server.url,
          rate,
          seconds: 10,
          path: () => `/v1/recommendations?user_id=${coldUser()}&n=20`,
          headers: AUTH_HEADERS,
        });
        sweep.push({ rate, run });
      }
      rssMb = Math.round(server.rssMb());
    } finally {
      await server.stop();
    }
    const at1000 = sweep.find(({ rate }) => rate === 1_000)?.run;
    const bundle = JSON.parse(trained.stdout) as Record<string, unknown>;
    console.log(
      JSON.stringify({
        bench: 'scale',
        store: STORE,
        events: EVENTS,
        users: USERS,
        items: ITEMS,
        file_mb: Math.round(statSync(file).size / 1024 / 1024),
        generate_seconds: +generateSeconds.toFixed(1),
        import: {
          seconds: +imported.seconds.toFixed(1),
          events_per_second: Math.round(EVENTS / imported.seconds),
          peak_rss_mb: imported.peakRssMb,
          result: JSON.parse(imported.stdout) as unknown,
        },
        train: {
          seconds: +trained.seconds.toFixed(1),
          peak_rss_mb: trained.peakRssMb,
          interactions: bundle['interactions'],
          users: bundle['users'],
          items: bundle['items'],
        },
        serve_sweep: sweep,
        highest_sustained_rps: sweep.filter(({ rate, run }) => sustained(run, rate)).at(-1)?.rate ?? null,
        sustained_means: `every request answered, ≥ 99% of the rate achieved, p99 ≤ ${SUSTAINED_P99_MS} ms (10 s per rate)`,
        serve_1000rps: at1000 === undefined ? null : { ...at1000, rssMb },
      }),
    );
  } finally {
    if (STORE === 'postgres') {
      await dropBenchSchema(schema);
    }
  }
}

await main();
