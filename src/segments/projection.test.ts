import { describe, expect, it } from 'vitest';
import { fitPca2, project, symmetricEigen } from './projection.js';

describe('fitPca2', () => {
  it('finds the axes and variance shares of a sample with known principal components', () => {
    // Centred on (10, −5): ±(3, 3) along the diagonal, ±(1, −1) across it. Variance along (1, 1)/√2 is
    // (18 + 18) / 3 = 12, across it (2 + 2) / 3 = 4/3: shares 0.9 and 0.1.
    const rows = Float64Array.from([13, -2, 7, -8, 11, -6, 9, -4]);
    const pca = fitPca2(rows, 4, 2);
    expect(Array.from(pca.mean)).toEqual([10, -5]);
    expect(pca.explained[0]).toBeCloseTo(0.9, 12);
    expect(pca.explained[1]).toBeCloseTo(0.1, 12);
    expect(pca.axes[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(pca.axes[1]).toBeCloseTo(Math.SQRT1_2, 12);
    // The second axis is (1, −1)/√2 up to its sign (its two coordinates tie in magnitude).
    expect(Math.abs(pca.axes[2]!)).toBeCloseTo(Math.SQRT1_2, 12);
    expect(pca.axes[3]).toBeCloseTo(-pca.axes[2]!, 12);
    const [x, y] = project(pca, [13, -2]);
    expect(x).toBeCloseTo(3 * Math.SQRT2, 12);
    expect(y).toBeCloseTo(0, 12);
    const [, across] = project(pca, [11, -6]);
    expect(Math.abs(across)).toBeCloseTo(Math.SQRT2, 12);
  });

  it('orders axes by variance and fixes each sign so its largest coordinate is positive', () => {
    // Spread 1 along x, 5 along −z, 2 along y: axes are −z (sign flipped to +z), then y.
    const rows = Float64Array.from([1, 0, 0, -1, 0, 0, 0, 2, 0, 0, -2, 0, 0, 0, -5, 0, 0, 5]);
    const pca = fitPca2(rows, 6, 3);
    expect(Array.from(pca.axes).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0, 0, 1, 0, 1, 0]);
    // Variances (÷ n − 1 = 5): x 2/5, y 8/5, z 50/5.
    expect(pca.explained[0]).toBeCloseTo(50 / 60, 12);
    expect(pca.explained[1]).toBeCloseTo(8 / 60, 12);
  });

  it('is zero, not NaN, for a sample without variance or with one column', () => {
    const flat = fitPca2(Float64Array.from([1, 2, 1, 2, 1, 2]), 3, 2);
    expect(flat.explained).toEqual([0, 0]);
    expect(project(flat, [1, 2])).toEqual([0, 0]);
    const single = fitPca2(Float64Array.from([1, 3]), 2, 1);
    expect(single.explained).toEqual([1, 0]);
    expect(project(single, [3])).toEqual([1, 0]);
  });

  it('refuses rows that do not hold n × d values', () => {
    expect(() => fitPca2(new Float64Array(5), 2, 3)).toThrow(RangeError);
  });
});

describe('symmetricEigen', () => {
  it('decomposes a symmetric matrix: A v = λ v with orthonormal v', () => {
    const d = 6;
    const m = new Float64Array(d * d);
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const v = next();
        m[i * d + j] = v;
        m[j * d + i] = v;
      }
    }
    const { values, vectors } = symmetricEigen(m, d);
    for (let k = 0; k < d; k++) {
      for (let i = 0; i < d; i++) {
        let av = 0;
        for (let j = 0; j < d; j++) av += m[i * d + j]! * vectors[j * d + k]!;
        expect(av).toBeCloseTo(values[k]! * vectors[i * d + k]!, 10);
      }
      for (let l = 0; l < d; l++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += vectors[i * d + k]! * vectors[i * d + l]!;
        expect(dot).toBeCloseTo(k === l ? 1 : 0, 10);
      }
    }
    // The trace is kept.
    let trace = 0;
    for (let i = 0; i < d; i++) trace += m[i * d + i]!;
    expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(trace, 10);
  });
});
