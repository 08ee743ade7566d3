/**
 * Always-valid inference for peeking at a running experiment: asymptotic confidence sequences
 * (Waudby-Smith et al. 2023, "Time-uniform central limit theory", eq. 155 and 161) in GrowthBook's
 * parameterization. Unlike a fixed-horizon interval, the sequence covers the true lift at every sample size
 * simultaneously with probability 1 − α, so it may be read daily and acted on the first time it excludes 0.
 *
 * With N the total users so far, σ̂² = se² · N the per-user variance of the estimate and ρ a mixing
 * parameter, the half-width is
 *
 *   σ̂ · √( 2(Nρ² + 1) / (N²ρ²) · ln( √(Nρ² + 1) / α ) )
 *
 * (GrowthBook passes s² = se²·N. With se in place of σ̂ the width would shrink as 1/N instead of 1/√N and
 * soon cover nothing.) ρ is tuned so that the sequence is tightest at N*, the sample size at which
 * decisions are expected: ρ = √( (−2 ln α + ln(−2 ln α + 1)) / N* ). GrowthBook defaults N* to 5,000.
 */

/** GrowthBook's default N*, the total sample size at which the sequence is tuned to be tightest. */
export const DEFAULT_SEQUENTIAL_TUNING_N = 5000;

/** The mixing parameter ρ for level α and tuning sample size N* (eq. 161, two-sided). */
export function sequentialRho(alpha: number, tuningN: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`sequential: alpha must be in (0, 1), got ${alpha}`);
  if (!(tuningN > 0))
    throw new RangeError(`sequential: the tuning sample size must be positive, got ${tuningN}`);
  const lnInverseAlpha = -Math.log(alpha);
  return Math.sqrt((2 * lnInverseAlpha + Math.log(2 * lnInverseAlpha + 1)) / tuningN);
}

export interface ConfidenceSequenceInput {
  /** The estimate (e.g. the absolute lift). */
  readonly estimate: number;
  /** Its standard error at the current sample size. */
  readonly se: number;
  /** Total users so far, all arms together. */
  readonly n: number;
  /** 1 − confidence. */
  readonly alpha: number;
  /** N*, see `DEFAULT_SEQUENTIAL_TUNING_N`. */
  readonly tuningN: number;
}

/** The always-valid interval and p-value at the current sample size. */
export interface ConfidenceSequence {
  readonly ci_low: number;
  readonly ci_high: number;
  readonly half_width: number;
  /**
   * The smallest α whose sequence excludes 0 now, for the ρ tuned at the requested α: 1 / e-value with
   * e = exp(ρ²·N·z² / (2(Nρ² + 1))) / √(Nρ² + 1), z = estimate / se (eq. 155). Capped at 1. Rejecting when
   * it falls below α is the same decision as the sequence excluding 0.
   */
  readonly p_value: number;
  readonly tuning_n: number;
}

/** The confidence sequence and always-valid p-value of an asymptotically normal estimate. */
export function confidenceSequence(input: ConfidenceSequenceInput): ConfidenceSequence {
  const { estimate, se, n, alpha, tuningN } = input;
  const rho = sequentialRho(alpha, tuningN);
  const nRho2 = n * rho * rho;
  const sigma = se * Math.sqrt(n);
  const halfWidth =
    sigma * Math.sqrt(((2 * (nRho2 + 1)) / (n * rho) ** 2) * Math.log(Math.sqrt(nRho2 + 1) / alpha));
  const z = estimate / se;
  // In logs: the e-value overflows for the z of a large experiment long before its p-value underflows.
  const lnPValue = 0.5 * Math.log(nRho2 + 1) - (nRho2 * z * z) / (2 * (nRho2 + 1));
  return {
    ci_low: estimate - halfWidth,
    ci_high: estimate + halfWidth,
    half_width: halfWidth,
    p_value: Math.min(1, Math.exp(lnPValue)),
    tuning_n: tuningN,
  };
}
