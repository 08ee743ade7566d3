import { describe, expect, it } from 'vitest';
import { DenseScorer } from './dense-scores.js';
import { mulberry32 } from './random.js';

describe('DenseScorer', () => {
  it('matches a double-precision dot product for every item, whatever the factor count', () => {
    const random = mulberry32(5);
    for (const f of [1, 7, 16, 17, 64, 100]) {
      for (const nItems of [1, 33, 1000]) {
        const vectors = Float32Array.from({ length: nItems * f }, () => random() * 2 - 1);
        const x = Float64Array.from({ length: f }, () => random() * 2 - 1);
        const out = new Float32Array(nItems);
        new DenseScorer(vectors, nItems, f).score(x, out);
        for (let i = 0; i < nItems; i++) {
          let expected = 0;
          for (let a = 0; a < f; a++) expected += vectors[i * f + a]! * x[a]!;
          expect(Math.abs(out[i]! - expected)).toBeLessThan(1e-5 * Math.max(1, Math.sqrt(f)));
        }
      }
    }
  });

  it('scores each call from that call’s vector alone', () => {
    const vectors = Float32Array.from([1, 0, 0, 1, 2, 3]); // three items, two factors
    const scorer = new DenseScorer(vectors, 3, 2);
    const out = new Float32Array(3);
    scorer.score([1, 0], out);
    expect(Array.from(out)).toEqual([1, 0, 2]);
    scorer.score([0, -1], out);
    expect(Array.from(out, (v) => v + 0)).toEqual([0, -1, -3]);
  });

  it('refuses vectors that are not nItems rows of f', () => {
    expect(() => new DenseScorer(new Float32Array(5), 2, 3)).toThrow(/5 floats are not 2 rows of 3/);
  });
});
