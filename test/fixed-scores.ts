import type { Evidence, ModelArtifact, Recommender, ScoredIndex, UserProfile } from '../src/models/index.js';

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
