import type { Store } from '../store/index.js';
import { SEGMENTS_ARTIFACT, SegmentModel, decodeSegmentsArtifact } from './model.js';

/**
 * The segmentation an engine serves: the newest stored `segments` version, loaded at start and whenever
 * the engine polls and finds a higher one (`attune segments train` beside a running server). A version
 * that fails to decode keeps the serving one, is reported once and is not tried again.
 */
export class ServedSegments {
  #model: SegmentModel | null = null;
  readonly #rejected = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly onRejected: (version: number, error: unknown) => void,
  ) {}

  get current(): SegmentModel | null {
    return this.#model;
  }

  /** Loads the newest version above the serving one; resolves whether the serving model changed. */
  async refresh(): Promise<boolean> {
    const serving = this.#model?.version ?? 0;
    const newer = (await this.store.listArtifacts(SEGMENTS_ARTIFACT))
      .filter((a) => a.version > serving && !this.#rejected.has(a.version))
      .sort((a, b) => b.version - a.version);
    for (const candidate of newer) {
      const artifact = await this.store.loadArtifact(SEGMENTS_ARTIFACT, candidate.version);
      if (artifact === null) continue;
      try {
        this.#model = new SegmentModel(decodeSegmentsArtifact(artifact.payload), artifact.version);
        return true;
      } catch (error) {
        this.#rejected.add(candidate.version);
        this.onRejected(candidate.version, error);
      }
    }
    return false;
  }
}
