import type { Evidence, ModelArtifact, Recommender, ScoredIndex, UserProfile } from '../src/models/index.js';
import { defaultFeedbackConfig, type TrackedEvent } from '../src/events/index.js';
import {
  buildProfile,
  defaultSessionConfig,
  HistoryTables,
  UserHistory,
  type ProfileSettings,
  type ServingProfile,
} from '../src/recommendations/index.js';
import { GbdtModel } from '../src/models/tabular/index.js';
import { emptySnapshot } from '../src/ranking/item-snapshot.js';
import { N_RERANK_FEATURES, RERANK_FEATURES, type RerankFeature } from '../src/ranking/rerank-features.js';
import { Reranker } from '../src/ranking/reranker.js';
import { ModelBundle } from '../src/training/index.js';

/** A model that scores every user alike from a fixed array (ties included): pipeline tests control the order. */
export class FixedScores implements Recommender {
  readonly name = 'itemknn' as const;
  readonly params = {};
  readonly nUsers = 1;
  readonly nItems: number;
  constructor(private readonly scores: Float32Array) {
    this.nItems = scores.length;
  }
  score(_profile: UserProfile, out: Float32Array): void {
    out.set(this.scores);
  }
  similar(): ScoredIndex[] {
    return [];
  }
  evidence(_profile: UserProfile, item: number): Evidence {
    return { kind: 'popular', popularity: this.scores[item] ?? 0 };
  }
  toArtifact(): ModelArtifact {
    return { name: 'itemknn', params: {}, nUsers: 1, nItems: this.nItems, arrays: {} };
  }
}

/**
 * A one-model bundle over `itemIds`, scored by `FixedScores`, trained at `at` through log position
 * `position` (events committed later are fresh to it).
 */
export function fixedBundle(
  itemIds: readonly string[],
  scores: readonly number[],
  at: number,
  users: readonly string[] = ['u'],
  position = 0,
): ModelBundle {
  return new ModelBundle(
    {
      version: 1,
      trainedAt: at,
      position,
      cutoff: at,
      primary: 'itemknn',
      eventsRead: 0,
      users: users.length,
      items: itemIds.length,
      interactions: 0,
      fitSeconds: {},
    },
    [...users],
    [...itemIds],
    new Map([['itemknn', new FixedScores(Float32Array.from(scores))]]),
  );
}

/** Default serving settings: feedback weights and the session as the engine configures them. */
export const servingSettings: ProfileSettings = {
  feedback: defaultFeedbackConfig,
  session: defaultSessionConfig,
};

/** A user's history from events in commit order, with default settings. */
export function historyOf(
  events: readonly TrackedEvent[],
  settings: ProfileSettings = servingSettings,
): UserHistory {
  const { windowMs, windowEvents } = settings.session;
  return UserHistory.fromEvents(new HistoryTables(), events, {
    feedback: settings.feedback,
    windowMs,
    windowEvents,
  });
}

/** The serving profile of `userId` after `events` (commit order), as the engine builds it. */
export function profileOf(
  bundle: ModelBundle | null,
  events: readonly TrackedEvent[] = [],
  userId = 'u',
  settings: ProfileSettings = servingSettings,
): ServingProfile {
  return buildProfile(userId, historyOf(events, settings), bundle, settings);
}

/** User `u` of `bundle` with no history: nothing seen, turned down or bought. */
export const emptyProfile = (bundle: ModelBundle): ServingProfile => profileOf(bundle);

/** A tracked event with the fields tests care about; the rest defaulted. */
export function tracked(
  name: string,
  itemId: string | null,
  timestamp: number,
  more: Partial<TrackedEvent> = {},
): TrackedEvent {
  return {
    eventId: `${name}:${itemId}:${timestamp}`,
    name,
    userId: 'u',
    itemId,
    timestamp,
    receivedAt: timestamp,
    context: {},
    properties: {},
    requestId: null,
    ...more,
  };
}

/**
 * A one-stump re-ranker over `nItems` items: +1 where `feature` ≤ 0.5, 0 otherwise. `nFeatures` below this
 * build's: trees an earlier build trained, on the leading features. `snapshot` may set the per-item values
 * the features read (all zero, no categories, otherwise).
 */
export function stumpReranker(
  feature: RerankFeature,
  nItems: number,
  options: {
    readonly nFeatures?: number;
    readonly snapshot?: (snapshot: ReturnType<typeof emptySnapshot>) => void;
    /** `RerankerInfo.depth`; absent as in re-rankers stored before it was recorded. */
    readonly depth?: number;
  } = {},
): Reranker {
  const model = GbdtModel.fromJSON({
    format: 'attune-gbdt',
    version: 2,
    objective: 'reg:squarederror',
    baseScore: 0,
    nFeatures: options.nFeatures ?? N_RERANK_FEATURES,
    treeStart: [0, 3],
    feature: [RERANK_FEATURES.indexOf(feature), -1, -1],
    threshold: [0.5, 0, 0],
    defaultLeft: [1, 0, 0],
    left: [1, -1, -1],
    right: [2, -1, -1],
    value: [0, 1, 0],
    gain: [1, 0, 0],
    cover: [2, 1, 1],
  });
  const snapshot = emptySnapshot(nItems, new Int32Array(nItems).fill(-1), []);
  options.snapshot?.(snapshot);
  return new Reranker(model, snapshot, {
    source: 'impressions',
    trainLists: 0,
    validationLists: 0,
    k: 10,
    ndcg: 0,
    generatorNdcg: 0,
    gainStandardError: 0,
    trees: 1,
    importances: [],
    ...(options.depth === undefined ? {} : { depth: options.depth }),
  });
}
