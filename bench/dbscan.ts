/**
 * DBSCAN (`src/segments/dbscan.ts`) against scikit-learn's `DBSCAN`, side by side on the same points
 * (issue 10's target: the same clusters, adjusted Rand index 1.0 on core points, and 100,000 points in 2-D
 * in under 2 s).
 *
 * Data: 100,000 points in 2-D, seeded: 90% in 12 Gaussian blobs (centres uniform in [-100, 100]², standard
 * deviations uniform in [1, 3], sizes in proportion to random weights) and 10% uniform noise over
 * [-110, 110]². min_samples = 10; eps is the knee of the k-distance curve (`suggestEps`, timed apart): the
 * noise is mostly noise, and at n = 100,000 some blob fringes split off as small clusters of their own (the
 * comparison is about agreeing with scikit-learn, not about recovering the 12). The points go to scikit-learn through a temporary CSV
 * written with JavaScript's shortest round-trip decimals, which numpy parses back to the same doubles, and
 * both fits are timed in their own process (scikit-learn's `fit` alone, default `algorithm='auto'` and
 * `n_jobs=None`, as `DBSCAN(eps, min_samples)` is called; ours `dbscan` alone).
 *
 * Agreement: the core sets must be equal and the adjusted Rand index of the two labellings on core points
 * 1.0; `labelsEqual` says whether every label, border and noise included, is the same number (our
 * numbering is scikit-learn's, see dbscan.ts).
 *
 *   node --import tsx bench/dbscan.ts [--n 100000]
 *
 * stdout: one JSON line; progress on stderr. Without a python3 that imports sklearn (see bench/python.ts)
 * the scikit-learn side is null and a message says so.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { deriveSeed, Rng } from '../src/demo/index.js';
import { adjustedRandIndex, dbscan, suggestEps } from '../src/segments/index.js';
import { pythonWith } from './python.js';

const BENCH = 'dbscan';
const SEED = 42;
const BLOBS = 12;
const NOISE_SHARE = 0.1;
const MIN_SAMPLES = 10;
const TARGET_SECONDS = 2;

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));
const progress = (message: string): void => void process.stderr.write(`${BENCH}: ${message}\n`);

const { values } = parseArgs({ options: { n: { type: 'string', default: '100000' } } });
const N = Number(values.n);
if (!Number.isInteger(N) || N < MIN_SAMPLES) throw new Error(`--n must be an integer ≥ ${MIN_SAMPLES}`);

/** Blobs and uniform noise in 2-D, row-major. */
function points(n: number): Float64Array {
  const rng = new Rng(deriveSeed(SEED, 'dbscan'));
  const centres = Array.from({ length: BLOBS }, () => ({
    x: rng.uniform(-100, 100),
    y: rng.uniform(-100, 100),
    sd: rng.uniform(1, 3),
    weight: rng.uniform(0.5, 1.5),
  }));
  const weights = centres.map((centre) => centre.weight);
  const data = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    if (rng.next() < NOISE_SHARE) {
      data[2 * i] = rng.uniform(-110, 110);
      data[2 * i + 1] = rng.uniform(-110, 110);
      continue;
    }
    const centre = centres[rng.weightedIndex(weights)]!;
    data[2 * i] = centre.x + centre.sd * rng.normal();
    data[2 * i + 1] = centre.y + centre.sd * rng.normal();
  }
  return data;
}

/** scikit-learn's DBSCAN on x,y rows of a CSV; labels and core flags written back as int32 files. */
const SKLEARN = `
import json, sys, time
import numpy as np
import sklearn
from sklearn.cluster import DBSCAN
path, eps, min_samples, labels_path, core_path = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
X = np.loadtxt(path, delimiter=',', dtype=np.float64)
model = DBSCAN(eps=eps, min_samples=min_samples)
start = time.perf_counter()
model.fit(X)
seconds = time.perf_counter() - start
model.labels_.astype('<i4').tofile(labels_path)
core = np.zeros(len(X), dtype='<i4')
core[model.core_sample_indices_] = 1
core.tofile(core_path)
print(json.dumps({'version': sklearn.__version__, 'seconds': seconds}))
`;

const PYTHON = pythonWith('sklearn');

interface Theirs {
  readonly python: string;
  readonly version: string;
  readonly seconds: number;
  readonly labels: Int32Array;
  readonly core: Int32Array;
}

function sklearnDbscan(data: Float64Array, n: number, eps: number, minSamples: number): Theirs | undefined {
  if (PYTHON === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'attune-dbscan-'));
  try {
    const csv = join(dir, 'points.csv');
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`${data[2 * i]},${data[2 * i + 1]}`);
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const labelsPath = join(dir, 'labels.i32');
    const corePath = join(dir, 'core.i32');
    const args = ['-c', SKLEARN, csv, String(eps), String(minSamples), labelsPath, corePath];
    const { version, seconds } = JSON.parse(execFileSync(PYTHON, args, { encoding: 'utf8' })) as {
      version: string;
      seconds: number;
    };
    const int32 = (path: string): Int32Array => {
      const bytes = readFileSync(path);
      return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
    return { python: PYTHON, version, seconds, labels: int32(labelsPath), core: int32(corePath) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function summary(
  labels: Int32Array,
  core: ArrayLike<number>,
): { clusters: number; noise: number; core: number } {
  let clusters = 0;
  let noise = 0;
  let cores = 0;
  for (let i = 0; i < labels.length; i++) {
    clusters = Math.max(clusters, labels[i]! + 1);
    if (labels[i] === -1) noise++;
    if (core[i] === 1) cores++;
  }
  return { clusters, noise, core: cores };
}

if (PYTHON === undefined) progress('no python3 imports sklearn: the scikit-learn side is skipped');
const data = points(N);
progress(`${N} points in 2-D: eps from the k-distance curve (k = ${MIN_SAMPLES})`);
let start = performance.now();
const suggestion = suggestEps(data, N, 2, MIN_SAMPLES);
const suggestSeconds = (performance.now() - start) / 1000;
const { eps } = suggestion;
progress(`eps ${eps}: ours`);
start = performance.now();
const ours = dbscan(data, N, 2, { eps, minSamples: MIN_SAMPLES });
const oursSeconds = (performance.now() - start) / 1000;
progress('scikit-learn');
const theirs = sklearnDbscan(data, N, eps, MIN_SAMPLES);

let agreement: Record<string, unknown> = { sklearn: null, secondsRatio: null };
if (theirs !== undefined) {
  let coreEqual = true;
  let labelsEqual = true;
  const coreRows: number[] = [];
  for (let i = 0; i < N; i++) {
    if (ours.core[i] !== theirs.core[i]) coreEqual = false;
    if (ours.labels[i] !== theirs.labels[i]) labelsEqual = false;
    if (ours.core[i] === 1 && theirs.core[i] === 1) coreRows.push(i);
  }
  const ariCore = adjustedRandIndex(
    Int32Array.from(coreRows, (i) => ours.labels[i]!),
    Int32Array.from(coreRows, (i) => theirs.labels[i]!),
  );
  agreement = {
    sklearn: {
      seconds: round(theirs.seconds),
      ...summary(theirs.labels, theirs.core),
      version: theirs.version,
      python: theirs.python,
    },
    secondsRatio: round(oursSeconds / theirs.seconds, 3),
    coreEqual,
    ariCore,
    labelsEqual,
    okSame: coreEqual && ariCore === 1,
  };
}

const line = {
  bench: BENCH,
  n: N,
  d: 2,
  eps,
  minSamples: MIN_SAMPLES,
  suggest: { seconds: round(suggestSeconds), quantile: round(suggestion.quantile) },
  ours: {
    seconds: round(oursSeconds),
    clusters: ours.clusters,
    noise: ours.noise,
    core: ours.coreCount,
    index: ours.index,
  },
  ...agreement,
  target: `same clusters as scikit-learn (ARI 1.0 on core points); n = 100,000 in < ${TARGET_SECONDS} s`,
  okUnderTarget: oursSeconds < TARGET_SECONDS,
};
process.stdout.write(`${JSON.stringify(line)}\n`);
