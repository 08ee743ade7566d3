import {
  analyzeExperiment,
  CsvInputError,
  formatAnalysisReport,
  parseExperimentCsv,
  StatsInputError,
  VARIANT_NAME,
  type MetricKind,
} from '../../experiments/stats/index.js';
import { InvalidArgumentError } from 'commander';
import { readInputFile } from '../input-file.js';

/** What `main.ts` declares the command's options with. */
export { DEFAULT_SEQUENTIAL_TUNING_N, METRIC_KINDS, type MetricKind } from '../../experiments/stats/index.js';

export interface StatsCommandOptions {
  /** Per-user CSV in the layout of `kind`. */
  readonly input: string;
  readonly kind: MetricKind;
  /** The intended split, `control=0.5,b=0.5`. */
  readonly weights: string;
  /** One JSON object on stdout instead of the report. */
  readonly json: boolean;
  readonly confidence: number;
  readonly sequentialTuning: number;
}

/**
 * `--weights control=0.5,b=0.5`: the intended split, in the order treatments are reported. Weights need
 * not sum to 1 (`control=2,b=1` is a 2:1 split); each must be positive.
 */
export function parseWeights(text: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const entry of text.split(',')) {
    const match = /^\s*([^=\s]+)\s*=\s*(\S+)\s*$/.exec(entry);
    if (match === null) throw new Error(`--weights: expected name=weight, got "${entry}"`);
    const [, name, value] = match as unknown as [string, string, string];
    if (!VARIANT_NAME.test(name)) {
      throw new Error(`--weights: "${name}" is not a variant name (lowercase letters, digits and _)`);
    }
    const weight = Number(value);
    if (!(Number.isFinite(weight) && weight > 0)) {
      throw new Error(`--weights: the weight of "${name}" must be a positive number, got "${value}"`);
    }
    if (weights.has(name)) throw new Error(`--weights: "${name}" is given twice`);
    weights.set(name, weight);
  }
  return weights;
}

/** `--confidence 0.95`: a level strictly between 0 and 1. */
export function confidenceLevel(value: string): number {
  const level = Number(value);
  if (!(level > 0 && level < 1)) {
    throw new InvalidArgumentError(`--confidence must be between 0 and 1 (e.g. 0.95), got "${value}"`);
  }
  return level;
}

/** Runs `work`, prefixing the file's name to what is wrong with its content. */
function naming<T>(input: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof CsvInputError || error instanceof StatsInputError) {
      throw new Error(`${input}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Analyses one experiment from a per-user CSV (`src/experiments/stats`): the report, or with `json` one JSON
 * object, on stdout. Undefined numbers (a ratio over a zero denominator) are `null` in the JSON.
 */
export async function stats(options: StatsCommandOptions): Promise<void> {
  const weights = parseWeights(options.weights);
  const text = await readInputFile(options.input);
  const analysis = naming(options.input, () =>
    analyzeExperiment(parseExperimentCsv(text, options.kind), {
      weights,
      confidence: options.confidence,
      sequentialTuningN: options.sequentialTuning,
    }),
  );
  process.stdout.write(options.json ? `${JSON.stringify(analysis)}\n` : formatAnalysisReport(analysis));
}
