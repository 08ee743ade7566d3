import type { JsonValue } from '../../shared/types.js';
import type { SplitSummary } from '../../evaluation/index.js';
import { choiceName, count, score, seconds, summary } from '../format.js';
import { formatTable } from '../table.js';

type Line = { readonly [key: string]: JsonValue | undefined };

const num = (line: Line, key: string): number | null => {
  const value = line[key];
  return typeof value === 'number' ? value : null;
};

export function splitLine(name: string, split: SplitSummary): string {
  return (
    `${name}: ${count(split.users)} users · ${count(split.items)} items · ${count(split.trainPairs)} train / ` +
    `${count(split.testPairs)} test pairs · ${count(split.evaluatedUsers)} test users`
  );
}

const testMetrics = (line: Line, k: number) =>
  `ndcg@${k} ${score(num(line, `ndcg@${k}`))} · recall@${k} ${score(num(line, `recall@${k}`))} · ` +
  `coverage@${k} ${score(num(line, `coverage@${k}`))}`;

/** `attune evaluate` over several models: one row per model, best test ndcg named. */
export function modelsSummary(lines: readonly Line[], k: number, data: string, elapsed: number): string {
  const rows = [
    ['model', `ndcg@${k}`, `recall@${k}`, `coverage@${k}`, `val ndcg@${k}`, 'train', 'tune'],
    ...lines.map((l) => [
      String(l['model']),
      score(num(l, `ndcg@${k}`)),
      score(num(l, `recall@${k}`)),
      score(num(l, `coverage@${k}`)),
      score(num(l, `val_ndcg@${k}`)),
      seconds(num(l, 'train_s') ?? Number.NaN),
      seconds(num(l, 'tune_s') ?? Number.NaN),
    ]),
  ];
  const best = [...lines].sort((a, b) => (num(b, `ndcg@${k}`) ?? -1) - (num(a, `ndcg@${k}`) ?? -1))[0];
  return [
    `evaluated ${lines.length} model${lines.length === 1 ? '' : 's'} in ${seconds(elapsed)} — ${data}`,
    '',
    ...formatTable(rows),
    '',
    best === undefined
      ? ''
      : `best on the test split: ${String(best['model'])} (ndcg@${k} ${score(num(best, `ndcg@${k}`))}); --json for JSON lines`,
    '',
  ].join('\n');
}

/** `attune evaluate --choice`: the one model's test metrics. */
export function choiceSummary(line: Line, k: number, data: string, elapsed: number): string {
  return summary(`evaluated ${choiceName(line['model'], line['params'])} in ${seconds(elapsed)}`, [
    ['test', testMetrics(line, k)],
    ['params', JSON.stringify(line['params'])],
    ['data', data],
  ]);
}

/** `attune evaluate --auto`: what was chosen, on what validation score, how it did on test, the candidates. */
export function autoSummary(line: Line, k: number, data: string, elapsed: number): string {
  const chosen = line['chosen'] as Line | undefined;
  const name = choiceName(chosen?.['model'], chosen?.['params']);
  const final = line['final'] === 'two-stage' ? `${name}, re-ranked by trees (two-stage)` : name;
  const tried = Array.isArray(line['tried']) ? (line['tried'] as Line[]) : [];
  const head = summary(`chose ${final} in ${seconds(elapsed)}`, [
    [
      'validation',
      `ndcg@${k} ${score(num(line, `val_ndcg@${k}`))} on ${count(num(line, 'n_validation_users') ?? 0)} users ` +
        `(${tried.length} candidates tried)`,
    ],
    ['test', `${testMetrics(line, k)} on ${count(num(line, 'n_test_users') ?? 0)} users`],
    ['data', data],
  ]);
  const rows = [
    ['candidate', `val ndcg@${k}`, 'ms/user', 'fit'],
    ...tried.map((t) => [
      choiceName(t['model'], t['params']),
      t['skipped'] !== undefined ? `skipped: ${String(t['skipped'])}` : score(num(t, `val_ndcg@${k}`)),
      num(t, 'ms_per_user')?.toFixed(3) ?? '–',
      seconds(num(t, 'seconds') ?? Number.NaN),
    ]),
  ];
  return `${head}\n${formatTable(rows).join('\n')}\n`;
}
