import { checkNodes, GBDT_FORMAT_VERSION, GbdtModel, type GbdtNodes } from './gbdt-model.js';
import { objectiveByName } from './gbdt-objective.js';

/**
 * The byte form of a `GbdtModel`, for storing beside a model version or handing between threads: a
 * fixed header, the objective's name, then every node array's raw little-endian bytes, each section
 * 8-byte aligned. Numbers are copied bit for bit (no decimal text), so a decoded model predicts
 * bit-identically, and decoding checks the structure as `GbdtModel.fromJSON` does.
 *
 * Header (little-endian): magic "AGBT", u32 format version, u32 nFeatures, u32 objective-name bytes,
 * f64 base score, u32 trees + 1, u32 nodes, u32 categorical splits + 1, u32 categorical words.
 */
const MAGIC = 0x54424741; // "AGBT" read as a little-endian u32
const HEADER_BYTES = 40;

const align8 = (n: number): number => (n + 7) & ~7;

if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) {
  // Typed arrays use the platform's byte order; every platform Node supports is little-endian.
  throw new Error('gbdt-codec: a big-endian platform is not supported');
}

type NodeArray = Int32Array | Float64Array | Uint8Array | Uint32Array;

/** The node arrays in their order in the byte form. */
function sections(nodes: GbdtNodes): NodeArray[] {
  return [
    nodes.treeStart,
    nodes.feature,
    nodes.threshold,
    nodes.defaultLeft,
    nodes.left,
    nodes.right,
    nodes.value,
    nodes.gain,
    nodes.cover,
    nodes.catSplit,
    nodes.catBoundaries,
    nodes.catBits,
  ];
}

export function encodeGbdtModel(model: GbdtModel): Uint8Array {
  const name = new TextEncoder().encode(model.objective.name);
  const parts = sections(model.nodes);
  let size = HEADER_BYTES + align8(name.length);
  for (const a of parts) size += align8(a.byteLength);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const { nodes } = model;
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, GBDT_FORMAT_VERSION, true);
  view.setUint32(8, model.nFeatures, true);
  view.setUint32(12, name.length, true);
  view.setFloat64(16, model.baseScore, true);
  view.setUint32(24, nodes.treeStart.length, true);
  view.setUint32(28, nodes.feature.length, true);
  view.setUint32(32, nodes.catBoundaries.length, true);
  view.setUint32(36, nodes.catBits.length, true);
  out.set(name, HEADER_BYTES);
  let at = HEADER_BYTES + align8(name.length);
  for (const a of parts) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += align8(a.byteLength);
  }
  return out;
}

export function decodeGbdtModel(bytes: Uint8Array): GbdtModel {
  const fail = (why: string): never => {
    throw new RangeError(`decodeGbdtModel: ${why}`);
  };
  if (bytes.byteLength < HEADER_BYTES) fail(`${bytes.byteLength} bytes is shorter than the header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail('not an attune GBDT model');
  const version = view.getUint32(4, true);
  if (version !== GBDT_FORMAT_VERSION) fail(`unsupported format version ${version}`);
  const nFeatures = view.getUint32(8, true);
  const nameBytes = view.getUint32(12, true);
  const baseScore = view.getFloat64(16, true);
  const trees = view.getUint32(24, true);
  const total = view.getUint32(28, true);
  const splits = view.getUint32(32, true);
  const words = view.getUint32(36, true);

  let at = HEADER_BYTES;
  // Each section is copied out (not viewed in place): the model must not change if the caller's
  // buffer does, and a copy has the alignment a typed-array view needs.
  const take = <T extends NodeArray>(count: number, make: (buffer: ArrayBuffer) => T, width: number): T => {
    const length = count * width;
    if (at + length > bytes.byteLength) fail('truncated');
    const copy = bytes.slice(at, at + length);
    at += align8(length);
    return make(copy.buffer);
  };
  const name = new TextDecoder().decode(take(nameBytes, (b) => new Uint8Array(b), 1));
  const i32 = (count: number): Int32Array => take(count, (b) => new Int32Array(b), 4);
  const f64 = (count: number): Float64Array => take(count, (b) => new Float64Array(b), 8);
  const nodes: GbdtNodes = {
    treeStart: i32(trees),
    feature: i32(total),
    threshold: f64(total),
    defaultLeft: take(total, (b) => new Uint8Array(b), 1),
    left: i32(total),
    right: i32(total),
    value: f64(total),
    gain: f64(total),
    cover: f64(total),
    catSplit: i32(total),
    catBoundaries: i32(splits),
    catBits: take(words, (b) => new Uint32Array(b), 4),
  };
  if (at !== align8(bytes.byteLength)) fail(`${bytes.byteLength - at} bytes after the model`);
  checkNodes(nodes, nFeatures, 'decodeGbdtModel');
  return new GbdtModel(objectiveByName(name), baseScore, nFeatures, nodes);
}
