/**
 * Online–offline parity on MovieLens 100K: is what the server serves what evaluation measured?
 *
 *   node --import tsx bench/parity.ts [path/to/u.data]
 *
 * As a user would: the protocol's train split (`../shared/reference/PROTOCOL.md`) written as a u.data file,
 * `attune import --format ml100k`, `attune train`, `attune serve`, and `GET /v1/recommendations?n=20` for
 * every one of the 943 evaluated users. Three engines: fixed ALS, fixed EASE, and the default (selection
 * `auto`). For each:
 *
 * - identical lists: the served top 20 against the evaluation harness's ranking of the same bundle model over
 *   the same training matrix (`evaluation/parity.ts`), user by user, with each difference explained or not;
 * - quality: ndcg@20 / recall@20 of the served lists on the protocol's test split, against what
 *   `attune evaluate --choice` reports for the model that serves (`GET /v1/models` → `serving.chosen`):
 *   the protocol fitting that choice on the train split (value 1 per pair, protocol id order) and scoring it.
 *
 * stdout: one JSON line per engine.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultFeedbackConfig, feedbackOf, parseFeedbackConfig } from '../src/events/index.js';
import {
  compareLists,
  evaluatedLists,
  heldOutUsers,
  MetricsAccumulator,
  prepareDataset,
  readInteractions,
  summarize,
} from '../src/evaluation/index.js';
import { openStore } from '../src/store/index.js';
import { BUNDLE_ARTIFACT, ModelBundle, buildTrainingSet } from '../src/training/index.js';
import { benchFetch, runCli, SHARED, startServer, tempDataDir } from './server.js';
import { jsonArgs } from './cli-json.js';

const dataPath = process.argv[2] ?? join(SHARED, 'data/ml-100k/u.data');
const K = 20;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const dataset = await prepareDataset(readInteractions(dataPath, 'ml100k'));
const split = summarize(dataset);
log(`split: ${JSON.stringify(split)}`);

/** The train split in u.data's layout: what a user of the protocol would import. */
const trainFile = join(tempDataDir('parity-input'), 'train.data');
{
  const { indptr, items, times } = dataset.train.rows;
  const lines: string[] = [];
  for (let u = 0; u + 1 < indptr.length; u++) {
    for (let j = indptr[u]!; j < indptr[u + 1]!; j++) {
      lines.push(`${dataset.userIds[u]}\t${dataset.itemIds[items[j]!]}\t4\t${Math.round(times[j]! / 1000)}`);
    }
  }
  writeFileSync(trainFile, lines.join('\n'));
}

const itemIndex = new Map(dataset.itemIds.map((id, index) => [id, index]));
const evaluated = heldOutUsers(dataset.test);

/** ndcg@20 and recall@20 of lists (by user id) on the protocol's test split. */
function testMetrics(lists: ReadonlyMap<string, readonly string[]>) {
  const metrics = new MetricsAccumulator(dataset.itemIds.length, K);
  const { indptr, items } = dataset.test.rows;
  for (const u of evaluated) {
    const list = lists.get(dataset.userIds[u]!) ?? [];
    metrics.add(
      Int32Array.from(list, (id) => itemIndex.get(id) ?? -1),
      items.subarray(indptr[u]!, indptr[u + 1]!),
    );
  }
  const result = metrics.result();
  return { ndcg: round(result.ndcg), recall: round(result.recall), users: result.users };
}

const round = (x: number): number => Number(x.toFixed(6));

async function servedLists(url: string): Promise<Map<string, string[]>> {
  const lists = new Map<string, string[]>();
  const users = [...evaluated].map((u) => dataset.userIds[u]!);
  // A few requests in flight at a time: the lists, not the latency, are measured here.
  for (let start = 0; start < users.length; start += 16) {
    await Promise.all(
      users.slice(start, start + 16).map(async (userId) => {
        const response = await benchFetch(
          `${url}/v1/recommendations?user_id=${encodeURIComponent(userId)}&n=${K}`,
        );
        if (!response.ok) throw new Error(`GET recommendations for ${userId}: ${response.status}`);
        const body = (await response.json()) as { items: { item_id: string }[]; fallback: string | null };
        lists.set(
          userId,
          body.items.map((item) => item.item_id),
        );
      }),
    );
  }
  return lists;
}

/**
 * A `rated` event weighs 3 by default (an opinion, between a click and a cart); the protocol counts every
 * pair as 1. Models are not scale-free (ALS's confidence 1 + α·w, EASE's λ against the Gram matrix), so a
 * fixed model's defaults fit a little differently: the engines below with this file weigh `rated` 1, as
 * the protocol does, to show that this is the whole difference.
 */
const protocolWeights = join(tempDataDir('parity-feedback'), 'feedback.json');
writeFileSync(protocolWeights, JSON.stringify({ events: { rated: 1 } }));

const ENGINES: readonly { readonly name: string; readonly env: Record<string, string> }[] = [
  { name: 'fixed als', env: { ATTUNE_SELECTION: 'fixed', ATTUNE_PRIMARY_MODEL: 'als' } },
  { name: 'fixed ease', env: { ATTUNE_SELECTION: 'fixed', ATTUNE_PRIMARY_MODEL: 'ease' } },
  {
    name: 'fixed als, rated weighs 1',
    env: { ATTUNE_SELECTION: 'fixed', ATTUNE_PRIMARY_MODEL: 'als', ATTUNE_FEEDBACK_FILE: protocolWeights },
  },
  {
    name: 'fixed ease, rated weighs 1',
    env: { ATTUNE_SELECTION: 'fixed', ATTUNE_PRIMARY_MODEL: 'ease', ATTUNE_FEEDBACK_FILE: protocolWeights },
  },
  { name: 'default (selection auto)', env: {} },
];

for (const engine of ENGINES) {
  const dataDir = tempDataDir('parity');
  // The personalized path is what parity is about: no global holdout (its users get popularity by design).
  const env = { ...engine.env, ATTUNE_RETRAIN_INTERVAL_MS: 'off', ATTUNE_HOLDOUT: '0' };
  await runCli(['import', '--format', 'ml100k', trainFile], dataDir, env);
  await runCli(['train'], dataDir, env);
  const server = await startServer(dataDir, env);
  let served: Map<string, string[]>;
  let chosen: { model: string; params: unknown };
  try {
    const models = (await (await benchFetch(`${server.url}/v1/models`)).json()) as {
      serving: { chosen: { model: string; params: unknown }; version: number };
    };
    chosen = models.serving.chosen;
    served = await servedLists(server.url);
  } finally {
    await server.stop();
  }

  // The harness's side: the same bundle and training matrix, read from the store the server used.
  const store = await openStore(`sqlite:${dataDir}`, { readonly: true });
  const artifact = await store.loadArtifact(BUNDLE_ARTIFACT);
  const bundle = ModelBundle.decode(artifact!.payload, artifact!.version);
  const feedback = engine.env['ATTUNE_FEEDBACK_FILE']
    ? parseFeedbackConfig({ events: { rated: 1 } })
    : defaultFeedbackConfig;
  const set = await buildTrainingSet(store, feedback);
  const model = bundle.model(bundle.info.primary)!;
  const data = {
    userIds: set.userIds,
    itemIds: set.itemIds,
    matrix: set.input.matrix,
    ...(set.input.times ? { times: set.input.times } : {}),
  };
  const harness = evaluatedLists(model, data, K);
  const raw = compareLists(served, harness);
  // What serving knows beyond a training row: items turned down (none in MovieLens), items not offered.
  const turnedDown = new Map<string, Set<string>>();
  for (const userId of set.userIds) {
    const down = new Set<string>();
    for (const total of await store.userItems(userId)) {
      if (feedbackOf(defaultFeedbackConfig, { name: total.name, properties: {} }).kind === 'negative')
        down.add(total.itemId);
    }
    turnedDown.set(userId, down);
  }
  await store.close();
  const explained = compareLists(
    served,
    evaluatedLists(model, data, K, (id) => turnedDown.get(id)!),
  );

  const choiceLine = JSON.parse(
    await runCli(
      [
        'evaluate',
        ...['--input', dataPath, '--format', 'ml100k', '--choice', JSON.stringify(chosen)],
        ...jsonArgs(['evaluate']),
      ],
      dataDir,
    ),
  ) as { 'ndcg@20': number; 'recall@20': number };
  const servedMetrics = testMetrics(served);
  const harnessMetrics = testMetrics(harness);
  const line = {
    bench: 'parity',
    engine: engine.name,
    chosen,
    users: raw.users,
    identical_lists: raw.identical,
    identical_share: round(raw.identical / raw.users),
    differing_explained: raw.differing.length - explained.differing.length,
    differing_unexplained: explained.differing.length,
    first_unexplained: explained.differing.slice(0, 3),
    served: servedMetrics,
    harness_same_model: harnessMetrics,
    evaluate_choice: { ndcg: choiceLine['ndcg@20'], recall: choiceLine['recall@20'] },
    served_vs_evaluate_ndcg: round(servedMetrics.ndcg / choiceLine['ndcg@20'] - 1),
    targets: { identical_share: 0.99, served_vs_evaluate_ndcg_within: 0.02 },
  };
  log(
    `${engine.name}: ${raw.identical}/${raw.users} identical, served ndcg@20 ${servedMetrics.ndcg} vs evaluate --choice ${choiceLine['ndcg@20']}`,
  );
  console.log(JSON.stringify(line));
}
