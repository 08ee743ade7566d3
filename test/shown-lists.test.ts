import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_ARTIFACT, ModelBundle } from '../src/training/index.js';
import { stumpReranker } from './fixed-scores.js';
import { ids, loadShop, openTestApp, plantedShop, recommendOk, train, type TestApp } from './helpers.js';

/**
 * The re-ranker's `user_item_shown` through a running engine: what it served a user counts on their next
 * request, and after a restart the counts come back from the impression log. The re-ranker is one stump
 * (+1 for an item not shown lately, 0 for one shown), installed over the trained model as a newer bundle.
 */
const shop = plantedShop({ usersPerGroup: 10 });
let t: TestApp;

async function installStumpReranker(app: TestApp): Promise<void> {
  const [newest] = (await app.engine.store.listArtifacts(BUNDLE_ARTIFACT)).sort(
    (a, b) => b.version - a.version,
  );
  const stored = await app.engine.store.loadArtifact(BUNDLE_ARTIFACT, newest!.version);
  const trained = ModelBundle.decode(stored!.payload, newest!.version);
  const reranked = new ModelBundle(
    { ...trained.info, version: trained.info.version + 1 },
    trained.userIds,
    trained.itemIds,
    trained.models,
    stumpReranker('user_item_shown', trained.itemIds.length),
  );
  await app.engine.store.saveArtifact({
    name: BUNDLE_ARTIFACT,
    createdAt: Date.now(),
    meta: { position: trained.info.position },
    payload: reranked.encode(),
  });
  await app.engine.refreshBundle();
}

beforeAll(async () => {
  // Every request computes its list: the result cache would serve the first list again for a minute.
  t = await openTestApp({ resultCacheMs: null });
  await loadShop(t.app, shop);
  await train(t.app);
  await installStumpReranker(t);
});
afterAll(async () => {
  await t?.close();
});

describe('the re-ranker reads what each user was shown', () => {
  it('puts what the user was just shown below what they were not, and reads it back after a restart', async () => {
    const user = shop.groupA[0]!;
    const first = ids((await recommendOk(t.app, `user_id=${user}&n=3`)).items);
    const second = ids((await recommendOk(t.app, `user_id=${user}&n=3`)).items);
    expect(second.filter((id) => first.includes(id))).toEqual([]);

    // A new engine on the same store knows nothing in memory: the impression log says what was shown.
    const dir = t.dir;
    await t.close({ keepData: true });
    t = await openTestApp({ resultCacheMs: null }, dir);
    const third = ids((await recommendOk(t.app, `user_id=${user}&n=3`)).items);
    expect(third).toHaveLength(3);
    expect(third.filter((id) => first.includes(id) || second.includes(id))).toEqual([]);
  });

  it('is not served by an instance started with rerank off, which says why, and stays stored', async () => {
    const dir = t.dir;
    await t.close({ keepData: true });
    t = await openTestApp({ resultCacheMs: null, rerank: 'off' }, dir);
    const user = shop.groupA[1]!;
    const first = ids((await recommendOk(t.app, `user_id=${user}&n=3`)).items);
    expect(ids((await recommendOk(t.app, `user_id=${user}&n=3`)).items)).toEqual(first);
    const models = await t.app.inject({ method: 'GET', url: '/v1/models' });
    expect(models.json().serving.reranking).toMatchObject({
      chosen: false,
      skipped: expect.stringMatching(/^ATTUNE_RERANK=off on this instance/),
    });

    await t.close({ keepData: true });
    t = await openTestApp({ resultCacheMs: null }, dir);
    const again = ids((await recommendOk(t.app, `user_id=${user}&n=3`)).items);
    expect(again).toHaveLength(3);
    expect(again.filter((id) => first.includes(id))).toEqual([]);
  });
});
