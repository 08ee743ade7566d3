import type { JsonValue } from '../shared/types.js';
import { AlsRecommender } from './als.js';
import { BlendRecommender } from './blend.js';
import { EaseRecommender } from './ease.js';
import { HybridRecommender } from './hybrid.js';
import { ItemKnnRecommender } from './itemknn.js';
import { PopularityRecommender } from './popularity.js';
import { Rp3betaRecommender } from './rp3beta.js';
import type { ModelArtifact, ModelName, NumericArray, Recommender } from './types.js';
import { recencyOf, withRecency } from './recency.js';

/**
 * One binary holding several model artifacts plus a caller's JSON header (id maps, training info):
 *
 *   bytes 0..3   magic "ATNM"
 *   bytes 4..7   format version (u32, little-endian)
 *   bytes 8..11  JSON length n (u32)
 *   bytes 12..   JSON: { header, models: [{ name, params, nUsers, nItems, arrays: [ArrayEntry] }] }
 *   then         array sections, each starting at a multiple of 8 bytes from the start
 *
 * Arrays are raw little-endian typed-array bytes, so decoding makes views into the input instead of
 * parsing or copying (one copy at most, when the input itself is not 8-byte aligned).
 */
const MAGIC = [0x41, 0x54, 0x4e, 0x4d]; // 'ATNM'
const VERSION = 1;
const PREFIX = 12;

type ArrayType = 'f32' | 'f64' | 'i32';

interface ArrayEntry {
  readonly key: string;
  readonly type: ArrayType;
  /** Byte offset from the start of the encoded bytes. */
  readonly offset: number;
  /** Element count. */
  readonly length: number;
}

interface ModelEntry {
  readonly name: ModelName;
  readonly params: JsonValue;
  readonly nUsers: number;
  readonly nItems: number;
  readonly arrays: readonly ArrayEntry[];
}

interface Directory {
  readonly header: JsonValue;
  readonly models: readonly ModelEntry[];
}

export interface DecodedArtifacts {
  readonly artifacts: ModelArtifact[];
  readonly header: JsonValue;
}

export class ArtifactFormatError extends Error {
  override readonly name = 'ArtifactFormatError';
}

const MODEL_NAMES: readonly ModelName[] = [
  'popularity',
  'itemknn',
  'als',
  'hybrid',
  'blend',
  'ease',
  'rp3beta',
];

function typeOf(a: NumericArray): ArrayType {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int32Array) return 'i32';
  throw new TypeError('artifact arrays must be Float32Array, Float64Array or Int32Array');
}

function assertLittleEndian(): void {
  // Sections are raw platform-order bytes; every platform Node supports in practice is little-endian.
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
    throw new ArtifactFormatError('model artifacts are little-endian; this platform is not');
  }
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Packs artifacts and a JSON header into one byte array (each array is copied exactly once). */
export function encodeArtifacts(artifacts: readonly ModelArtifact[], header: JsonValue = null): Uint8Array {
  assertLittleEndian();
  // Offsets depend on the JSON length and the JSON holds the offsets: lay sections out relative to the
  // data start first, then shift them once the final JSON length is known.
  const relative: {
    name: ModelName;
    params: JsonValue;
    nUsers: number;
    nItems: number;
    arrays: ArrayEntry[];
  }[] = [];
  const sources: NumericArray[] = [];
  let dataBytes = 0;
  for (const artifact of artifacts) {
    const arrays: ArrayEntry[] = [];
    for (const [key, array] of Object.entries(artifact.arrays)) {
      arrays.push({ key, type: typeOf(array), offset: dataBytes, length: array.length });
      sources.push(array);
      dataBytes = align8(dataBytes + array.byteLength);
    }
    relative.push({
      name: artifact.name,
      params: artifact.params,
      nUsers: artifact.nUsers,
      nItems: artifact.nItems,
      arrays,
    });
  }
  const encoder = new TextEncoder();
  let dataStart = 0;
  let json = new Uint8Array(0);
  // Two passes settle it: shifting offsets can only lengthen the JSON by a few digits per entry.
  for (let pass = 0; pass < 4; pass++) {
    const start = dataStart;
    const directory: Directory = {
      header,
      models: relative.map((m) => ({
        ...m,
        arrays: m.arrays.map((a) => ({ ...a, offset: a.offset + start })),
      })),
    };
    json = encoder.encode(JSON.stringify(directory));
    const needed = align8(PREFIX + json.length);
    if (needed === dataStart) break;
    dataStart = needed;
  }
  const out = new Uint8Array(dataStart + dataBytes);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, PREFIX);
  let k = 0;
  for (const model of relative) {
    for (const entry of model.arrays) {
      const src = sources[k++]!;
      out.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), dataStart + entry.offset);
    }
  }
  return out;
}

/**
 * Reads what `encodeArtifacts` wrote. The arrays are views into `bytes` (or into one aligned copy of it),
 * so `bytes` must not be modified afterwards.
 */
export function decodeArtifacts(bytes: Uint8Array): DecodedArtifacts {
  assertLittleEndian();
  if (bytes.length < PREFIX || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ArtifactFormatError('not an Attune model artifact (bad magic)');
  }
  // Typed-array views need their element alignment; 8 covers all three types.
  const data = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = view.getUint32(4, true);
  if (version !== VERSION) throw new ArtifactFormatError(`unsupported artifact version ${version}`);
  const jsonLength = view.getUint32(8, true);
  if (PREFIX + jsonLength > data.length) throw new ArtifactFormatError('truncated artifact header');
  let directory: Directory;
  try {
    directory = JSON.parse(new TextDecoder().decode(data.subarray(PREFIX, PREFIX + jsonLength))) as Directory;
  } catch (error) {
    throw new ArtifactFormatError(`artifact header is not JSON: ${(error as Error).message}`);
  }
  if (!directory || !Array.isArray(directory.models))
    throw new ArtifactFormatError('artifact header has no models');
  const artifacts = directory.models.map((model) => {
    if (!MODEL_NAMES.includes(model.name))
      throw new ArtifactFormatError(`unknown model '${String(model.name)}'`);
    const arrays: Record<string, NumericArray> = {};
    for (const entry of model.arrays) arrays[entry.key] = sectionView(data, entry);
    const artifact: ModelArtifact = {
      name: model.name,
      params: model.params,
      nUsers: model.nUsers,
      nItems: model.nItems,
      arrays,
    };
    return artifact;
  });
  return { artifacts, header: directory.header ?? null };
}

function sectionView(data: Uint8Array, entry: ArrayEntry): NumericArray {
  const size = entry.type === 'f64' ? 8 : 4;
  const { offset, length } = entry;
  if (
    !Number.isInteger(offset) ||
    !Number.isInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset % size !== 0
  ) {
    throw new ArtifactFormatError(`bad section for '${entry.key}'`);
  }
  if (offset + length * size > data.length)
    throw new ArtifactFormatError(`section '${entry.key}' is truncated`);
  const at = data.byteOffset + offset;
  if (entry.type === 'f32') return new Float32Array(data.buffer, at, length);
  if (entry.type === 'f64') return new Float64Array(data.buffer, at, length);
  if (entry.type === 'i32') return new Int32Array(data.buffer, at, length);
  throw new ArtifactFormatError(`unknown array type '${String(entry.type)}'`);
}

/** Turns an artifact back into a serving model. */
export function loadRecommender(artifact: ModelArtifact): Recommender {
  const model = loadUnweighted(artifact);
  return artifact.name === 'blend' ? model : withRecency(model, recencyOf(artifact.params));
}

function loadUnweighted(artifact: ModelArtifact): Recommender {
  switch (artifact.name) {
    case 'popularity':
      return PopularityRecommender.fromArtifact(artifact);
    case 'itemknn':
      return ItemKnnRecommender.fromArtifact(artifact);
    case 'als':
      return AlsRecommender.fromArtifact(artifact);
    case 'hybrid':
      return HybridRecommender.fromArtifact(artifact);
    case 'ease':
      return EaseRecommender.fromArtifact(artifact);
    case 'rp3beta':
      return Rp3betaRecommender.fromArtifact(artifact);
    case 'blend':
      return BlendRecommender.fromArtifact(artifact, loadRecommender);
    default:
      throw new ArtifactFormatError(`unknown model '${String((artifact as { name: unknown }).name)}'`);
  }
}
