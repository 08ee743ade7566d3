import { describe, expect, it } from 'vitest';
import { LearnerRandom } from './random.js';

describe('LearnerRandom', () => {
  it('is reproducible from a seed, and different seeds give different streams', () => {
    const a = new LearnerRandom(42);
    const b = new LearnerRandom(42);
    const c = new LearnerRandom(43);
    const first = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(first);
    for (const u of first) expect(u >= 0 && u < 1).toBe(true);
  });

  it('continues the same stream after its state is read and restored, pending normal included', () => {
    const a = new LearnerRandom(7);
    a.normal(); // leaves a spare
    const { state, spare } = a.getState();
    expect(spare).not.toBeNull();
    const b = new LearnerRandom(0);
    b.setState(state, spare);
    expect(Array.from({ length: 6 }, () => b.normal())).toEqual(Array.from({ length: 6 }, () => a.normal()));
  });

  it('draws standard normals', () => {
    const random = new LearnerRandom(1);
    const n = 50_000;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const z = random.normal();
      sum += z;
      squares += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(squares / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });
});
