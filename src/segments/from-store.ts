import type { ConsentFilter } from '../privacy/index.js';
import type { Item } from '../catalog/index.js';
import { userFeatureTable, type FeatureSet, type ItemLookup } from '../features/index.js';
import type { Store } from '../store/index.js';
import {
  SEGMENTS_ARTIFACT,
  SegmentModel,
  decodeSegmentsArtifact,
  encodeSegmentsArtifact,
  type SegmentsArtifactData,
} from './model.js';
import { trainSegmentsOnTable, type SegmentTrainingOptions } from './train.js';

/**
 * Segments of a store's users: every user with an event before `at`, with their features at `at` from one
 * scan of the log through a position fixed at the start, clustered and saved as a new `segments` version.
 */
export async function trainSegments(
  store: Store,
  set: FeatureSet,
  at: number,
  options: SegmentTrainingOptions,
  /** Leaves out the users whose consent withholds personalization; absent, everyone is segmented. */
  consent?: ConsentFilter,
): Promise<{ readonly version: number; readonly data: SegmentsArtifactData }> {
  const throughSeq = await store.lastEventSeq();
  const scan = store.scanEvents({ throughSeq });
  const events = consent === undefined ? scan : consent.personalEvents(scan);
  const table = await userFeatureTable(set, events, at, await catalogOf(store));
  const data = trainSegmentsOnTable(set, table, at, options);
  const version = await store.saveArtifact({
    name: SEGMENTS_ARTIFACT,
    createdAt: Date.now(),
    meta: {
      algorithm: data.clustering.algorithm,
      segments: data.segments.length,
      users: data.users,
      at: new Date(at).toISOString(),
      trained_at: new Date(data.trainedAt).toISOString(),
    },
    payload: encodeSegmentsArtifact(data),
  });
  return { version, data };
}

/** The newest stored segmentation, or null when none was trained. */
export async function loadSegmentModel(store: Store): Promise<SegmentModel | null> {
  const artifact = await store.loadArtifact(SEGMENTS_ARTIFACT);
  if (artifact === null) return null;
  return new SegmentModel(decodeSegmentsArtifact(artifact.payload), artifact.version);
}

/** The catalog as features read it (categories, prices), read once. */
async function catalogOf(store: Store): Promise<ItemLookup> {
  const catalog = new Map<string, Item>();
  for await (const batch of store.scanItems()) for (const item of batch) catalog.set(item.id, item);
  return (itemId) => catalog.get(itemId);
}
