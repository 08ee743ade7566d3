/**
 * ALS training time on MovieLens 100K, comparable with the protocol's `train_s` for implicit ALS:
 * the protocol's train split (every rating an implicit positive, pairs deduplicated keeping the earliest
 * time, each user's last floor(n/5) interactions held out when n ≥ 5: 943 × 1,682, 80,367 entries),
 * 64 factors, 15 sweeps, 3 CG steps, all cores. Five full fits, worker start-up included; prints JSON.
 *
 *   npm run build && node --import tsx bench/train-als.ts     (runs the compiled models when dist/ is fresh)
 *   node --import tsx bench/train-als.ts --source             (always the TypeScript sources)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

type Models = typeof import('../src/models/index.js');

const root = new URL('../', import.meta.url);
const dataPath = fileURLToPath(new URL('../shared/data/ml-100k/u.data', root));

/** True when every model source has a compiled counterpart at least as new. */
function distIsFresh(): boolean {
  const srcDir = fileURLToPath(new URL('src/models/', root));
  const distDir = fileURLToPath(new URL('dist/models/', root));
  return readdirSync(srcDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .every((f) => {
      const js = distDir + f.replace(/\.ts$/, '.js');
      return existsSync(js) && statSync(js).mtimeMs >= statSync(srcDir + f).mtimeMs;
    });
}

/** Compiled code when it is fresh: helper threads then start without a TS loader. */
async function loadModels(): Promise<{ models: Models; code: 'dist' | 'src' }> {
  const dist = fileURLToPath(new URL('dist/models/index.js', root));
  if (existsSync(dist) && distIsFresh() && !process.argv.includes('--source')) {
    return { models: (await import(new URL('dist/models/index.js', root).href)) as Models, code: 'dist' };
  }
  if (existsSync(dist) && !process.argv.includes('--source')) {
    process.stderr.write('bench: dist/ is older than src/models; timing the sources\n');
  }
  return { models: await import('../src/models/index.js'), code: 'src' };
}

interface Row {
  readonly item: number;
  readonly time: number;
}

/** Users × items train matrix of the protocol's temporal split, as COO arrays. */
function protocolTrainSplit(): { rows: number; cols: number; users: number[]; items: number[] } {
  const lines = readFileSync(dataPath, 'utf8').split('\n');
  const earliest = new Map<number, Map<number, number>>();
  const itemIds = new Set<number>();
  for (const line of lines) {
    if (line.trim() === '') continue;
    const [u, i, , t] = line.split('\t').map(Number) as [number, number, number, number];
    itemIds.add(i);
    let row = earliest.get(u);
    if (!row) earliest.set(u, (row = new Map()));
    const prev = row.get(i);
    if (prev === undefined || t < prev) row.set(i, t);
  }
  const userOrder = [...earliest.keys()].sort((a, b) => a - b);
  const itemIndex = new Map([...itemIds].sort((a, b) => a - b).map((id, k) => [id, k]));
  const users: number[] = [];
  const items: number[] = [];
  userOrder.forEach((userId, u) => {
    const rows: Row[] = [...earliest.get(userId)!].map(([id, time]) => ({ item: itemIndex.get(id)!, time }));
    rows.sort((a, b) => a.time - b.time || a.item - b.item);
    const held = rows.length >= 5 ? Math.max(1, Math.floor(rows.length / 5)) : 0;
    for (const row of rows.slice(0, rows.length - held)) {
      users.push(u);
      items.push(row.item);
    }
  });
  return { rows: userOrder.length, cols: itemIndex.size, users, items };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const { models, code } = await loadModels();
const split = protocolTrainSplit();
const { matrix } = models.csrFromCoo({
  rows: split.rows,
  cols: split.cols,
  rowIdx: split.users,
  colIdx: split.items,
  values: new Float32Array(split.users.length).fill(1),
});
const threads = availableParallelism();
const params = { ...models.defaultParams.als, factors: 64, iterations: 15, cgSteps: 3 };
const runs: number[] = [];
for (let run = 0; run < 5; run++) {
  const start = performance.now();
  await models.fitRecommender('als', { matrix }, params, { threads });
  runs.push(Number(((performance.now() - start) / 1000).toFixed(4)));
}
process.stdout.write(
  JSON.stringify({
    bench: 'als-train-ml100k',
    median_s: median(runs),
    runs,
    users: matrix.rows,
    items: matrix.cols,
    interactions: matrix.indptr[matrix.rows],
    factors: params.factors,
    iterations: params.iterations,
    threads,
    code,
    note: 'runs[0] includes starting the helper thread, which later fits reuse',
    reference: { implicit_als: 0.159, ials: 1.752 },
  }) + '\n',
);
