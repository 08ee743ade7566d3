import {
  compileGbdt,
  decodeGbdtModel,
  encodeGbdtModel,
  shapContributions,
  type CompiledGbdt,
  type GbdtModel,
} from '../models/tabular/index.js';
import type { JsonValue } from '../shared/types.js';
import type { RerankObjective } from './train-reranker.js';
import {
  meanOutcomeRate,
  N_RERANK_FEATURES,
  RERANK_FEATURES,
  rerankFeatures,
  type ItemSnapshot,
  type RerankUser,
} from './rerank-features.js';

/**
 * The re-ranker a bundle serves: the trees, the per-item snapshot their features read, and what training
 * measured. Stored inside the bundle (`training/bundle.ts`), so it is versioned with the model whose scores
 * it re-ranks and swapped with it in one reference.
 */

/**
 * How deep the recommender's candidate lists are when the re-ranker learns from them (before the impression
 * log has enough lists), and so how many of its top candidates serving re-orders with such a re-ranker;
 * also the depth assumed for one stored before `depth` was recorded. Not deeper: the stage's time grows with
 * the candidates it scores, and on MovieLens 100K (2026-12-07, `bench/serve.ts`, every list computed) 200
 * took it 0.39 ms a list (132 trees) against 0.18 for 100 (126 trees): on that day's slow two cores, a
 * server asked for 1,000 lists a second fell behind with 200 (p50 36 ms, p99 423) and kept up with 100
 * (p50 2.2 ms, p99 39).
 */
export const CANDIDATE_LIST_DEPTH = 100;

export interface RerankerInfo {
  /** What the lists it learnt from were: logged served lists, or the recommender's candidates. */
  readonly source: 'impressions' | 'candidates';
  readonly trainLists: number;
  readonly validationLists: number;
  /** ndcg@k on the later validation lists: re-ranked, and in the generator's order. */
  readonly k: number;
  readonly ndcg: number;
  readonly generatorNdcg: number;
  readonly gainStandardError: number;
  readonly trees: number;
  /** What the trees fit (`train-reranker.ts`); absent in re-rankers trained before it was recorded. */
  readonly objective?: RerankObjective;
  /**
   * Inverse-propensity weight per served position (position 0 first), from the position-based click model
   * fitted on the log; absent when trained on candidate lists (no positions).
   */
  readonly positionWeights?: readonly number[];
  /**
   * The longest list it learnt from: serving re-orders the generator's top this many candidates and no
   * deeper, since the trees never saw a generator rank (or score gap) beyond it and are flat there, which
   * would rank an item deep in the candidates like the last one of a list it learnt from. Absent in
   * re-rankers trained before it was recorded (`rerankDepth`).
   */
  readonly depth?: number;
  readonly importances: readonly { readonly feature: string; readonly gain: number }[];
}

/** How many of the generator's top candidates a re-ranker re-orders (`RerankerInfo.depth`). */
function rerankDepth(info: RerankerInfo): number {
  return info.depth ?? info.positionWeights?.length ?? CANDIDATE_LIST_DEPTH;
}

export class Reranker {
  /**
   * The features the trees read: this build's, or a leading part of them for trees an earlier build
   * trained (features are only ever appended), which keep serving until the next training.
   */
  readonly features: readonly string[];
  /** The features some tree splits on: serving need not gather the others' inputs (`user_item_shown`). */
  readonly splitsOn: ReadonlySet<string>;
  /** How many of the generator's top candidates serving re-orders (`RerankerInfo.depth`). */
  readonly depth: number;
  private readonly meanRate: number;
  /** The trees in the request path's layout (null: they do not fit it; the linked walk scores). */
  private readonly compiled: CompiledGbdt | null;
  private buffer = new Float64Array(0);

  constructor(
    readonly model: GbdtModel,
    readonly snapshot: ItemSnapshot,
    readonly info: RerankerInfo,
  ) {
    if (!(model.nFeatures >= 1 && model.nFeatures <= N_RERANK_FEATURES)) {
      throw new RangeError(
        `Reranker: trees read ${model.nFeatures} features, this build computes ${N_RERANK_FEATURES}`,
      );
    }
    this.features = RERANK_FEATURES.slice(0, model.nFeatures);
    const gains = model.gainImportance();
    this.splitsOn = new Set(this.features.filter((_, f) => (gains[f] ?? 0) > 0));
    this.meanRate = meanOutcomeRate(snapshot);
    this.compiled = compileGbdt(model);
    this.depth = rerankDepth(info);
  }

  /**
   * The feature rows of the candidates, `this.features` wide (a view of a reused buffer: valid until the
   * next call).
   */
  rows(user: RerankUser, candidates: Int32Array, scores: ArrayLike<number>, now: number): Float64Array {
    const size = candidates.length * N_RERANK_FEATURES;
    if (this.buffer.length < size) this.buffer = new Float64Array(Math.max(size, 2 * this.buffer.length));
    const rows = this.buffer.subarray(0, size);
    rerankFeatures(this.snapshot, user, candidates, scores, now, this.meanRate, rows);
    const width = this.model.nFeatures;
    if (width === N_RERANK_FEATURES) return rows;
    // Older trees: each row's leading features, packed in place (row j's start never passes row j's own).
    for (let j = 0; j < candidates.length; j++) {
      rows.copyWithin(j * width, j * N_RERANK_FEATURES, j * N_RERANK_FEATURES + width);
    }
    return rows.subarray(0, candidates.length * width);
  }

  /** The re-ranker's score for each candidate (higher first); `scores` are the generator's. */
  score(user: RerankUser, candidates: Int32Array, scores: ArrayLike<number>, now: number): Float64Array {
    if (candidates.length === 0) return new Float64Array(0);
    const rows = this.rows(user, candidates, scores, now);
    if (this.compiled === null) return this.model.predictMargin(rows);
    const out = new Float64Array(candidates.length);
    this.compiled.predictMarginInto(rows, out);
    return out;
  }

  /**
   * Per-candidate TreeSHAP contributions: `n × (features + 1)`, the last column the bias, each row summing
   * to the candidate's score.
   */
  contributions(
    user: RerankUser,
    candidates: Int32Array,
    scores: ArrayLike<number>,
    now: number,
  ): { readonly rows: Float64Array; readonly contributions: Float64Array } {
    const rows = this.rows(user, candidates, scores, now).slice();
    return { rows, contributions: shapContributions(this.model, rows) };
  }

  /** The stored form: plain JSON, the trees' own versioned bytes and the snapshot arrays as base64. */
  toJson(): JsonValue {
    const s = this.snapshot;
    return {
      format: RERANKER_FORMAT,
      features: [...this.features],
      model: base64(encodeGbdtModel(this.model)),
      snapshot: {
        now: s.now,
        categories: [...s.categories],
        itemCount: base64(s.itemCount),
        itemCount7d: base64(s.itemCount7d),
        itemCount30d: base64(s.itemCount30d),
        itemLast: base64(s.itemLast),
        itemShown: base64(s.itemShown),
        itemOutcomes: base64(s.itemOutcomes),
        itemCategory: base64(s.itemCategory),
      },
      info: this.info as unknown as JsonValue,
    };
  }

  /** Reads `toJson`'s form back; `nItems` is the bundle's item count, which every snapshot array must match. */
  static fromJson(json: JsonValue, nItems: number): Reranker {
    const fail = (what: string): never => {
      throw new RangeError(`re-ranker: ${what}`);
    };
    const record = (value: JsonValue | undefined, what: string): { readonly [key: string]: JsonValue } =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as { readonly [key: string]: JsonValue })
        : fail(`${what} is not an object`);
    const root = record(json, 'the re-ranker');
    if (root['format'] !== RERANKER_FORMAT)
      fail(`format ${JSON.stringify(root['format'] ?? null)} is unknown`);
    const names = root['features'];
    if (
      !Array.isArray(names) ||
      names.length === 0 ||
      names.join(',') !== RERANK_FEATURES.slice(0, names.length).join(',')
    ) {
      fail('its features are not the ones this build computes');
    }
    const text = (value: JsonValue | undefined, what: string): string =>
      typeof value === 'string' ? value : fail(`${what} is missing`);
    const model = decodeGbdtModel(fromBase64(text(root['model'], 'the model')));
    if (model.nFeatures !== (names as JsonValue[]).length) fail('its trees do not read its features');
    const s = record(root['snapshot'], 'the snapshot');
    const f64 = (key: string): Float64Array => {
      const bytes = fromBase64(text(s[key], key));
      if (bytes.byteLength !== nItems * 8)
        fail(`${key} has ${bytes.byteLength / 8} items, the bundle ${nItems}`);
      return new Float64Array(bytes.buffer, bytes.byteOffset, nItems).slice();
    };
    const categoryBytes = fromBase64(text(s['itemCategory'], 'itemCategory'));
    if (categoryBytes.byteLength !== nItems * 4) fail('itemCategory does not match the bundle');
    const itemCategory = new Int32Array(categoryBytes.buffer, categoryBytes.byteOffset, nItems).slice();
    const categories = s['categories'];
    if (!Array.isArray(categories) || !categories.every((c) => typeof c === 'string')) fail('no categories');
    for (const c of itemCategory) if (c < -1 || c >= (categories as JsonValue[]).length) fail('bad category');
    const now = s['now'];
    if (typeof now !== 'number') fail('the snapshot has no time');
    const snapshot: ItemSnapshot = {
      now: now as number,
      itemCount: f64('itemCount'),
      itemCount7d: f64('itemCount7d'),
      itemCount30d: f64('itemCount30d'),
      itemLast: f64('itemLast'),
      itemShown: f64('itemShown'),
      itemOutcomes: f64('itemOutcomes'),
      itemCategory,
      categories: categories as string[],
    };
    return new Reranker(model, snapshot, record(root['info'], 'info') as unknown as RerankerInfo);
  }
}

/** The re-ranker's stored form inside a bundle; bump when its layout changes (older ones still read). */
const RERANKER_FORMAT = 1;

function base64(array: Float64Array | Int32Array | Uint8Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

/** Bytes in an 8-aligned buffer of their own, so typed views of any width can be taken. */
function fromBase64(text: string): Uint8Array {
  const decoded = Buffer.from(text, 'base64');
  const out = new Uint8Array(new ArrayBuffer(Math.ceil(decoded.length / 8) * 8), 0, decoded.length);
  out.set(decoded);
  return out;
}
