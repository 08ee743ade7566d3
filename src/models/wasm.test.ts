import { describe, expect, it } from 'vitest';
import { instantiateAls } from './als-kernel.js';
import { FunctionBuilder, Wasm, assembleModule, op, sleb, uleb } from './wasm.js';

describe('wasm assembler', () => {
  it('encodes LEB128 integers', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([127]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([63]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('assembles a module that runs, with SIMD and shared memory', () => {
    // sum4(p) = horizontal sum of the four floats at p, via f32x4 lanes.
    const f = new FunctionBuilder('sum4', ['i32'], ['f32']);
    const v = f.local('v128');
    f.emit(op.get(0), op.v128Load(0), op.set(v));
    f.emit(op.get(v), op.f32x4Lane(0), op.get(v), op.f32x4Lane(1), op.f32Add);
    f.emit(op.get(v), op.f32x4Lane(2), op.get(v), op.f32x4Lane(3), op.f32Add, op.f32Add);
    const memory = new Wasm.Memory({ initial: 1, maximum: 1, shared: true });
    const instance = new Wasm.Instance(new Wasm.Module(assembleModule([f], 1)), { env: { memory } });
    new Float32Array(memory.buffer, 16, 4).set([1, 2, 3, 4.5]);
    const sum4 = instance.exports['sum4'] as (p: number) => number;
    expect(sum4(16)).toBe(10.5);
  });

  it('compiles the ALS kernels, which compute what they are documented to', () => {
    const memory = new Wasm.Memory({ initial: 1, maximum: 1, shared: true });
    const kernels = instantiateAls(memory);
    expect(Object.keys(kernels)).toEqual([
      'dot',
      'axpy',
      'xpby',
      'copy',
      'dot4',
      'axpy4',
      'gemv',
      'gram',
      'cgRows',
      'scoreAll',
      'rowSums',
      'scatterRows',
    ]);
    // Six rows of 7 factors padded to 16 floats (64 bytes): gram's blocks of four rows and its
    // one-at-a-time tail both run. Small integers, so every float sum below is exact.
    const stride = 64;
    const fp = stride / 4;
    const rows = 6;
    const factors = 7;
    const y = new Float32Array(memory.buffer, 0, rows * fp);
    for (let i = 0; i < rows; i++)
      for (let a = 0; a < factors; a++) y[i * fp + a] = ((i * 3 + a * 5) % 7) - 3;
    const gOffset = rows * stride;
    const g = new Float32Array(memory.buffer, gOffset, fp * fp);
    // gram adds to g: start from the identity.
    for (let a = 0; a < fp; a++) g[a * fp + a] = 1;
    kernels.gram(0, rows, stride, gOffset);
    const expected = new Float32Array(fp * fp);
    for (let a = 0; a < fp; a++) {
      expected[a * fp + a] = 1;
      for (let b = 0; b < fp; b++)
        for (let i = 0; i < rows; i++) expected[a * fp + b]! += y[i * fp + a]! * y[i * fp + b]!;
    }
    expect(Array.from(g)).toEqual(Array.from(expected));
    // dot of rows 1 and 4.
    let dot = 0;
    for (let a = 0; a < factors; a++) dot += y[fp + a]! * y[4 * fp + a]!;
    expect(kernels.dot(stride, 4 * stride, stride)).toBe(dot);
  });
});
