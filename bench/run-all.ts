/**
 * Runs the benchmarks (or those named on the command line), keeps each one's JSON output in
 * `bench/results/<name>.json`, and rewrites `bench/RESULTS.md` from all kept results. Needs a build
 * (`npm run build`) and `../shared` beside the checkout.
 *
 *   npm run bench                 # all
 *   npm run bench -- ingest serve # some
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderResults } from './report.js';
import { ROOT } from './server.js';

const ALL = [
  'quality',
  'parity',
  'train-als',
  'ease',
  'ingest',
  'serve',
  'serve-rerank',
  'diversity',
  'auto',
  'generalize',
  'session',
  'cold-start',
  'user-state',
  'stats',
  'assignment',
  'experiment-analysis',
  'experiment-calibration',
  'simulate',
  'kmeans',
  'churn-table',
  'features',
  'dbscan',
  'churn-events',
  'rerank',
  'bandits',
  'ope',
  'notify',
  'decide',
  'soak',
  'fuzz',
  'dashboard',
  'cluster',
  'shared-lists',
  'scale',
  'tail',
  'tail-events',
  'first-touch',
] as const;
/** Node flags some benchmarks need: `user-state` reads memory after forced collections. */
const NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  'user-state': ['--expose-gc', '--max-old-space-size=8192'],
};
/**
 * Entries that run another entry's script in another setting: `serve-rerank` serves this build with its
 * re-ranker beside itself without one (issue 10: re-ranking 200 candidates adds under 2 ms p99). Both sides
 * compute every list (result cache off): with the cache on, most requests are a map lookup and the
 * comparison would measure the cache, not the re-ranker.
 */
const VARIANTS: Readonly<Record<string, { readonly script: string; readonly env: Record<string, string> }>> =
  {
    'serve-rerank': {
      script: 'serve',
      env: {
        ATTUNE_BENCH_ENV: 'ATTUNE_RERANK=always ATTUNE_RESULT_CACHE_MS=off',
        ATTUNE_BENCH_BASELINE_ENV: 'ATTUNE_RERANK=off ATTUNE_RESULT_CACHE_MS=off',
      },
    },
  };
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [...ALL];
const resultsDir = join(ROOT, 'bench/results');
mkdirSync(resultsDir, { recursive: true });

for (const name of chosen) {
  process.stderr.write(`== bench ${name}\n`);
  const flags = NODE_FLAGS[name] ?? [];
  const variant = VARIANTS[name];
  const script = variant?.script ?? name;
  const child = spawnSync(process.execPath, [...flags, '--import', 'tsx', join(ROOT, `bench/${script}.ts`)], {
    cwd: ROOT,
    env: { ...process.env, ...variant?.env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`bench ${name} failed with exit code ${child.status}`);
  const lines = child.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as unknown);
  process.stdout.write(child.stdout);
  const record = { measured_at: new Date().toISOString(), lines };
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
}
writeFileSync(join(ROOT, 'bench/RESULTS.md'), renderResults(resultsDir));
process.stderr.write('wrote bench/RESULTS.md\n');
