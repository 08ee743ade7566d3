import {
  decodeArtifacts,
  encodeArtifacts,
  loadRecommender,
  type ModelArtifact,
  type ModelName,
  type Recommender,
} from '../models/index.js';
import type { JsonValue } from '../shared/types.js';

/** The artifact name under which trained bundles are versioned in the store. */
export const BUNDLE_ARTIFACT = 'bundle';

/** What a bundle records about its own training, shown by `/v1/models` and `/health`. */
export interface BundleInfo {
  readonly version: number;
  readonly trainedAt: number;
  /** Events received from this time on were not part of training. */
  readonly cutoff: number;
  readonly primary: ModelName;
  readonly eventsRead: number;
  readonly users: number;
  readonly items: number;
  readonly interactions: number;
  readonly fitSeconds: Readonly<Partial<Record<ModelName, number>>>;
}

interface BundleHeader {
  readonly info: BundleInfo;
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
}

/**
 * Every model trained in one run, sharing one id space. Immutable: retraining builds a new bundle and
 * the engine swaps its reference in one assignment, so a request sees one whole bundle or the other.
 */
export class ModelBundle {
  readonly userIndex: ReadonlyMap<string, number>;
  readonly itemIndex: ReadonlyMap<string, number>;

  constructor(
    readonly info: BundleInfo,
    readonly userIds: readonly string[],
    readonly itemIds: readonly string[],
    readonly models: ReadonlyMap<ModelName, Recommender>,
  ) {
    this.userIndex = new Map(userIds.map((id, index) => [id, index]));
    this.itemIndex = new Map(itemIds.map((id, index) => [id, index]));
  }

  get version(): number {
    return this.info.version;
  }

  model(name: ModelName): Recommender | undefined {
    return this.models.get(name);
  }

  encode(): Uint8Array {
    const header: BundleHeader = { info: this.info, userIds: this.userIds, itemIds: this.itemIds };
    const artifacts: ModelArtifact[] = [...this.models.values()].map((model) => model.toArtifact());
    return encodeArtifacts(artifacts, header as unknown as JsonValue);
  }

  static decode(bytes: Uint8Array): ModelBundle {
    const { artifacts, header } = decodeArtifacts(bytes);
    const { info, userIds, itemIds } = header as unknown as BundleHeader;
    const models = new Map<ModelName, Recommender>();
    for (const artifact of artifacts) models.set(artifact.name, loadRecommender(artifact));
    return new ModelBundle(info, userIds, itemIds, models);
  }
}
