import { normalCriticalValue } from '../../experiments/stats/index.js';
import type { Guardrails } from './definition.js';

/** Running sums over the learner's closed decisions; see `Guardrail`. */
const SUMS = ['n', 'r', 'r2', 'w', 'wr', 'w2', 'w2r', 'w2r2'] as const;
type Sums = Record<(typeof SUMS)[number], number>;

export interface GuardrailStatus {
  /** Closed decisions the learner chose. */
  readonly decisions: number;
  /** Their mean reward: the learner's value, measured on-policy. */
  readonly learnerValue: number | null;
  /** The default action's value, self-normalized IPS over the same decisions (those that explored it). */
  readonly defaultValue: number | null;
  /** learnerValue − defaultValue with its one-sided upper bound at the configured confidence. */
  readonly difference: number | null;
  readonly upperBound: number | null;
  /** Set once the upper bound fell below zero; from then on the point serves its default action. */
  readonly tripped: boolean;
}

/**
 * Stops a learner that does worse than the default action. Over the decisions the learner chose and whose
 * reward is known, its own value is their mean reward; the default action's value is estimated from the
 * same decisions by self-normalized importance weighting (weight 1/propensity where the default was chosen,
 * 0 elsewhere) — possible because exploration keeps the default's propensity above zero. Once `minDecisions`
 * have closed and the one-sided upper confidence bound of the difference is below zero, it trips and stays
 * tripped (the status says why) until the point is redefined. The variance of the SNIPS estimate is the
 * usual linearisation, Σw²(r − v)² / (Σw)².
 */
export class Guardrail {
  private readonly sums: Sums = { n: 0, r: 0, r2: 0, w: 0, wr: 0, w2: 0, w2r: 0, w2r2: 0 };
  private trippedFlag = false;

  constructor(readonly settings: Guardrails) {}

  get tripped(): boolean {
    return this.trippedFlag;
  }

  /** One closed decision the learner chose: its reward, and whether (with what propensity) it was the default. */
  observe(reward: number, chosenDefault: boolean, propensity: number): void {
    const s = this.sums;
    const w = chosenDefault ? 1 / propensity : 0;
    s.n += 1;
    s.r += reward;
    s.r2 += reward * reward;
    s.w += w;
    s.wr += w * reward;
    s.w2 += w * w;
    s.w2r += w * w * reward;
    s.w2r2 += w * w * reward * reward;
    if (!this.trippedFlag && s.n >= this.settings.minDecisions) {
      const bound = this.status().upperBound;
      if (bound !== null && bound < 0) this.trippedFlag = true;
    }
  }

  status(): GuardrailStatus {
    const s = this.sums;
    if (s.n === 0) {
      return {
        decisions: 0,
        learnerValue: null,
        defaultValue: null,
        difference: null,
        upperBound: null,
        tripped: this.trippedFlag,
      };
    }
    const mean = s.r / s.n;
    const varMean = s.n > 1 ? Math.max(0, s.r2 - s.n * mean * mean) / (s.n - 1) / s.n : Infinity;
    if (s.w === 0) {
      return {
        decisions: s.n,
        learnerValue: mean,
        defaultValue: null,
        difference: null,
        upperBound: null,
        tripped: this.trippedFlag,
      };
    }
    const v = s.wr / s.w;
    const varV = Math.max(0, s.w2r2 - 2 * v * s.w2r + v * v * s.w2) / (s.w * s.w);
    const difference = mean - v;
    const z = normalCriticalValue(2 * this.settings.confidence - 1);
    return {
      decisions: s.n,
      learnerValue: mean,
      defaultValue: v,
      difference,
      upperBound: difference + z * Math.sqrt(varMean + varV),
      tripped: this.trippedFlag,
    };
  }

  toJSON(): { sums: number[]; tripped: boolean } {
    return { sums: SUMS.map((key) => this.sums[key]), tripped: this.trippedFlag };
  }

  restore(state: { sums: readonly number[]; tripped: boolean }): void {
    SUMS.forEach((key, i) => {
      this.sums[key] = state.sums[i] ?? 0;
    });
    this.trippedFlag = state.tripped;
  }
}
