import { describe, expect, it } from 'vitest';
import { alsModule } from './als-kernel.js';
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

  it('compiles the ALS kernels', () => {
    expect(alsModule()).toBeDefined();
  });
});
