/**
 * Segments in words: each segment named by the features that set it most apart from the other rows, with
 * its size and share. A pure function of the matrix and the labels (k-means, DBSCAN or any other).
 *
 * How distinctive a feature is: the segment's mean minus the other rows' mean, in units of the feature's
 * overall standard deviation (a one-vs-rest standardized difference). The overall deviation rather than a
 * pooled within-group one: a share such as `device_share_mobile` can be constant inside a segment and
 * inside the rest, which would make a pooled deviation 0 and every such feature infinitely distinctive.
 *
 * The words come from a label map: per feature, what to say when the segment is high or low on it. A
 * phrase is either an aside ("evenings", joined after a comma) or parts of one noun phrase (`before` the
 * noun, the `noun`, `after` it), so that "frequent" + "mobile" + "buyers" + "of electronics" + "evenings"
 * read "frequent mobile buyers of electronics, evenings". Features without a label read "high <name>".
 */
import { checkMatrix } from './kmeans.js';

/** Words for one side of a feature: an aside, or parts of the segment's noun phrase. */
export type FeaturePhrase =
  string | { readonly before?: string; readonly noun?: string; readonly after?: string };

export interface FeatureLabel {
  /** A human name for the default phrasing ("high <name>", "low <name>") and the details. */
  readonly name?: string;
  /** Appended to the means in the details, e.g. " €" or " min". */
  readonly unit?: string;
  /** Said when the segment is above the rest. */
  readonly high?: FeaturePhrase;
  /** Said when the segment is below the rest; absent: "low <name>". */
  readonly low?: FeaturePhrase;
}

/** Per column name; a function can label families of columns (e.g. every `hour_of_week_…`). */
export type LabelMap =
  Readonly<Record<string, FeatureLabel>> | ((column: string) => FeatureLabel | undefined);

export interface DescribeOptions {
  /** The matrix's column names, d of them. */
  readonly columns: readonly string[];
  readonly labels?: LabelMap;
  /** Features named per segment, at most. */
  readonly top?: number;
  /** Smallest |standardized difference| worth naming (0.5: a "medium" effect in Cohen's terms). */
  readonly minEffect?: number;
  /** The noun when the phrases give none but do give words before or after it. */
  readonly noun?: string;
}

export interface FeatureEffect {
  readonly column: string;
  /** (segment mean − rest mean) / overall standard deviation. */
  readonly effect: number;
  readonly segmentMean: number;
  readonly restMean: number;
  readonly overallMean: number;
  /** The phrase used for it (a noun-phrase part shown as its words joined). */
  readonly phrase: string;
  /** "purchases: 4.2 vs 1.1 in the rest", with the unit. */
  readonly detail: string;
}

export interface SegmentDescription {
  /** The label as given (−1 for DBSCAN's noise). */
  readonly label: number;
  readonly size: number;
  /** size / rows. */
  readonly share: number;
  /** The named features, most distinctive first. */
  readonly features: readonly FeatureEffect[];
  /** The description: "frequent mobile buyers of electronics, evenings". */
  readonly text: string;
}

export const DESCRIBE_DEFAULTS = { top: 3, minEffect: 0.5, noun: 'customers' } as const;

/** Describes each distinct label's rows, in ascending label order. */
export function describeSegments(
  data: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  options: DescribeOptions,
): SegmentDescription[] {
  checkMatrix(data, n, d);
  if (labels.length !== n) throw new RangeError(`labels must hold n = ${n} labels, got ${labels.length}`);
  if (options.columns.length !== d) {
    throw new RangeError(`columns must name the d = ${d} columns, got ${options.columns.length}`);
  }
  const top = options.top ?? DESCRIBE_DEFAULTS.top;
  const minEffect = options.minEffect ?? DESCRIBE_DEFAULTS.minEffect;
  const distinct = [...new Set(labels)].sort((a, b) => a - b);
  const slot = new Map(distinct.map((label, s) => [label, s]));
  const segments = distinct.length;
  const sizes = new Int32Array(segments);
  const sums = new Float64Array(segments * d);
  const totals = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const s = slot.get(labels[i]!)!;
    sizes[s]!++;
    for (let j = 0; j < d; j++) {
      sums[s * d + j]! += data[i * d + j]!;
      totals[j]! += data[i * d + j]!;
    }
  }
  const sd = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const mean = totals[j]! / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (data[i * d + j]! - mean) ** 2;
    sd[j] = Math.sqrt(squares / n);
  }
  return distinct.map((label, s) => {
    const size = sizes[s]!;
    const candidates: { readonly feature: FeatureEffect; readonly parts: FeaturePhrase }[] = [];
    for (let j = 0; j < d; j++) {
      // A constant column, or a segment of every row, has nothing to set it apart.
      if (!(sd[j]! > 0) || size === n) continue;
      const segmentMean = sums[s * d + j]! / size;
      const restMean = (totals[j]! - sums[s * d + j]!) / (n - size);
      const effect = (segmentMean - restMean) / sd[j]!;
      if (!(Math.abs(effect) >= minEffect)) continue;
      const column = options.columns[j]!;
      const words = labelOf(options.labels, column);
      const name = words.name ?? column;
      const parts = effect > 0 ? (words.high ?? `high ${name}`) : (words.low ?? `low ${name}`);
      const unit = words.unit ?? '';
      const detail = `${name}: ${format(segmentMean)}${unit} vs ${format(restMean)}${unit} in the rest`;
      const overallMean = totals[j]! / n;
      const phrase = phraseWords(parts);
      candidates.push({
        feature: { column, effect, segmentMean, restMean, overallMean, phrase, detail },
        parts,
      });
    }
    // Most distinctive first; a stable sort keeps column order between equals.
    candidates.sort((a, b) => Math.abs(b.feature.effect) - Math.abs(a.feature.effect));
    const named = candidates.slice(0, top);
    return {
      label,
      size,
      share: size / n,
      features: named.map((candidate) => candidate.feature),
      text: composePhrases(
        named.map((candidate) => candidate.parts),
        options.noun ?? DESCRIBE_DEFAULTS.noun,
      ),
    };
  });
}

function labelOf(labels: LabelMap | undefined, column: string): FeatureLabel {
  if (labels === undefined) return {};
  if (typeof labels === 'function') return labels(column) ?? {};
  return Object.hasOwn(labels, column) ? labels[column]! : {};
}

function phraseWords(phrase: FeaturePhrase): string {
  if (typeof phrase === 'string') return phrase;
  return [phrase.before, phrase.noun, phrase.after].filter((word) => word !== undefined).join(' ');
}

/**
 * One noun phrase from the parts (words before the noun in order of distinctiveness, the most distinctive
 * feature's noun, words after), then the asides after commas. Without any part, the asides alone.
 */
export function composePhrases(phrases: readonly FeaturePhrase[], defaultNoun: string): string {
  const before: string[] = [];
  const after: string[] = [];
  const asides: string[] = [];
  let noun: string | undefined;
  for (const phrase of phrases) {
    if (typeof phrase === 'string') {
      asides.push(phrase);
      continue;
    }
    if (phrase.before !== undefined) before.push(phrase.before);
    if (phrase.after !== undefined) after.push(phrase.after);
    noun ??= phrase.noun;
  }
  const parts = before.length + after.length > 0 || noun !== undefined;
  const head = parts ? [...before, noun ?? defaultNoun, ...after].join(' ') : undefined;
  const text = [...(head === undefined ? [] : [head]), ...asides].join(', ');
  return text === '' ? 'typical on every feature' : text;
}

/** Three significant digits, no exponent for everyday magnitudes. */
function format(x: number): string {
  return Number(x.toPrecision(3)).toString();
}
