/**
 * Position bias of logged lists: the position-based click model (PBM; Richardson et al. 2007, Wang et al.
 * 2018) says an item at position k is clicked when it is examined (chance θ_k, the same for every list)
 * and relevant (chance γ_i). Fitted by EM on the logged (item, position, clicked) rows, with one γ per
 * item: the same item is shown at many positions to many users, which is what separates θ from γ. A
 * within-list relevance decline (the generator puts better items first) is partly absorbed by γ_i, so
 * θ is estimated from the items' moves between positions rather than from the raw click-through curve,
 * which would attribute the generator's own skill to position.
 *
 * The re-ranker then learns from `grade / (θ_k / θ_0)`: an inverse-propensity-corrected target whose
 * expectation is the grade the item would have earned at the top, so a regression on it is unbiased for
 * relevance (Joachims et al. 2017). Chosen over "position as a feature, fixed at serve time" because in a
 * logged list position and the generator's rank are nearly the same column: trees cannot tell them apart
 * and would learn position's effect through the generator's rank, which serving does not fix.
 */

export interface PositionRows {
  readonly item: Int32Array;
  readonly position: Int32Array;
  /** 1 when the row was clicked (any positive outcome), else 0. */
  readonly clicked: Uint8Array;
}

export interface PositionBias {
  /** θ_k / θ_0 per position (1 at the top), floored at `1 / maxWeight`. */
  readonly relative: Float64Array;
  /** The inverse: the weight of an outcome at position k. */
  readonly weights: Float64Array;
}

export interface PositionBiasOptions {
  readonly iterations?: number;
  /** Largest inverse-propensity weight (default 10): clipping trades a little bias for much less variance. */
  readonly maxWeight?: number;
}

export function positionBias(
  rows: PositionRows,
  nItems: number,
  options: PositionBiasOptions = {},
): PositionBias {
  const n = rows.item.length;
  let positions = 1;
  for (let r = 0; r < n; r++) positions = Math.max(positions, rows.position[r]! + 1);
  const maxWeight = options.maxWeight ?? 10;
  const theta = new Float64Array(positions).fill(0.5);
  const gamma = new Float64Array(nItems).fill(0.1);
  const thetaSum = new Float64Array(positions);
  const thetaCount = new Float64Array(positions);
  const gammaSum = new Float64Array(nItems);
  const gammaCount = new Float64Array(nItems);
  for (let it = 0; it < (options.iterations ?? 50); it++) {
    thetaSum.fill(0);
    thetaCount.fill(0);
    gammaSum.fill(0);
    gammaCount.fill(0);
    for (let r = 0; r < n; r++) {
      const k = rows.position[r]!;
      const i = rows.item[r]!;
      const t = theta[k]!;
      const g = gamma[i]!;
      let examined = 1;
      let relevant = 1;
      if (rows.clicked[r] === 0) {
        // Posterior of examined / relevant given no click.
        const none = 1 - t * g;
        examined = (t * (1 - g)) / none;
        relevant = ((1 - t) * g) / none;
      }
      thetaSum[k]! += examined;
      thetaCount[k]! += 1;
      gammaSum[i]! += relevant;
      gammaCount[i]! += 1;
    }
    for (let k = 0; k < positions; k++)
      if (thetaCount[k]! > 0) theta[k] = clamp(thetaSum[k]! / thetaCount[k]!);
    // A light prior (one pseudo-row at 0.1) keeps items shown once from pinning γ at 0 or 1.
    for (let i = 0; i < nItems; i++) gamma[i] = clamp((gammaSum[i]! + 0.1) / (gammaCount[i]! + 1));
  }
  const relative = new Float64Array(positions);
  const weights = new Float64Array(positions);
  for (let k = 0; k < positions; k++) {
    // Examination only falls with position: a noisy bump further down is not believed.
    const raw = Math.min(1, theta[k]! / theta[0]!, k > 0 ? relative[k - 1]! : 1);
    relative[k] = Math.max(1 / maxWeight, raw);
    weights[k] = 1 / relative[k]!;
  }
  return { relative, weights };
}

const clamp = (p: number): number => Math.min(1 - 1e-6, Math.max(1e-6, p));
