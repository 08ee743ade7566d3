/**
 * The Bayesian reading of a relative lift under a normal approximation with a flat prior (GrowthBook's
 * default engine): the lift is taken to be distributed N(rel_lift, rel_se²).
 */
import { normalCdf, normalPdf, normalUpperTail } from './distributions.js';

/**
 * P(lift > 0) = Φ(mean / se), the chance that the treatment is better (for a metric where higher is
 * better). Φ is taken from erfc of the lower tail, so a chance within 1e-14 of 1 keeps its digits.
 */
export function chanceToWin(mean: number, se: number): number {
  return normalCdf(mean / se);
}

/** What is lost, in expectation and in units of the lift, by each decision. */
export interface ExpectedLoss {
  /** E[max(0, −X)]: shipping the treatment when it is in fact worse. */
  readonly treatment: number;
  /** E[max(0, X)]: keeping control when the treatment is in fact better. */
  readonly control: number;
}

/**
 * Expected loss of choosing the treatment and of choosing control, for X ~ N(mean, se²):
 * E[max(0, −X)] = se·φ(z) − mean·Φ(−z) and E[max(0, X)] = se·φ(z) + mean·Φ(z), with z = mean / se.
 * Φ(−z) is computed as a tail, not as 1 − Φ(z), because for a clear winner both terms are tiny and their
 * difference is the answer. Rounding can leave −1e-300; losses are clamped at 0.
 */
export function expectedLoss(mean: number, se: number): ExpectedLoss {
  if (se === 0) return { treatment: Math.max(0, -mean), control: Math.max(0, mean) };
  const z = mean / se;
  const density = se * normalPdf(z);
  return {
    treatment: Math.max(0, density - mean * normalUpperTail(z)),
    control: Math.max(0, density + mean * normalCdf(z)),
  };
}
