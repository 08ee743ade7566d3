/**
 * Learning to rank on the demo shop's own logged impressions (issue 10). `attune demo` and `attune train`
 * build the shop, `attune simulate` drives its shoppers through the HTTP API for `--days` simulated days
 * (every served list logged with positions; clicks and purchases carry the list's request id); then the
 * re-ranker trains on the lists of the earlier days and ranks the lists of the last `--test-days`: ndcg@10
 * of the re-ranked order against the generator's order (by the scores it served), on raw outcomes and on
 * position-debiased ones (target: re-ranked ≥ 1.10 × the generator). Beside it, the ceiling any re-ranker
 * has on these lists (`truth_ordering`): each judged list ordered by its shopper's true click chances (the
 * simulation's own, `simulate/shoppers.ts`), against the generator's order by served score, on raw and on
 * debiased outcomes (the simulation's own look chance per position). Then the serving cost: the re-rank of
 * 200 candidates for a user, timed per call (target p99 under 2 ms). Each of `--seeds` is one simulation
 * of the same shop and model (the shoppers' behaviour differs); the summary line gives the medians.
 *
 * The shoppers click by taste, by each listing's appeal and less on items they have passed over before
 * (`BEHAVIOUR` in `simulate/shoppers.ts`); the history the generator trained on shows only taste.
 *
 *   npm run build && node --import tsx bench/rerank.ts [--users 4000] [--days 28] [--test-days 7] [--calls 5000]
 *     [--seeds 1,2,3]
 *
 * stdout: one JSON line per measurement, then the summary.
 */
import { openStore } from '../src/store/index.js';
import { buildTrainingSet } from '../src/training/dataset.js';
import { defaultFeedbackConfig } from '../src/events/index.js';
import { itemCategoriesFromStore, loggedListsFromStore } from '../src/ranking/logged-from-store.js';
import {
  judgeLaterWindow,
  ndcgOf,
  type LoggedList,
  type RerankObjective,
} from '../src/ranking/train-reranker.js';
import { countShown, SHOWN_LISTS } from '../src/ranking/rerank-features.js';
import { generateDemoShop } from '../src/demo/index.js';
import { affinity, BEHAVIOUR, clickChance, population } from '../src/simulate/index.js';
import { median, runCli, tempDataDir } from './server.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
// 4,000 shoppers over 4 weeks: ~15,000 lists to learn from and ~3,700 judged (1,000 × 14 days judged 544).
const USERS = option('--users', 4_000);
const DAYS = option('--days', 28);
const TEST_DAYS = option('--test-days', 7);
const CALLS = option('--calls', 5_000);
const DAY = 86_400_000;
/** Candidates the serving-cost line re-ranks per call: the 200, deeper than serving goes here. */
const COST_CANDIDATES = 200;
// `--objective regression|binary|rank`: what the trees fit (train-reranker.ts; default its own).
const objectiveAt = args.indexOf('--objective');
const OBJECTIVE = objectiveAt >= 0 ? (args[objectiveAt + 1] as RerankObjective | undefined) : undefined;

// `--seeds 1,2,3`: the shoppers' behaviour (`attune simulate --seed`); each seed simulates its own store
// (the same shop and model) and is judged on its own; the summary line gives the medians.
const seedsAt = args.indexOf('--seeds');
const SEEDS = (seedsAt >= 0 ? args[seedsAt + 1]! : '1,2,3').split(',').map(Number);
// `--reuse DIR`: a store an earlier run of this bench simulated (one seed, same sizes), kept so that model
// changes can be compared on the same logged lists without re-simulating; `--keep DIR` simulates into DIR.
const reuseAt = args.indexOf('--reuse');
const keepAt = args.indexOf('--keep');
const shop = ['--users', String(USERS), '--days', '30'];

const outcomes: Json[] = [];
for (const [run, seed] of SEEDS.entries()) {
  const dir =
    reuseAt >= 0
      ? args[reuseAt + 1]!
      : keepAt >= 0
        ? `${args[keepAt + 1]!}-${seed}`
        : tempDataDir(`rerank-${seed}`);
  if (reuseAt < 0) {
    process.stderr.write(`demo shop (${USERS} users), train, ${DAYS} simulated days (seed ${seed})…\n`);
    await runCli(['demo', '--data-dir', dir, ...shop], dir);
    await runCli(['train', '--data-dir', dir], dir);
    await runCli(
      [
        'simulate',
        '--data-dir',
        dir,
        '--seed',
        String(seed),
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
  outcomes.push(await judgeSeed(dir, seed, run === 0));
}
const medianOf = (key: string): number => median(outcomes.map((o) => Number(o[key])));
process.stdout.write(
  `${JSON.stringify({
    bench: 'rerank-summary',
    seeds: SEEDS,
    median_lift: medianOf('lift'),
    median_ips_lift: medianOf('ips_lift'),
    median_ceiling_lift: medianOf('ceiling_lift'),
    median_ceiling_ips_lift: medianOf('ceiling_ips_lift'),
    min_lift: Math.min(...outcomes.map((o) => Number(o['lift']))),
    chosen_by_validation: outcomes.filter((o) => o['chosen_by_validation'] === true).length,
    target_lift: 0.1,
  })}\n`,
);

type Json = Record<string, unknown>;

/** Trains on the seed's earlier lists, judges the later ones, and (`timeCost`) times the serving cost. */
async function judgeSeed(dir: string, seed: number, timeCost: boolean): Promise<Json> {
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
      seed,
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
    const ceiling = truthOrdering(seed, lists, later, set.userIds, set.itemIds);
    process.stdout.write(`${JSON.stringify({ bench: 'rerank-ceiling', seed, ...ceiling })}\n`);
    const outcome = { ...line, ceiling_lift: ceiling.lift, ceiling_ips_lift: ceiling.ips_lift };

    // Serving cost: the stage's work for one request — what the user was shown (their logged lists,
    // `SHOWN_LISTS` of 10 items by id, as `recommendations/shown-lists.ts` holds them), features and trees
    // for the top 200 candidates.
    const reranker = judged.training.reranker;
    if (timeCost && reranker !== null) {
      const { matrix, times } = set.input;
      const nItems = matrix.cols;
      const now = set.input.now ?? 0;
      const candidates = Int32Array.from({ length: Math.min(COST_CANDIDATES, nItems) }, (_, j) => j);
      const scores = Float64Array.from(candidates, (_, j) => 1 - j / candidates.length);
      const served = Array.from({ length: SHOWN_LISTS }, (_, q) => ({
        at: now - (SHOWN_LISTS - q) * 3_600_000,
        items: Array.from({ length: 10 }, (_, k) => set.itemIds[(q * 7 + k * 13) % nItems]!),
      }));
      const took = new Float64Array(CALLS);
      for (let c = 0; c < CALLS; c++) {
        const u = c % matrix.rows;
        const from = matrix.indptr[u]!;
        const to = matrix.indptr[u + 1]!;
        const t0 = performance.now();
        const counts = countShown(served, now);
        const user = {
          items: matrix.indices.subarray(from, to),
          times: times?.subarray(from, to),
          shown: (item: number) => counts.get(set.itemIds[item]!) ?? 0,
        };
        reranker.score(user, candidates, scores, now);
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
    return outcome;
  } finally {
    await store.close();
  }
}

/**
 * ndcg@10 of the later lists ordered by each shopper's true click chance (what the simulation draws clicks
 * from; the shop `attune demo --users USERS --days 30` built, with the run's `attune simulate --seed`) against
 * the generator's order (served score, ties by position), over the lists with an outcome: the most a
 * re-ranker could gain on these outcomes, knowing the shoppers' tastes exactly. On raw outcomes the served
 * order keeps a head start no re-ranker can take (the items shown higher were looked at more); `ips`
 * weighs each outcome by 1 / the simulation's chance that the shopper looked at its position.
 */
function truthOrdering(
  seed: number,
  lists: readonly LoggedList[],
  later: readonly LoggedList[],
  userIds: readonly string[],
  itemIds: readonly string[],
) {
  const judged = new Set(later);
  const allLists = [...lists].sort((a, b) => a.at - b.at);
  const people = population(generateDemoShop({ users: USERS, days: 30 }), seed);
  const shoppers = new Map(people.shoppers.map((shopper) => [shopper.id, shopper]));
  const sums = { generator: 0, truth: 0, ipsGenerator: 0, ipsTruth: 0, lists: 0 };
  // Lists each shopper was shown before, without a click, per item (the simulation's fatigue).
  const passedOver = new Map<number, Map<number, number>>();
  for (const list of allLists) {
    const passed = passedOver.get(list.user) ?? new Map<number, number>();
    passedOver.set(list.user, passed);
    const fatigue = Array.from(list.items, (item) => BEHAVIOUR.fatigue ** (passed.get(item) ?? 0));
    list.items.forEach((item, j) => {
      if (list.grades[j] === 0) passed.set(item, (passed.get(item) ?? 0) + 1);
    });
    if (!judged.has(list)) continue;
    const shopper = shoppers.get(userIds[list.user] ?? '');
    if (list.items.length < 2 || shopper === undefined) continue;
    const chance = Array.from(list.items, (item, j) => {
      const id = itemIds[item]!;
      const taste = affinity(shopper, people.itemVector.get(id));
      return fatigue[j]! * clickChance(taste, people.itemAppeal.get(id) ?? 0);
    });
    // Rows 0 .. n of this list, in `ndcgOf`'s terms (the re-ranker's own judgement).
    const byTruth = (a: number, b: number) => chance[b]! - chance[a]! || a - b;
    const byGenerator = (a: number, b: number) =>
      list.scores[b]! - list.scores[a]! || list.positions[a]! - list.positions[b]!;
    const raw = Float64Array.from(list.grades, (grade) => 2 ** grade - 1);
    const ips = raw.map((gain, j) => gain / BEHAVIOUR.positionDecay ** list.positions[j]!);
    const n = list.items.length;
    const generator = ndcgOf(raw, 0, n, 10, byGenerator);
    if (Number.isNaN(generator)) continue;
    sums.generator += generator;
    sums.truth += ndcgOf(raw, 0, n, 10, byTruth);
    sums.ipsGenerator += ndcgOf(ips, 0, n, 10, byGenerator);
    sums.ipsTruth += ndcgOf(ips, 0, n, 10, byTruth);
    sums.lists++;
  }
  const n = Math.max(1, sums.lists);
  return {
    lists: sums.lists,
    ndcg10_truth: sums.truth / n,
    ndcg10_generator: sums.generator / n,
    lift: sums.truth / sums.generator - 1,
    ips_lift: sums.ipsTruth / sums.ipsGenerator - 1,
  };
}
