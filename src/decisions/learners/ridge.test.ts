import { describe, expect, it } from 'vitest';
import { LearnerRandom } from './random.js';
import { RidgeSet } from './ridge.js';

/** Gauss–Jordan inverse with partial pivoting: the reference the rank-1 updates must agree with. */
function inverse(matrix: Float64Array, d: number): Float64Array {
  const m = Float64Array.from(matrix);
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) inv[i * d + i] = 1;
  for (let c = 0; c < d; c++) {
    let pivot = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r * d + c]!) > Math.abs(m[pivot * d + c]!)) pivot = r;
    for (let k = 0; k < d; k++) {
      [m[c * d + k], m[pivot * d + k]] = [m[pivot * d + k]!, m[c * d + k]!];
      [inv[c * d + k], inv[pivot * d + k]] = [inv[pivot * d + k]!, inv[c * d + k]!];
    }
    const p = m[c * d + c]!;
    for (let k = 0; k < d; k++) {
      m[c * d + k] = m[c * d + k]! / p;
      inv[c * d + k] = inv[c * d + k]! / p;
    }
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = m[r * d + c]!;
      for (let k = 0; k < d; k++) {
        m[r * d + k] = m[r * d + k]! - f * m[c * d + k]!;
        inv[r * d + k] = inv[r * d + k]! - f * inv[c * d + k]!;
      }
    }
  }
  return inv;
}

function block(values: Float64Array, m: number, size: number): Float64Array {
  return values.subarray(m * size, (m + 1) * size);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** Feeds `n` random (x, r) into model `m`, returning the direct A and b they imply. */
function feed(set: RidgeSet, m: number, n: number, seed: number): { a: Float64Array; b: Float64Array } {
  const d = set.dimension;
  const random = new LearnerRandom(seed);
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let i = 0; i < d; i++) a[i * d + i] = set.ridge;
  const x = new Float64Array(d);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < d; i++) x[i] = random.normal();
    const r = random.normal();
    set.update(m, x, 0, r);
    for (let i = 0; i < d; i++) {
      b[i] = b[i]! + r * x[i]!;
      for (let j = 0; j < d; j++) a[i * d + j] = a[i * d + j]! + x[i]! * x[j]!;
    }
  }
  return { a, b };
}

describe('RidgeSet', () => {
  it('keeps A⁻¹ by Sherman–Morrison equal to the direct inverse, and θ̂ = A⁻¹b', () => {
    const d = 6;
    const set = new RidgeSet(3, d, 0.5, 0, false);
    const { a, b } = feed(set, 1, 40, 7);
    expect(maxAbsDiff(block(set.a, 1, d * d), a)).toBeLessThan(1e-12);
    const direct = inverse(a, d);
    expect(maxAbsDiff(block(set.ainv, 1, d * d), direct)).toBeLessThan(1e-12);
    const theta = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) theta[i] = theta[i]! + direct[i * d + j]! * b[j]!;
    expect(maxAbsDiff(block(set.theta, 1, d), theta)).toBeLessThan(1e-12);
    // The other models are untouched: still the prior.
    expect(block(set.ainv, 0, d * d)[0]).toBe(2);
    expect(block(set.theta, 2, d).every((v) => v === 0)).toBe(true);
    expect(Array.from(set.counts)).toEqual([0, 40, 0]);
  });

  it('keeps A⁻¹ exactly symmetric', () => {
    const d = 5;
    const set = new RidgeSet(1, d, 1, 0, false);
    feed(set, 0, 25, 3);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) expect(set.ainv[i * d + j]).toBe(set.ainv[j * d + i]);
  });

  it('refreshes A⁻¹ from A by Cholesky every `refreshEvery` updates, matching the direct inverse', () => {
    const d = 4;
    const set = new RidgeSet(1, d, 1, 10, false);
    const { a } = feed(set, 0, 30, 11);
    expect(maxAbsDiff(set.ainv, inverse(a, d))).toBeLessThan(1e-12);
    const unrefreshed = new RidgeSet(1, d, 1, 0, false);
    feed(unrefreshed, 0, 30, 11);
    expect(maxAbsDiff(set.ainv, unrefreshed.ainv)).toBeLessThan(1e-12);
  });

  it('computes xᵀA⁻¹x from one triangle as the full product does', () => {
    const d = 5;
    const set = new RidgeSet(1, d, 1, 0, false);
    feed(set, 0, 12, 5);
    const x = Float64Array.from([0.3, -1, 2, 0.5, -0.25]);
    let full = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) full += x[i]! * set.ainv[i * d + j]! * x[j]!;
    expect(set.variance(0, x, 0)).toBeCloseTo(full, 12);
  });

  it('keeps the Cholesky factor of A current under rank-1 updates', () => {
    const d = 5;
    const set = new RidgeSet(2, d, 2, 0, true);
    const { a } = feed(set, 1, 20, 9);
    const l = block(set.factor!, 1, d * d);
    const product = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let sum = 0;
        for (let k = 0; k < d; k++) sum += l[i * d + k]! * l[j * d + k]!;
        product[i * d + j] = sum;
      }
      for (let j = i + 1; j < d; j++) expect(l[i * d + j]).toBe(0);
    }
    expect(maxAbsDiff(product, a)).toBeLessThan(1e-10);
  });

  it('stays accurate over many updates', () => {
    const d = 8;
    const set = new RidgeSet(1, d, 1, 1_000, false);
    const { a } = feed(set, 0, 5_000, 13);
    const direct = inverse(a, d);
    // Relative to the largest entry of A⁻¹, which shrinks like 1/n.
    const scale = Math.max(...Array.from(direct, Math.abs));
    expect(maxAbsDiff(set.ainv, direct) / scale).toBeLessThan(1e-9);
  });
});
