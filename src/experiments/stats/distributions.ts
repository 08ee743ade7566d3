/**
 * The distributions experiment statistics need: standard normal, Student's t with a real (Welch) number of
 * degrees of freedom, and chi-square. Tails are computed as tails (see `special.ts`), never as 1 − CDF.
 */
import { erfc, lnBeta, regularizedBetaTails, regularizedGammaTails, type Tails } from './special.js';

const INV_SQRT_2PI = 0.3989422804014327;

// --- standard normal.

/** Density φ(z), with exp(−z²/2) taken without rounding z² first (as Cody does for erfc). */
export function normalPdf(z: number): number {
  const y = Math.abs(z);
  const head = Math.trunc(y * 16) / 16;
  const remainder = (y - head) * (y + head);
  return INV_SQRT_2PI * Math.exp(-0.5 * head * head) * Math.exp(-0.5 * remainder);
}

/** 1/√2 − Math.SQRT1_2: the part of 1/√2 a double does not hold. */
const SQRT1_2_LOW = -4.833646656726457e-17;
/** 2²⁷ + 1, Veltkamp's constant for splitting a double into two 26-bit halves. */
const SPLITTER = 134217729;

/** a·b − fl(a·b), exactly (Dekker's two-product, without fused multiply-add). */
function productError(a: number, b: number, product: number): number {
  let t = SPLITTER * a;
  const aHigh = t - (t - a);
  const aLow = a - aHigh;
  t = SPLITTER * b;
  const bHigh = t - (t - b);
  const bLow = b - bHigh;
  return aHigh * bHigh - product + aHigh * bLow + aLow * bHigh + aLow * bLow;
}

/**
 * P(Z > z) = erfc(z/√2) / 2, with the rounding of z/√2 corrected to first order. Rounding z/√2 costs a
 * relative z²·2⁻⁵³ in the tail, 1e-13 at z = 37 (p ≈ 1e-300); the correction −δ·√2·φ(z), with δ the
 * argument's error, takes it back to the accuracy of erfc itself.
 */
function upperTail(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (!Number.isFinite(z)) return z > 0 ? 0 : 1;
  const y = z * Math.SQRT1_2;
  const delta = productError(z, Math.SQRT1_2, y) + z * SQRT1_2_LOW;
  return 0.5 * erfc(y) - delta * Math.SQRT2 * normalPdf(z);
}

/** Φ(z) = P(Z ≤ z). For z < 0 this is the lower tail, exact to full relative precision. */
export function normalCdf(z: number): number {
  return upperTail(-z);
}

/** 1 − Φ(z) = P(Z > z), computed as the tail itself. */
export function normalUpperTail(z: number): number {
  return upperTail(z);
}

/** P(|Z| ≥ |z|): the two-sided p-value of a z statistic. */
export function normalTwoSidedTail(z: number): number {
  return 2 * upperTail(Math.abs(z));
}

// Wichura, "The percentage points of the normal distribution", Applied Statistics 37 (1988), AS 241 (PPND16),
// accurate to about 1e-16 relative.
const Q_NUM = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const Q_DEN = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852854,
];
const MID_NUM = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
];
const MID_DEN = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
];
const FAR_NUM = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 0.000027115555687434876, 2.0103343992922881e-7,
];
const FAR_DEN = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  0.000018463183175100548, 1.421511758316446e-7, 2.0442631033899397e-15,
];

/** Horner evaluation of Σ coefficients[i]·x^i. */
function polynomial(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) value = value * x + coefficients[i]!;
  return value;
}

/**
 * The standard normal quantile Φ⁻¹(p): Wichura's AS 241, then one Newton step on the exact tail, which
 * takes the last ulp or two of the rational approximation away (1.9599639845400538 for p = 0.975, the
 * double nearest to the quantile of the double nearest 0.975).
 */
export function normalQuantile(p: number): number {
  const start = wichuraQuantile(p);
  if (!Number.isFinite(start)) return start;
  const density = normalPdf(start);
  if (density === 0) return start;
  // Φ(x) − p, as a difference of tails: for p ≥ ½, (1 − p) − Q(x), with 1 − p exact (Sterbenz).
  const excess = p < 0.5 ? normalCdf(start) - p : 1 - p - normalUpperTail(start);
  return start - excess / density;
}

/** Wichura's AS 241 (PPND16), good to about 1e-16 relative. */
function wichuraQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * polynomial(Q_NUM, r)) / polynomial(Q_DEN, r);
  }
  // The tail probability min(p, 1 − p); 1 − p is exact here (Sterbenz), since p > 0.925.
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = polynomial(MID_NUM, r) / polynomial(MID_DEN, r);
  } else {
    r -= 5;
    value = polynomial(FAR_NUM, r) / polynomial(FAR_DEN, r);
  }
  return q < 0 ? -value : value;
}

// --- Student's t, for real (non-integer) degrees of freedom.

/**
 * P(|T| ≥ |t|) (lower) and P(|T| < |t|) (upper) for T ~ t_df, from I_x(df/2, ½) with x = df/(df + t²).
 * x and 1 − x = t²/(df + t²) are both formed from r = t²/df, so neither comes from a subtraction.
 */
function studentTAbsTails(t: number, df: number): Tails {
  const r = (t * t) / df;
  if (r === Infinity) return { lower: 0, upper: 1 };
  return regularizedBetaTails(1 / (1 + r), df / 2, 0.5, r / (1 + r));
}

function isDegenerate(t: number, df: number): boolean {
  return Number.isNaN(t) || Number.isNaN(df) || df <= 0;
}

/** P(|T| ≥ |t|): the two-sided p-value of a t statistic with `df` (real) degrees of freedom. */
export function studentTTwoSidedTail(t: number, df: number): number {
  if (isDegenerate(t, df)) return NaN;
  if (df === Infinity) return normalTwoSidedTail(t);
  return studentTAbsTails(t, df).lower;
}

/** P(T > t), the tail itself for t > 0. */
export function studentTUpperTail(t: number, df: number): number {
  if (isDegenerate(t, df)) return NaN;
  if (df === Infinity) return normalUpperTail(t);
  const tails = studentTAbsTails(t, df);
  return t >= 0 ? 0.5 * tails.lower : 0.5 + 0.5 * tails.upper;
}

/** P(T ≤ t), the tail itself for t < 0 (scipy `t.cdf`, `special.stdtr`). */
export function studentTCdf(t: number, df: number): number {
  if (isDegenerate(t, df)) return NaN;
  if (df === Infinity) return normalCdf(t);
  const tails = studentTAbsTails(t, df);
  return t <= 0 ? 0.5 * tails.lower : 0.5 + 0.5 * tails.upper;
}

/** Density of t_df: (1 + t²/df)^(−(df + 1)/2) / (√df · B(df/2, ½)). */
export function studentTPdf(t: number, df: number): number {
  if (isDegenerate(t, df)) return NaN;
  if (df === Infinity) return normalPdf(t);
  return Math.exp(-0.5 * (df + 1) * Math.log1p((t * t) / df) - lnBeta(df / 2, 0.5) - 0.5 * Math.log(df));
}

/**
 * Start for the t quantile with upper tail q: exact for df = 1 and 2, else the Cornish–Fisher expansion
 * around the normal quantile (good to a few digits from df ≈ 3 on, which Newton then finishes).
 */
function studentTQuantileStart(q: number, df: number): number {
  if (df === 1) return 1 / Math.tan(Math.PI * q);
  if (df === 2) return (1 - 2 * q) / Math.sqrt(2 * q * (1 - q));
  const z = -normalQuantile(q);
  const z2 = z * z;
  const g1 = (z * (z2 + 1)) / 4;
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96;
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384;
  const g4 = (z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945)) / 92160;
  return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
}

/**
 * The t quantile: the number t with P(T ≤ t) = p, for real df (scipy `t.ppf`).
 *
 * Solves P(T > t) = q with q = min(p, 1 − p) (1 − p is exact for p ≥ ½), for t > 0, by Newton's method on
 * the exact tail, safeguarded by bisection inside a bracket, until the step is below an ulp or two. The
 * fixed point is as exact as the tail: an error δ in the tail moves t by δ / density.
 */
export function studentTQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || Number.isNaN(df) || df <= 0 || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (df === Infinity) return normalQuantile(p);
  const q = p < 0.5 ? p : 1 - p;
  const sign = p < 0.5 ? -1 : 1;

  // Bracket [low, high] with tail(low) > q ≥ tail(high); tail(0) = ½ > q.
  let low = 0;
  let high = Math.max(studentTQuantileStart(q, df), Number.MIN_VALUE);
  let t = high;
  while (studentTUpperTail(high, df) > q) {
    low = high;
    high *= 2;
    if (high === Infinity) return sign * Infinity;
  }

  for (let iteration = 0; iteration < 200; iteration++) {
    const excess = studentTUpperTail(t, df) - q;
    if (excess === 0) break;
    if (excess > 0) low = t;
    else high = t;
    let next = t + excess / studentTPdf(t, df);
    if (!(next > low && next < high)) next = 0.5 * (low + high);
    const step = Math.abs(next - t);
    t = next;
    if (step <= 2 * Number.EPSILON * t) break;
  }
  return sign * t;
}

// --- critical values of two-sided intervals.

/** z with P(|Z| ≤ z) = confidence: 1.959963984540054 for 0.95 (scipy `norm.ppf(0.975)`). */
export function normalCriticalValue(confidence: number): number {
  return normalQuantile((1 + confidence) / 2);
}

/** t with P(|T| ≤ t) = confidence for T ~ t_df, df real (scipy `t.ppf(0.975, df)` for 0.95). */
export function studentTCriticalValue(confidence: number, df: number): number {
  return studentTQuantile((1 + confidence) / 2, df);
}

// --- chi-square.

/**
 * P(X ≥ x) for X ~ χ²(df) (scipy `chi2.sf`): Q(df/2, x/2), with the closed forms for 1 and 2 degrees of
 * freedom, erfc(√(x/2)) and exp(−x/2).
 */
export function chiSquareUpperTail(x: number, df: number): number {
  if (Number.isNaN(x) || Number.isNaN(df) || df <= 0) return NaN;
  if (x <= 0) return 1;
  if (df === 1) return erfc(Math.sqrt(x / 2));
  if (df === 2) return Math.exp(-x / 2);
  return regularizedGammaTails(df / 2, x / 2).upper;
}
