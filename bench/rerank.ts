/**
 * Learning to rank on the demo shop's own logged impressions (issue 10). `attune demo` and `attune train`
 * build the shop, `attune simulate` drives its shoppers through the HTTP API for `--days` simulated days
 * (every served list logged with positions; clicks and purchases carry the list's request id); then the
 * re-ranker trains on the lists of the earlier days and ranks the lists of the last `--test-days`: ndcg@10
 * of the re-ranked order against the generator's order (by the scores it served), on raw outcomes and on
 * position-debiased ones (target: re-ranked ≥ 1.10 × the generator). Then the serving cost: the re-rank of
 * 200 candidates for a user, timed per call (target p99 under 2 ms).
 *
 *   npm run build && node --import tsx bench/rerank.ts [--users 1000] [--days 14] [--test-days 4] [--calls 5000]
 *
 * stdout: one JSON line per measurement.
 */
import { openStore } from '../src/store/index.js';
import { buildTrainingSet } from '../src/training/dataset.js';
import { defaultFeedbackConfig } from '../src/events/index.js';
import { itemCategoriesFromStore, loggedListsFromStore } from '../src/ranking/logged-from-store.js';
import { judgeLaterWindow, type RerankObjective } from '../src/ranking/train-reranker.js';
import { DEFAULT_RERANK_TOP } from '../src/ranking/reranker.js';
import { runCli, tempDataDir } from './server.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const USERS = option('--users', 1_000);
const DAYS = option('--days', 14);
const TEST_DAYS = option('--test-days', 4);
const CALLS = option('--calls', 5_000);
const DAY = 86_400_000;
// `--objective regression|binary|rank`: what the trees fit (train-reranker.ts; default its own).
const objectiveAt = args.indexOf('--objective');
const OBJECTIVE = objectiveAt >= 0 ? (args[objectiveAt + 1] as RerankObjective | undefined) : undefined;

// `--reuse DIR`: a store an earlier run of this bench simulated (same sizes), kept so that model changes
// can be compared on the same logged lists without re-simulating; `--keep DIR` simulates into DIR.
const reuseAt = args.indexOf('--reuse');
const keepAt = args.indexOf('--keep');
const dir = reuseAt >= 0 ? args[reuseAt + 1]! : keepAt >= 0 ? args[keepAt + 1]! : tempDataDir('rerank');
const shop = ['--users', String(USERS), '--days', '30'];
if (reuseAt < 0) {
  process.stderr.write(`demo shop (${USERS} users), train, ${DAYS} simulated days…\n`);
  await runCli(['demo', '--data-dir', dir, ...shop], dir);
  await runCli(['train', '--data-dir', dir], dir);
  await runCli(
    [
      'simulate',
      '--data-dir',
      dir,
      '--users',
      String(USERS),
      '--history-days',
      '30',
      '--days',
      String(DAYS),
      '--json',
    ],
    dir,
  );
}

const store = await openStore(`sqlite:${dir}`, { backgroundCheckpoints: false });
try {
  const set = await buildTrainingSet(store, defaultFeedbackConfig);
  const lists = await loggedListsFromStore(store, {
    throughSeq: set.position,
    userIndex: new Map(set.userIds.map((id, index) => [id, index])),
    itemIndex: new Map(set.itemIds.map((id, index) => [id, index])),
  });
  const categories = await itemCategoriesFromStore(store, set.itemIds);
  const last = Math.max(...lists.map((l) => l.at));
  const cut = last - TEST_DAYS * DAY;
  const earlier = lists.filter((l) => l.at < cut);
  const later = lists.filter((l) => l.at >= cut);
  const started = performance.now();
  const judged = judgeLaterWindow(earlier, later, set.input, categories, {
    log: (line) => process.stderr.write(`${line}\n`),
    ...(OBJECTIVE === undefined ? {} : { objective: OBJECTIVE }),
  });
  const line = {
    bench: 'rerank-quality',
    users: USERS,
    days: DAYS,
    test_days: TEST_DAYS,
    objective: OBJECTIVE ?? 'default',
    train_lists: earlier.length,
    test_lists_with_outcome: judged.lists,
    ndcg10_reranked: judged.ndcg,
    ndcg10_generator: judged.generatorNdcg,
    lift: judged.ndcg / judged.generatorNdcg - 1,
    ips_ndcg10_reranked: judged.ipsNdcg,
    ips_ndcg10_generator: judged.ipsGeneratorNdcg,
    ips_lift: judged.ipsNdcg / judged.ipsGeneratorNdcg - 1,
    chosen_by_validation: judged.training.skipped === null,
    importances: judged.training.info?.importances ?? [],
    position_weights: judged.training.info?.positionWeights?.slice(0, 10) ?? [],
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);

  // Serving cost: the stage's work for one request — features and trees for the top 200 candidates.
  const reranker = judged.training.reranker;
  if (reranker !== null) {
    const { matrix, times } = set.input;
    const nItems = matrix.cols;
    const candidates = Int32Array.from({ length: Math.min(DEFAULT_RERANK_TOP, nItems) }, (_, j) => j);
    const scores = Float64Array.from(candidates, (_, j) => 1 - j / candidates.length);
    const took = new Float64Array(CALLS);
    for (let c = 0; c < CALLS; c++) {
      const u = c % matrix.rows;
      const from = matrix.indptr[u]!;
      const to = matrix.indptr[u + 1]!;
      const user = { items: matrix.indices.subarray(from, to), times: times?.subarray(from, to) };
      const t0 = performance.now();
      reranker.score(user, candidates, scores, set.input.now ?? 0);
      took[c] = performance.now() - t0;
    }
    took.sort();
    const at = (p: number) => took[Math.min(CALLS - 1, Math.floor(p * CALLS))]!;
    process.stdout.write(
      `${JSON.stringify({
        bench: 'rerank-cost',
        candidates: candidates.length,
        trees: reranker.model.treeCount,
        calls: CALLS,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: took[CALLS - 1],
      })}\n`,
    );
  }
} finally {
  await store.close();
}
