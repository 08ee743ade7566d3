/**
 * EASE and RP3beta fit times. Prints one JSON line on stdout (progress on stderr):
 *
 *   node --import tsx bench/ease.ts [path/to/ml-100k/u.data] [--threads N] [--skip-10k]
 *
 * - ml100k_fit_s: median of 3 EASE fits (λ = 200) on MovieLens 100K's protocol train split
 *   (`../shared/reference/PROTOCOL.md`: each user's last 20% held out in time), 1,682 items.
 * - synthetic_10k_fit_s: one EASE fit on a synthetic 10,000-item catalog: 50,000 users, 1M interaction
 *   draws (~886k distinct pairs once repeats merge), items from a Zipf(1) popularity law (seeded). The
 *   time is dominated by the dense inverse (n³ flops) and hardly depends on the interactions.
 * - rp3beta_ml100k_fit_s: median of 3 RP3beta fits at its defaults on the same split.
 * - synthetic_10k_cpu_s: the process's CPU time (all threads) during that fit: with other work on the
 *   machine, wall time ≈ CPU time / threads only when the cores were free.
 * `threads` defaults to the core count, as the training worker runs it.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { prepareDataset, readInteractions, trainingInput } from '../src/evaluation/index.js';
import { closeEaseWorkers, csrFromCoo, defaultParams, fitRecommender } from '../src/models/index.js';
import { mulberry32 } from '../src/models/random.js';
import type { TrainingInput } from '../src/models/types.js';

const args = process.argv.slice(2);
const file =
  args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ??
  fileURLToPath(new URL('../../shared/data/ml-100k/u.data', import.meta.url));
const threadsAt = args.indexOf('--threads');
const threads = threadsAt >= 0 ? Number(args[threadsAt + 1]) : availableParallelism();
const skip10k = args.includes('--skip-10k');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number): number => Number(x.toFixed(3));

async function time(fit: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fit();
  return (performance.now() - started) / 1000;
}

/** 50,000 users × 10,000 items, ~1M interactions, Zipf(1) item popularity (inverse-CDF sampling). */
function synthetic(nUsers: number, nItems: number, interactions: number, seed: number): TrainingInput {
  const random = mulberry32(seed);
  const cdf = new Float64Array(nItems);
  let sum = 0;
  for (let i = 0; i < nItems; i++) cdf[i] = sum += 1 / (i + 1);
  const rowIdx = new Int32Array(interactions);
  const colIdx = new Int32Array(interactions);
  for (let k = 0; k < interactions; k++) {
    rowIdx[k] = Math.floor(random() * nUsers);
    const target = random() * sum;
    let lo = 0;
    let hi = nItems - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    colIdx[k] = lo;
  }
  // Duplicates are summed by csrFromCoo; implicit data is binary, so clamp them back to 1.
  const { matrix } = csrFromCoo({
    rows: nUsers,
    cols: nItems,
    rowIdx,
    colIdx,
    values: new Float32Array(interactions).fill(1),
  });
  matrix.data.fill(1);
  return { matrix };
}

const dataset = await prepareDataset(readInteractions(file, 'ml100k'));
const ml = trainingInput(dataset.train);
const load = loadavg()[0]!;
const ease = { ...defaultParams.ease, lambda: 200 };
const mlTimes: number[] = [];
for (let r = 0; r < 3; r++) {
  mlTimes.push(await time(() => fitRecommender('ease', ml, ease, { threads })));
  process.stderr.write(`ease ml-100k fit ${r + 1}: ${mlTimes[r]!.toFixed(3)} s\n`);
}
const rpTimes: number[] = [];
for (let r = 0; r < 3; r++) {
  rpTimes.push(await time(() => fitRecommender('rp3beta', ml, defaultParams.rp3beta, { threads })));
}
let synthetic10k: number | null = null;
let synthetic10kCpu: number | null = null;
let syntheticNnz = 0;
if (!skip10k) {
  const input = synthetic(50_000, 10_000, 1_000_000, 2026);
  syntheticNnz = input.matrix.indptr[input.matrix.rows]!;
  const cpu = process.cpuUsage();
  synthetic10k = await time(() =>
    fitRecommender('ease', input, ease, {
      threads,
      onProgress: (done, total) => {
        if (done % 20 === 0 || done === total) process.stderr.write(`ease 10k: step ${done}/${total}\n`);
      },
    }),
  );
  synthetic10kCpu = process.cpuUsage(cpu).user / 1e6;
}
await closeEaseWorkers();
console.log(
  JSON.stringify({
    bench: 'ease',
    threads,
    load_avg_1m_at_start: round(load),
    ml100k_items: ml.matrix.cols,
    ml100k_train_nnz: ml.matrix.indptr[ml.matrix.rows],
    ml100k_fit_s: round(median(mlTimes)),
    ml100k_fit_runs_s: mlTimes.map(round),
    rp3beta_ml100k_fit_s: round(median(rpTimes)),
    synthetic_10k_fit_s: synthetic10k === null ? null : round(synthetic10k),
    synthetic_10k_cpu_s: synthetic10kCpu === null ? null : round(synthetic10kCpu),
    synthetic_10k: { users: 50_000, items: 10_000, nnz: syntheticNnz, zipf: 1 },
    load_avg_1m_at_end: round(loadavg()[0]!),
  }),
);
