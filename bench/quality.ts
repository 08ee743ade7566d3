/**
 * Recommendation quality on MovieLens 100K under `../shared/reference/PROTOCOL.md`, side by side with
 * the reference libraries' numbers in `../shared/reference/ml-100k.jsonl`.
 *
 *   node --import tsx bench/quality.ts [path/to/u.data]
 *
 * stdout: one JSON line per model (the protocol's layout), then one JSON comparison line per model and
 * reference counterpart. stderr: progress and a readable summary.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  evaluateModels,
  prepareDataset,
  readInteractions,
  summarize,
  type ResultLine,
} from '../src/evaluation/index.js';

const shared = new URL('../../shared/', import.meta.url);
const dataPath = process.argv[2] ?? fileURLToPath(new URL('data/ml-100k/u.data', shared));
const referencePath = fileURLToPath(new URL('reference/ml-100k.jsonl', shared));
const k = 20;
/** Quality bar: our ndcg@20 against each counterpart's. */
const bar = 0.98;

/** What the protocol pins for ML-100K; a mismatch means the numbers below are not comparable. */
const expectedSplit = {
  evaluatedUsers: 943,
  trainPairs: 80_367,
  testPairs: 19_633,
  validationPairs: 15_707,
  testFingerprint: 'ad35fe75c822f5e54a66a664abfa81c43ace4796',
};

/** Our model → the reference rows it is held against. */
const counterparts: Readonly<Record<string, readonly string[]>> = {
  popularity: ['pop'],
  itemknn: ['itemknn'],
  als: ['implicit_als', 'ials'],
  ease: ['ease'],
  // No reference row; listed for its own numbers.
  rp3beta: [],
};

const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function referenceNdcg(): Promise<Map<string, number>> {
  const text = await readFile(referencePath, 'utf8');
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as { model?: unknown; [key: string]: unknown };
    const ndcg = row[`ndcg@${k}`];
    if (typeof row.model === 'string' && typeof ndcg === 'number') out.set(row.model, ndcg);
  }
  return out;
}

const dataset = await prepareDataset(readInteractions(dataPath, 'ml100k'));
const split = summarize(dataset);
log(`split: ${JSON.stringify(split)}`);
const mismatched = Object.entries(expectedSplit).filter(
  ([key, value]) => split[key as keyof typeof expectedSplit] !== value,
);
if (mismatched.length > 0) log(`WARNING: split differs from the protocol's: ${JSON.stringify(mismatched)}`);

const results: ResultLine[] = [];
for await (const line of evaluateModels(dataset, {
  models: Object.keys(counterparts),
  k,
  tune: true,
  dataset: 'ml-100k',
  threads: availableParallelism(),
  onLog: log,
})) {
  results.push(line);
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const reference = await referenceNdcg();
const summary: string[] = [];
for (const line of results) {
  const ours = line[`ndcg@${k}`] ?? Number.NaN;
  for (const name of counterparts[line.model] ?? []) {
    const theirs = reference.get(name);
    if (theirs === undefined) continue;
    const ratio = ours / theirs;
    const meets = ratio >= bar;
    process.stdout.write(
      `${JSON.stringify({
        compare: line.model,
        [`ndcg@${k}`]: ours,
        reference: name,
        [`reference_ndcg@${k}`]: theirs,
        ratio: Number(ratio.toFixed(4)),
        [`meets_${bar}`]: meets,
      })}\n`,
    );
    summary.push(
      `${line.model.padEnd(11)} ndcg@${k} ${ours.toFixed(4)}  vs ${name.padEnd(13)} ${theirs.toFixed(4)}  ` +
        `ratio ${ratio.toFixed(3)}  ${meets ? 'ok' : `BELOW ${bar}x`}`,
    );
  }
}
log(summary.join('\n'));
