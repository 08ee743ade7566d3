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
import { Reranker, type RerankerInfo } from '../ranking/reranker.js';
import type { JsonValue } from '../shared/types.js';

/** The artifact name under which trained bundles are versioned in the store. */
export const BUNDLE_ARTIFACT = 'bundle';

/** What a bundle records about its own training, shown by `/v1/models` and `/health`. */
export interface BundleInfo {
  /** The store's version of the artifact (allocated when it was saved; not part of the encoded bytes). */
  readonly version: number;
  readonly trainedAt: number;
  /**
   * The event-log position the run trained up to: every event with seq ≤ position, and no other, is in
   * this bundle (`Store.lastEventSeq` when the run started, then `scanEvents({ throughSeq })`). A user
   * whose newest feedback has a higher seq has feedback the bundle has not seen. Bundles are ordered by
   * position, then version (`compareBundles`); 0 for bundles saved before positions were recorded.
   */
  readonly position: number;
  /**
   * The wall-clock time the run started reading events; for display only: freshness is decided by
   * `position`, since clocks and `receivedAt` say nothing about what a run's scan actually read.
   */
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
  /**
   * The re-ranker's training: what it learnt from and how it did against the generator's order on later
   * lists, or why there is none. Absent in bundles from before re-rankers and in runs that did not try.
   */
  readonly reranking?: RerankingRecord;
}

/** A run's re-ranker attempt, as stored with the bundle (plain JSON). */
export interface RerankingRecord {
  /** True when the bundle carries the re-ranker (validation beat the generator's order, or it was forced). */
  readonly chosen: boolean;
  /** Why no re-ranker is served, or `null`. */
  readonly skipped: string | null;
  /** Present when the re-ranker serves though validation did not choose it (`ATTUNE_RERANK=always`): why. */
  readonly forced?: string;
  readonly info: RerankerInfo | null;
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

/** What a run records before the store gives the bundle its version. */
export type TrainedInfo = Omit<BundleInfo, 'version'>;

/**
 * The bundle's own format, inside the artifact container's. 1: the first; 2: `info.position` recorded and
 * `info.version` left to the store; 3: an optional re-ranker in the header (`reranker`; formats 1 and 2
 * read as bundles without one). A bundle from a newer format is refused rather than misread.
 */
const BUNDLE_FORMAT = 3;

interface BundleHeader {
  /** Absent in format 1. */
  readonly format?: number;
  /** Format 1 carried `version` and no `position`. */
  readonly info: TrainedInfo & { readonly version?: number; readonly position?: number };
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  /** From format 3: the re-ranker's stored form (`Reranker.toJson`), absent when the bundle has none. */
  readonly reranker?: JsonValue;
}

/** What names an erased user's training row: ids are never empty (`events/validate.ts`). */
const ERASED_USER = '';

/** A bundle that cannot be served: unreadable bytes, a model this build does not know, a newer format. */
export class BundleDecodeError extends Error {
  override readonly name = 'BundleDecodeError';
}

/** Orders bundles by the data they were trained on, then by version: positive when `a` is newer. */
export function compareBundles(
  a: Pick<BundleInfo, 'position' | 'version'>,
  b: Pick<BundleInfo, 'position' | 'version'>,
): number {
  return a.position - b.position || a.version - b.version;
}

/**
 * The position a stored bundle's metadata records (the artifact's `meta` is its `TrainedInfo`), read
 * without decoding the payload; 0 when it records none (bundles from before positions).
 */
export function storedPosition(meta: JsonValue): number {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return 0;
  const position = (meta as { readonly [key: string]: JsonValue })['position'];
  return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : 0;
}

/**
 * Every model trained in one run, sharing one id space. Immutable: retraining builds a new bundle and
 * the engine swaps its reference in one assignment, so a request sees one whole bundle or the other.
 */
export class ModelBundle {
  readonly #userIds: string[];
  readonly #userIndex: Map<string, number>;
  readonly itemIndex: ReadonlyMap<string, number>;
  /**
   * What `encode` stores instead of `info` and `reranker`, when this instance serves the bundle otherwise
   * than it was trained (`withoutServingReranker`): a rewrite (erasure) must not drop what it does not serve.
   */
  #stored: { readonly info: BundleInfo; readonly reranker: Reranker | null } | null = null;

  constructor(
    readonly info: BundleInfo,
    userIds: readonly string[],
    readonly itemIds: readonly string[],
    readonly models: ReadonlyMap<ModelName, Recommender>,
    /** Re-orders the primary model's top candidates when validation chose it (`ranking/reranker.ts`). */
    readonly reranker: Reranker | null = null,
  ) {
    this.#userIds = [...userIds];
    this.#userIndex = new Map();
    userIds.forEach((id, index) => {
      if (id !== ERASED_USER) this.#userIndex.set(id, index);
    });
    this.itemIndex = new Map(itemIds.map((id, index) => [id, index]));
  }

  /** The training rows' user ids; an erased user's row is named by the empty string, which no id can be. */
  get userIds(): readonly string[] {
    return this.#userIds;
  }

  get userIndex(): ReadonlyMap<string, number> {
    return this.#userIndex;
  }

  /**
   * Erasure, the one change a bundle takes after it is built: the user's id leaves the index and every
   * model zeroes what it learned for their row alone, in place, so that the bundle serving now forgets
   * them at once and its encoding no longer holds them. The row stays (indices must not shift), nameless.
   * What the user's events added to shared statistics (item similarities, popularity) goes at the next
   * training, which no longer reads them. Returns whether the bundle knew the user.
   */
  eraseUser(userId: string): boolean {
    const row = this.#userIndex.get(userId);
    if (row === undefined) return false;
    this.#userIndex.delete(userId);
    this.#userIds[row] = ERASED_USER;
    for (const model of this.models.values()) model.eraseUser?.(row);
    return true;
  }

  get version(): number {
    return this.info.version;
  }

  /**
   * The same bundle serving the model's own order (`ATTUNE_RERANK=off` on a serving instance): no
   * re-ranker, and `info.reranking` says why, keeping what validation measured. The models are shared, not
   * copied, and `encode` still stores the re-ranker as trained.
   */
  withoutServingReranker(why: string): ModelBundle {
    if (this.reranker === null) return this;
    const info: BundleInfo = {
      ...this.info,
      reranking: { chosen: false, skipped: why, info: this.info.reranking?.info ?? null },
    };
    const bundle = new ModelBundle(info, this.#userIds, this.itemIds, this.models, null);
    // Only a bundle that serves its re-ranker gets here, so it is stored as it serves.
    bundle.#stored = { info: this.info, reranker: this.reranker };
    return bundle;
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

  /** The bytes to store. The version is left out: the store allocates it when it saves them. */
  encode(): Uint8Array {
    const stored = this.#stored ?? { info: this.info, reranker: this.reranker };
    const { version: _version, ...info } = stored.info;
    const header: BundleHeader = {
      format: BUNDLE_FORMAT,
      info,
      userIds: this.userIds,
      itemIds: this.itemIds,
      ...(stored.reranker === null ? {} : { reranker: stored.reranker.toJson() }),
    };
    const artifacts: ModelArtifact[] = [...this.models.values()].map((model) =>
      this.sharesComponents(model) ? sharedBlendArtifact(model) : model.toArtifact(),
    );
    return encodeArtifacts(artifacts, header as unknown as JsonValue);
  }

  /**
   * Reads stored bytes as the bundle of store version `version` (without it: the version a format-1
   * bundle recorded, else 0). Throws `BundleDecodeError`, naming the cause, for anything it cannot serve.
   */
  static decode(bytes: Uint8Array, version?: number): ModelBundle {
    try {
      const { artifacts, header } = decodeArtifacts(bytes);
      const { info, userIds, itemIds, reranker } = checkHeader(header);
      const models = new Map<ModelName, Recommender>();
      const shared: ModelArtifact[] = [];
      for (const artifact of artifacts) {
        if (isSharedBlend(artifact)) shared.push(artifact);
        else models.set(artifact.name, loadRecommender(artifact));
      }
      // A blend stored by reference is rebuilt from the bundle's own models, once those are loaded.
      for (const artifact of shared) models.set(artifact.name, blendFromBundle(artifact, models));
      const full: BundleInfo = {
        ...info,
        position: info.position ?? 0,
        version: version ?? info.version ?? 0,
      };
      const ranker = reranker === undefined ? null : Reranker.fromJson(reranker, itemIds.length);
      return new ModelBundle(full, userIds, itemIds, models, ranker);
    } catch (error) {
      if (error instanceof BundleDecodeError) throw error;
      const cause = error instanceof Error ? error.message : String(error);
      throw new BundleDecodeError(`cannot decode bundle: ${cause}`, { cause: error });
    }
  }
}

/** The header's shape, checked before anything is built from it. */
function checkHeader(header: JsonValue): BundleHeader {
  const fail = (what: string): never => {
    throw new BundleDecodeError(`cannot decode bundle: ${what}`);
  };
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return fail('no bundle header');
  const { format, info, userIds, itemIds } = header as { readonly [key: string]: JsonValue };
  const version = format ?? 1;
  if (typeof version !== 'number') return fail(`bundle format ${JSON.stringify(version)} is not a number`);
  if (version > BUNDLE_FORMAT) {
    return fail(`bundle format ${version} is newer than this build reads (${BUNDLE_FORMAT}); upgrade Attune`);
  }
  if (info === null || typeof info !== 'object' || Array.isArray(info)) return fail('the header has no info');
  const isIds = (ids: JsonValue | undefined) =>
    Array.isArray(ids) && ids.every((id) => typeof id === 'string');
  if (!isIds(userIds) || !isIds(itemIds)) return fail('the header has no user or item ids');
  return header as unknown as BundleHeader;
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
