/**
 * The learners' random stream: xoshiro128** rather than the project's mulberry32 (`models/random.ts`),
 * because a Thompson learner draws K × |A| normals per decision (2,000 at K = 100 and 20 actions), which
 * would run through mulberry32's 2³² period in under an hour at 1,000 decisions a second; xoshiro128**'s
 * is 2¹²⁸ − 1. The state is four words, readable and settable, so a persisted learner continues the very
 * stream it would have drawn.
 */
export class LearnerRandom {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Marsaglia's polar method yields normals in pairs; the second waits here. */
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    // splitmix32 spreads one seed over the four words, so neighbouring seeds give unrelated streams and
    // the all-zero state (xoshiro's one fixed point) is unreachable in practice.
    let x = Math.trunc(seed) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return z ^ (z >>> 16);
    };
    // Words are kept as int32 (`| 0`): a uint32 above 2³¹ would be stored as a heap double and slow
    // every draw several-fold.
    this.s0 = next() | 0;
    this.s1 = next() | 0;
    this.s2 = next() | 0;
    this.s3 = next() | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform in [0, 1), 32 bits. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    this.hasSpare = true;
    return u * f;
  }

  getState(): { state: number[]; spare: number | null } {
    return {
      state: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0],
      spare: this.hasSpare ? this.spare : null,
    };
  }

  setState(state: readonly number[], spare: number | null): void {
    if (state.length !== 4) throw new RangeError('random state needs four words');
    this.s0 = state[0]! | 0;
    this.s1 = state[1]! | 0;
    this.s2 = state[2]! | 0;
    this.s3 = state[3]! | 0;
    this.hasSpare = spare !== null;
    this.spare = spare ?? 0;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
