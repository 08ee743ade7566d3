import {
  BlendRecommender,
  blendOf,
  decodeArtifacts,
  encodeArtifacts,
  loadRecommender,
  type ModelArtifact,
  type ModelName,
  type Recommender,
} from '../models/index.js';
import type { Trial } from '../evaluation/auto.js';
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
  /**
   * Items `[0, warmItems)` have interactions in the log; the rest are catalog items indexed without any
   * (new items, scored by the hybrid from their features). Absent: every item is warm (no hybrid).
   */
  readonly warmItems?: number;
  /** How many item features and user traits the hybrid learned embeddings for; absent without a hybrid. */
  readonly features?: { readonly item: number; readonly user: number };
  readonly fitSeconds: Readonly<Partial<Record<ModelName, number>>>;
  /** What automatic selection tried and chose; absent when the primary model was fixed by configuration. */
  readonly selection?: SelectionRecord;
}

/** A training run's model selection, as stored with the bundle (plain JSON). */
export interface SelectionRecord {
  readonly mode: 'auto';
  readonly chosen: { readonly model: ModelName; readonly params: JsonValue };
  /** Validation ndcg@20 of the choice; `null` when selection fell back without measuring. */
  readonly valNdcg: number | null;
  /** Why the configured primary model was taken without measuring, or `null`. */
  readonly fallback: string | null;
  readonly validationUsers: number;
  readonly validationPairs: number;
  readonly seconds: number;
  /** Every candidate measured on validation, with its scoring cost (`Trial` in `evaluation/auto.ts`). */
  readonly tried: readonly Trial[];
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

  /** Bundle indices of the items indexed without interactions (new items): `[start, end)`. */
  get newItems(): { readonly start: number; readonly end: number } {
    const end = this.itemIds.length;
    return { start: Math.min(this.info.warmItems ?? end, end), end };
  }

  /** Whether the item at `index` was indexed without interactions (a new item only the hybrid scores). */
  isNewItem(index: number): boolean {
    return index >= this.newItems.start && index < this.itemIds.length;
  }

  /** A blend whose components are this bundle's own models: stored by reference, not copied. */
  private sharesComponents(model: Recommender): model is BlendRecommender {
    return (
      model instanceof BlendRecommender &&
      model.components.every((c) => c.model.name !== 'blend' && this.models.get(c.model.name) === c.model)
    );
  }

  encode(): Uint8Array {
    const header: BundleHeader = { info: this.info, userIds: this.userIds, itemIds: this.itemIds };
    const artifacts: ModelArtifact[] = [...this.models.values()].map((model) =>
      this.sharesComponents(model) ? sharedBlendArtifact(model) : model.toArtifact(),
    );
    return encodeArtifacts(artifacts, header as unknown as JsonValue);
  }

  static decode(bytes: Uint8Array): ModelBundle {
    const { artifacts, header } = decodeArtifacts(bytes);
    const { info, userIds, itemIds } = header as unknown as BundleHeader;
    const models = new Map<ModelName, Recommender>();
    const shared: ModelArtifact[] = [];
    for (const artifact of artifacts) {
      if (isSharedBlend(artifact)) shared.push(artifact);
      else models.set(artifact.name, loadRecommender(artifact));
    }
    // A blend stored by reference is rebuilt from the bundle's own models, once those are loaded.
    for (const artifact of shared) models.set(artifact.name, blendFromBundle(artifact, models));
    return new ModelBundle(info, userIds, itemIds, models);
  }
}

/** Marks a blend artifact whose components live beside it in the bundle (no arrays of its own). */
const SHARED_KEY = 'componentsInBundle';

function sharedBlendArtifact(blend: BlendRecommender): ModelArtifact {
  const params = { components: blend.components.map((c) => ({ model: c.model.name, weight: c.weight })) };
  return {
    name: 'blend',
    params: { ...params, [SHARED_KEY]: true },
    nUsers: blend.nUsers,
    nItems: blend.nItems,
    arrays: {},
  };
}

function isSharedBlend(artifact: ModelArtifact): boolean {
  const { params } = artifact;
  return (
    artifact.name === 'blend' &&
    params !== null &&
    typeof params === 'object' &&
    !Array.isArray(params) &&
    (params as { readonly [key: string]: JsonValue })[SHARED_KEY] === true
  );
}

function blendFromBundle(artifact: ModelArtifact, models: ReadonlyMap<ModelName, Recommender>): Recommender {
  const list = (artifact.params as { readonly [key: string]: JsonValue })['components'];
  if (!Array.isArray(list)) throw new TypeError('blend in bundle: params.components must be a list');
  const parts = (list as readonly JsonValue[]).map((entry) => {
    const { model, weight } = entry as { readonly [key: string]: JsonValue };
    const found = typeof model === 'string' ? models.get(model as ModelName) : undefined;
    if (found === undefined || typeof weight !== 'number') {
      throw new TypeError(`blend in bundle: component ${JSON.stringify(model ?? null)} is not in the bundle`);
    }
    return { model: found, weight };
  });
  return blendOf(parts);
}
