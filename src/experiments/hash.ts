/**
 * A user's point in [0, 1) for a salt: deterministic across processes, restarts and machines, so every
 * instance places a user identically without sharing state. 32-bit FNV-1a over the UTF-16 code units of
 * `salt`, a separator and the id, then MurmurHash3's finalizer: FNV alone leaves the low bits of similar
 * ids (`user-1`, `user-2`, …) correlated, and the finalizer spreads every input bit over the output, which
 * the uniformity test (chi-square over 100,000 ids) checks. Not cryptographic: assignment needs uniform
 * and independent across salts, not secret.
 */
export function hashPoint(salt: string, id: string): number {
  let h = 0x811c9dc5;
  h = fnv(h, salt);
  h = Math.imul(h ^ 0x1f, 0x01000193); // the separator: ("ab", "c") and ("a", "bc") differ
  h = fnv(h, id);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

function fnv(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}
