import type { Store } from '../store/index.js';
import { CHURN_ARTIFACT, ChurnScorer, decodeChurnArtifact } from './artifact.js';

/**
 * The churn model an engine serves: the newest stored `churn` version, loaded at start and whenever the
 * engine polls and finds a higher one (`attune churn train` beside a running server). A version that
 * fails to decode keeps the serving one, is reported once and is not tried again.
 */
export class ServedChurnModel {
  #scorer: ChurnScorer | null = null;
  readonly #rejected = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly onRejected: (version: number, error: unknown) => void,
  ) {}

  get current(): ChurnScorer | null {
    return this.#scorer;
  }

  /** Loads the newest version above the serving one; resolves whether the serving model changed. */
  async refresh(): Promise<boolean> {
    const serving = this.#scorer?.version ?? 0;
    const newer = (await this.store.listArtifacts(CHURN_ARTIFACT))
      .filter((a) => a.version > serving && !this.#rejected.has(a.version))
      .sort((a, b) => b.version - a.version);
    for (const candidate of newer) {
      const artifact = await this.store.loadArtifact(CHURN_ARTIFACT, candidate.version);
      if (artifact === null) continue;
      try {
        this.#scorer = new ChurnScorer(decodeChurnArtifact(artifact.payload), artifact.version);
        return true;
      } catch (error) {
        this.#rejected.add(candidate.version);
        this.onRejected(candidate.version, error);
      }
    }
    return false;
  }
}
