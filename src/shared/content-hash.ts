/*
 * Content fingerprints: the same content gives the same value in every process, whatever order it was
 * built in, so instances that never talked can agree that they hold the same catalog or the same user
 * history (a key into a shared cache) without a counter they would have to keep in step. 64 bits: two
 * 32-bit lanes of a multiply–xorshift mix; accidental collisions are negligible, and the fingerprints only
 * key caches of lists that are re-checked (every item still recommendable) and expire anyway.
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** An ordered fingerprint: values added in another order give another result. */
export class Fingerprint {
  #a = 0x9747b28c;
  #b = 0x1b873593;

  word(value: number): this {
    this.#a = Math.imul(this.#a ^ (value >>> 0), 0xcc9e2d51);
    this.#a = (this.#a << 15) | (this.#a >>> 17);
    this.#b = Math.imul(this.#b ^ (value >>> 0), 0x1b873593);
    this.#b = (this.#b << 13) | (this.#b >>> 19);
    this.#b = (Math.imul(this.#b, 5) + 0xe6546b64) | 0;
    return this;
  }

  /** Any number, by its 64 bits (so 0.1 + 0.2 and 0.3 differ, as they do in a score). */
  number(value: number): this {
    f64[0] = value;
    return this.word(u32[0]!).word(u32[1]!);
  }

  text(value: string): this {
    this.word(value.length);
    for (let i = 0; i < value.length; i++) this.word(value.charCodeAt(i));
    return this;
  }

  /** The two lanes, finished. */
  lanes(): readonly [number, number] {
    return [fmix(this.#a ^ this.#b), fmix(this.#b + Math.imul(this.#a, 0x2c1b3c6d))];
  }

  hex(): string {
    const [a, b] = this.lanes();
    return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
  }
}

/**
 * An unordered fingerprint of a set: members' fingerprints summed lane by lane (mod 2^32), so members can be
 * added in any order and removed again (`remove` undoes `add` exactly).
 */
export class SetFingerprint {
  #a = 0;
  #b = 0;
  #size = 0;

  add(member: readonly [number, number]): void {
    this.#a = (this.#a + member[0]) >>> 0;
    this.#b = (this.#b + member[1]) >>> 0;
    this.#size++;
  }

  remove(member: readonly [number, number]): void {
    this.#a = (this.#a - member[0]) >>> 0;
    this.#b = (this.#b - member[1]) >>> 0;
    this.#size--;
  }

  hex(): string {
    return new Fingerprint().word(this.#a).word(this.#b).word(this.#size).hex();
  }
}
