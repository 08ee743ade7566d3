import type { Rng } from './random.js';

/** Width of the hidden taste space that both users and items live in. */
export const LATENT_DIMS = 8;

export function dot(a: Float64Array, aOffset: number, b: Float64Array, bOffset: number): number {
  let sum = 0;
  for (let d = 0; d < LATENT_DIMS; d++) sum += (a[aOffset + d] ?? 0) * (b[bOffset + d] ?? 0);
  return sum;
}

/** Scales `v[offset .. offset + LATENT_DIMS)` to unit length in place (a zero vector is left alone). */
export function normalize(v: Float64Array, offset = 0): void {
  let norm = 0;
  for (let d = 0; d < LATENT_DIMS; d++) norm += (v[offset + d] ?? 0) ** 2;
  norm = Math.sqrt(norm);
  if (norm === 0) return;
  for (let d = 0; d < LATENT_DIMS; d++) v[offset + d] = (v[offset + d] ?? 0) / norm;
}

/**
 * One unit vector per category, `count × LATENT_DIMS` row-major. More categories than dimensions cannot
 * be orthogonal, and random directions sometimes land close together (two categories the simulated
 * users could not tell apart), so the directions are pushed apart for a few rounds first.
 */
export function categoryCentroids(rng: Rng, count: number): Float64Array {
  const out = new Float64Array(count * LATENT_DIMS);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  for (let c = 0; c < count; c++) normalize(out, c * LATENT_DIMS);
  const push = new Float64Array(out.length);
  for (let round = 0; round < 60; round++) {
    push.fill(0);
    for (let a = 0; a < count; a++) {
      for (let b = 0; b < count; b++) {
        if (a === b) continue;
        const cos = dot(out, a * LATENT_DIMS, out, b * LATENT_DIMS);
        if (cos <= 0) continue;
        for (let d = 0; d < LATENT_DIMS; d++) {
          push[a * LATENT_DIMS + d] =
            (push[a * LATENT_DIMS + d] ?? 0) - 0.1 * cos * (out[b * LATENT_DIMS + d] ?? 0);
        }
      }
    }
    for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + (push[i] ?? 0);
    for (let c = 0; c < count; c++) normalize(out, c * LATENT_DIMS);
  }
  return out;
}
