import type { Evidence, ModelArtifact, Recommender, ScoredIndex, UserProfile } from '../src/models/index.js';
import type { ServingProfile } from '../src/recommendations/index.js';
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

/** A one-model bundle over `itemIds`, scored by `FixedScores`, trained (and cut off) at `at`. */
export function fixedBundle(
  itemIds: readonly string[],
  scores: readonly number[],
  at: number,
  users: readonly string[] = ['u'],
): ModelBundle {
  return new ModelBundle(
    {
      version: 1,
      trainedAt: at,
      position: 0,
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

/** User `u` of `bundle` with no history: nothing seen, turned down or bought. */
export const emptyProfile = (bundle: ModelBundle): ServingProfile => ({
  userId: 'u',
  seen: new Set(),
  rejected: new Set(),
  purchased: new Set(),
  lastSeenAt: new Map(),
  actions: new Map(),
  model: {
    userIndex: bundle.userIndex.get('u')!,
    fresh: false,
    items: new Int32Array(0),
    weights: new Float32Array(0),
  },
});
