/**
 * A minimal WebAssembly module assembler: just enough of the binary format to emit our numeric kernels
 * (i32/f32 scalars, 128-bit SIMD, one imported memory). Kernels are written as instruction sequences in
 * TypeScript, so no toolchain, no binary blobs in the repo and no dependency; V8 compiles them on load.
 *
 * Why WebAssembly at all: V8 runs plain typed-array loops one scalar at a time with a bounds check per
 * access; the ALS conjugate-gradient kernel is ~2 G multiply-adds on MovieLens 100K and only SIMD (four
 * f32 lanes per instruction, no per-access checks) brings it within reach of the C++ reference.
 */

export type ValType = 'i32' | 'f32' | 'v128';

const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  while (true) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  return [...uleb(bytes.length), ...bytes];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** SIMD instructions share the 0xfd prefix followed by a LEB-encoded opcode. */
function simd(opcode: number): number[] {
  return [0xfd, ...uleb(opcode)];
}

/** Instruction encoders. Memory accesses take a static byte offset; alignment hints are natural. */
export const op = {
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  tee: (i: number): number[] => [0x22, ...uleb(i)],
  i32: (v: number): number[] => [0x41, ...sleb(v)],
  f32: (v: number): number[] => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  call: (fn: number): number[] => [0x10, ...uleb(fn)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  ret: [0x0f],
  drop: [0x1a],
  i32Load: (offset = 0): number[] => [0x28, 2, ...uleb(offset)],
  f32Load: (offset = 0): number[] => [0x2a, 2, ...uleb(offset)],
  f32Store: (offset = 0): number[] => [0x38, 2, ...uleb(offset)],
  i32Eqz: [0x45],
  i32LtS: [0x48],
  i32GeS: [0x4e],
  i32GtS: [0x4a],
  i32GtU: [0x4b],
  i32GeU: [0x4f],
  f32Lt: [0x5d],
  f32Ge: [0x60],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  f32Neg: [0x8c],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Div: [0x95],
  v128Load: (offset = 0): number[] => [...simd(0x00), 4, ...uleb(offset)],
  v128Store: (offset = 0): number[] => [...simd(0x0b), 4, ...uleb(offset)],
  v128Zero: [...simd(0x0c), ...new Array<number>(16).fill(0)],
  f32x4Splat: simd(0x13),
  f32x4Lane: (lane: number): number[] => [...simd(0x1f), lane],
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
};

/** One function under construction: parameters and locals are numbered in declaration order. */
export class FunctionBuilder {
  private readonly localTypes: ValType[] = [];
  private readonly body: number[] = [];

  constructor(
    readonly name: string,
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
  ) {}

  /** Parameter `i`'s local index (parameters come first). */
  param(i: number): number {
    if (i < 0 || i >= this.params.length) throw new RangeError(`${this.name}: no parameter ${i}`);
    return i;
  }

  /** Declares a local (zero-initialised by WebAssembly) and returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  emit(...code: (number[] | number)[]): this {
    for (const c of code) {
      if (typeof c === 'number') this.body.push(c);
      else for (const b of c) this.body.push(b);
    }
    return this;
  }

  /**
   * `for (i = from; i < to; i += step) body()` over i32 locals. Inside `body`, `br(1)` leaves the loop
   * and `br(0)` would skip the increment, so bodies use blocks of their own for early exits.
   */
  forRange(i: number, from: number[], to: number, step: number, body: () => void): this {
    this.emit(from, op.set(i), op.block, op.loop);
    this.emit(op.get(i), op.get(to), op.i32GeS, op.brIf(1));
    body();
    this.emit(op.get(i), op.i32(step), op.i32Add, op.set(i), op.br(0), op.end, op.end);
    return this;
  }

  typeBytes(): number[] {
    return [
      0x60,
      ...vec(this.params.map((t) => [VALTYPE[t]])),
      ...vec(this.results.map((t) => [VALTYPE[t]])),
    ];
  }

  codeBytes(): number[] {
    // Locals are declared as runs of equal types.
    const runs: number[][] = [];
    let k = 0;
    while (k < this.localTypes.length) {
      const t = this.localTypes[k]!;
      let n = 0;
      while (k < this.localTypes.length && this.localTypes[k] === t) {
        n++;
        k++;
      }
      runs.push([...uleb(n), VALTYPE[t]]);
    }
    const body = [...vec(runs), ...this.body, ...op.end];
    return [...uleb(body.length), ...body];
  }
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

/**
 * A module importing one shared memory as `env.memory` (shared so worker threads can run the same kernels
 * over the same arrays) and exporting every function by name. Functions call each other by their position
 * in `functions`.
 */
export function assembleModule(functions: readonly FunctionBuilder[], maxPages: number): Uint8Array {
  const types = section(1, vec(functions.map((f) => f.typeBytes())));
  const memoryImport = [...utf8('env'), ...utf8('memory'), 0x02, 0x03, ...uleb(1), ...uleb(maxPages)];
  const imports = section(2, vec([memoryImport]));
  const funcs = section(3, vec(functions.map((_, i) => uleb(i))));
  const exports = section(7, vec(functions.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)])));
  const code = section(10, vec(functions.map((f) => f.codeBytes())));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...types,
    ...imports,
    ...funcs,
    ...exports,
    ...code,
  ]);
}

/** Bytes per WebAssembly memory page. */
export const WASM_PAGE = 65536;
/** The most a 32-bit memory can address (V8's limit for wasm32 in Node 20). */
export const WASM_MAX_PAGES = 65536;

/**
 * The slice of the WebAssembly JS API the kernels use. Our TypeScript libs (ES2023 + Node types) do not
 * declare the `WebAssembly` global, so it is typed here rather than by adding a DOM lib to the project.
 */
export interface WasmMemory {
  /** Shared memories expose a SharedArrayBuffer, which worker threads see without copying. */
  readonly buffer: SharedArrayBuffer;
}
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}
interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}
interface WasmNamespace {
  readonly Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => WasmModule;
  readonly Instance: new (
    module: WasmModule,
    imports: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
  ) => WasmInstance;
}
export const Wasm = (globalThis as unknown as { readonly WebAssembly: WasmNamespace }).WebAssembly;
