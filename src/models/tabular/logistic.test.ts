import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import {
  applyStandardization,
  calibrationTable,
  fitLogistic,
  predictLogistic,
  sigmoid,
  standardize,
} from './logistic.js';

/** Standard normal draws by Box–Muller. */
function normals(seed: number): () => number {
  const random = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** The objective's gradient computed independently of the fit: C·Xᵀ(p − y) + (w, 0). */
function gradientAt(
  x: readonly number[][],
  y: readonly number[],
  w: readonly number[],
  b: number,
  c: number,
) {
  const g = [...w, 0];
  for (const [i, row] of x.entries()) {
    const residual = c * (sigmoid(row.reduce((s, v, j) => s + v * w[j]!, b)) - y[i]!);
    for (const [j, v] of row.entries()) g[j]! += residual * v;
    g[row.length]! += residual;
  }
  return g;
}

describe('fitLogistic', () => {
  it('finds the optimum of a separable 1-D case derived by hand', () => {
    // x = −1 labelled 0, x = +1 labelled 1. By symmetry b = 0, and the gradient in w vanishes where
    // −2C·σ(−w) + w = 0, i.e. w = 2C·σ(−w): solved here by bisection, independently of the fit.
    for (const c of [0.1, 1, 10]) {
      let low = 0;
      let high = 2 * c;
      for (let k = 0; k < 200; k++) {
        const mid = (low + high) / 2;
        if (mid < 2 * c * sigmoid(-mid)) low = mid;
        else high = mid;
      }
      const fit = fitLogistic(new Float64Array([-1, 1]), [0, 1], 1, { c, tolerance: 1e-13 });
      expect(fit.converged).toBe(true);
      expect(fit.weights[0]).toBeCloseTo(low, 9);
      expect(fit.intercept).toBeCloseTo(0, 9);
    }
    // C = 1 gives w ≈ 0.67483: bounded although the data are separable.
    expect(fitLogistic(new Float64Array([-1, 1]), [0, 1], 1).weights[0]).toBeCloseTo(0.67483, 5);
  });

  it('stops where the gradient is zero on an asymmetric overlapping case', () => {
    const x = [
      [0.5, 1],
      [1.5, -1],
      [2, 0],
      [-1, 2],
      [0, 0],
      [3, 1],
    ];
    const y = [0, 1, 1, 0, 1, 0];
    const fit = fitLogistic(new Float64Array(x.flat()), y, 2, { c: 2, tolerance: 1e-13 });
    expect(fit.converged).toBe(true);
    const gradient = gradientAt(x, y, [...fit.weights], fit.intercept, 2);
    for (const g of gradient) expect(Math.abs(g)).toBeLessThan(1e-8);
    expect(fit.intercept).not.toBeCloseTo(0, 2);
  });

  it('recovers planted coefficients from a large sample', () => {
    const planted = [1, -2, 0.5, 0, 1.5];
    const plantedIntercept = -0.5;
    const rows = 40_000;
    const cols = planted.length;
    const normal = normals(3);
    const uniform = mulberry32(4);
    const x = new Float64Array(rows * cols);
    const y = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      let z = plantedIntercept;
      for (let j = 0; j < cols; j++) {
        x[i * cols + j] = normal();
        z += x[i * cols + j]! * planted[j]!;
      }
      y[i] = uniform() < sigmoid(z) ? 1 : 0;
    }
    // A large C: the penalty is negligible next to 40,000 rows, so this is maximum likelihood.
    const fit = fitLogistic(x, y, cols, { c: 100 });
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThan(15);
    for (const [j, w] of planted.entries()) expect(Math.abs(fit.weights[j]! - w)).toBeLessThan(0.06);
    expect(Math.abs(fit.intercept - plantedIntercept)).toBeLessThan(0.05);

    const probabilities = predictLogistic(fit, x);
    expect(probabilities.length).toBe(rows);
    for (const p of probabilities) expect(p > 0 && p < 1).toBe(true);
    // Well specified, so calibrated: every decile's predicted and observed rates agree.
    const table = calibrationTable(probabilities, y);
    expect(table).toHaveLength(10);
    for (const bin of table) {
      expect(bin.count).toBe(4_000);
      expect(Math.abs(bin.meanPredicted - bin.observedRate)).toBeLessThan(0.03);
    }
  });

  it('converges to a bounded fit on perfectly separable data', () => {
    const random = mulberry32(9);
    const rows = 500;
    const x = new Float64Array(rows * 2);
    const y = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      x[i * 2] = random() * 4 - 2;
      x[i * 2 + 1] = random() * 4 - 2;
      // Labelled by a line with a margin: no row within 0.1 of it.
      const side = x[i * 2]! + x[i * 2 + 1]!;
      if (Math.abs(side) < 0.1) x[i * 2] = x[i * 2]! + (side >= 0 ? 0.2 : -0.2);
      y[i] = x[i * 2]! + x[i * 2 + 1]! > 0 ? 1 : 0;
    }
    const fit = fitLogistic(x, y, 2, { c: 1 });
    expect(fit.converged).toBe(true);
    const norm = Math.hypot(fit.weights[0]!, fit.weights[1]!);
    expect(Number.isFinite(norm)).toBe(true);
    expect(norm).toBeLessThan(100);
    // The fit still separates, along the planted direction.
    expect(fit.weights[0]! / fit.weights[1]!).toBeCloseTo(1, 1);
    for (const [i, p] of predictLogistic(fit, x).entries()) {
      expect(p > 0 && p < 1).toBe(true);
      expect(p > 0.5).toBe(y[i] === 1);
    }
  });

  it('converges tightly with collinear columns, as one-hot dummies are', () => {
    // A column repeated three times, and a dummy pair summing to 1 (collinear with the intercept): only
    // the penalty makes the Hessian invertible, and its last Newton steps promise less than rounding.
    const random = mulberry32(11);
    const normal = normals(12);
    const rows = 3_000;
    const x = new Float64Array(rows * 5);
    const y = new Uint8Array(rows);
    for (let i = 0; i < rows; i++) {
      const a = normal();
      const dummy = random() < 0.4 ? 1 : 0;
      x.set([a, a, a, dummy, 1 - dummy], i * 5);
      y[i] = random() < sigmoid(a - dummy) ? 1 : 0;
    }
    const fit = fitLogistic(x, y, 5, { tolerance: 1e-14 });
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThan(20);
    // Equal columns share their weight equally; the dummy pair is antisymmetric about the intercept.
    expect(fit.weights[0]).toBeCloseTo(fit.weights[2]!, 8);
    expect(fit.weights[3]! + fit.weights[4]!).toBeCloseTo(0, 8);
  });

  it('refuses labels of one class and mismatched shapes', () => {
    expect(() => fitLogistic(new Float64Array([1, 2]), [1, 1], 1)).toThrow(/both classes/);
    expect(() => fitLogistic(new Float64Array([1, 2, 3]), [0, 1], 1)).toThrow(/2 rows/);
    expect(() => fitLogistic(new Float64Array([1, 2]), [0, 2], 1)).toThrow(/label 1/);
  });
});

describe('standardize', () => {
  it('uses the population standard deviation and leaves other columns alone', () => {
    // Column 0: 1, 2, 3, 4 → mean 2.5, population sd √1.25. Column 1 is one-hot, not chosen.
    const x = new Float64Array([1, 0, 2, 1, 3, 0, 4, 1]);
    const scaling = standardize(x, 4, 2, [0]);
    expect(scaling.mean[0]).toBe(2.5);
    expect(scaling.scale[0]).toBeCloseTo(Math.sqrt(1.25), 14);
    expect([...scaling.mean.slice(1), ...scaling.scale.slice(1)]).toEqual([0, 1]);
    const scaled = applyStandardization(x, scaling);
    expect(scaled[0]).toBeCloseTo(-1.5 / Math.sqrt(1.25), 14);
    expect(scaled[1]).toBe(0);
    expect(scaled[3]).toBe(1);
  });

  it('gives a constant column scale 1', () => {
    const scaling = standardize(new Float64Array([5, 5, 5]), 3, 1);
    expect(scaling.scale[0]).toBe(1);
    expect([...applyStandardization(new Float64Array([5, 6]), scaling)]).toEqual([0, 1]);
  });
});

describe('calibrationTable', () => {
  it('cuts sorted rows into bins of equal size', () => {
    const table = calibrationTable([0.9, 0.1, 0.2, 0.8], [1, 0, 1, 1], 2);
    expect(table).toEqual([
      { count: 2, meanPredicted: 0.15000000000000002, observedRate: 0.5 },
      { count: 2, meanPredicted: 0.8500000000000001, observedRate: 1 },
    ]);
    expect(calibrationTable([0.5], [1], 10)).toHaveLength(1);
  });
});
