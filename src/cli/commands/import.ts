import { performance } from 'node:perf_hooks';
import { Engine } from '../../engine/index.js';
import { cliEngineConfig } from '../config.js';
import { validateEventBatch, type TrackedEvent } from '../../events/index.js';
import { readInteractions, readLines, type DatasetFormat } from '../../evaluation/index.js';
import { count, seconds, summary } from '../format.js';
import { readableFile } from '../input-file.js';
import { appendInBatches } from '../load.js';
import { storeName } from '../options.js';
import { createProgress } from '../progress.js';

export interface ImportOptions {
  readonly format: DatasetFormat;
  readonly path: string;
  readonly dataDir: string | undefined;
  /** One JSON object (`stored`, `duplicates`, `rejected`) instead of the summary. */
  readonly json?: boolean;
}

/**
 * MovieLens rows become `rated` events with the rating as a property. Their event ids are derived from
 * the row, so importing the same file twice stores nothing new.
 */
async function* ratingEvents(
  path: string,
  format: DatasetFormat,
  receivedAt: number,
): AsyncGenerator<TrackedEvent> {
  for await (const row of readInteractions(path, format)) {
    yield {
      eventId: `${format}:${row.user}:${row.item}:${row.timestamp}`,
      name: row.event ?? 'rated',
      userId: row.user,
      itemId: row.item,
      timestamp: row.timestamp,
      receivedAt,
      context: {},
      properties: row.rating === null ? {} : { rating: row.rating },
      requestId: null,
    };
  }
}

/** JSON lines are events in the API's own shape and go through the API's validation, line by line. */
async function* jsonlEvents(path: string, rejected: string[]): AsyncGenerator<TrackedEvent> {
  for await (const { text, line } of readLines(path)) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      rejected.push(`line ${line}: not valid JSON`);
      continue;
    }
    const result = validateEventBatch(body, { now: Date.now(), maxEvents: 1 });
    if ('fatal' in result) rejected.push(`line ${line}: ${result.fatal}`);
    else {
      for (const error of result.errors) rejected.push(`line ${line}: ${error.field}: ${error.message}`);
      for (const { event } of result.events) yield event;
    }
  }
}

export async function importFile(options: ImportOptions): Promise<void> {
  // Before the store is created: a mistyped path must not leave an empty data directory behind.
  await readableFile(options.path);
  const started = performance.now();
  const engine = await Engine.open(cliEngineConfig(options.dataDir, { retrainIntervalMs: null }));
  try {
    const rejected: string[] = [];
    const events =
      options.format === 'jsonl'
        ? jsonlEvents(options.path, rejected)
        : ratingEvents(options.path, options.format, Date.now());
    const result = await appendInBatches(engine, events, createProgress(), 'importing');
    for (const line of rejected.slice(0, 20)) process.stderr.write(`rejected ${line}\n`);
    if (rejected.length > 20) process.stderr.write(`… and ${rejected.length - 20} more rejected lines\n`);
    const record = { ...result, rejected: rejected.length };
    if (options.json === true) {
      process.stdout.write(`${JSON.stringify(record)}\n`);
      return;
    }
    const elapsed = (performance.now() - started) / 1000;
    process.stdout.write(
      summary(`imported ${count(result.stored)} events from ${options.path} in ${seconds(elapsed)}`, [
        ['stored', `${count(result.stored)} new events in ${storeName(options.dataDir)}`],
        ['duplicates', result.duplicates > 0 ? `${count(result.duplicates)} already stored, skipped` : null],
        [
          'rejected',
          rejected.length > 0 ? `${count(rejected.length)} lines (the first 20 are listed above)` : null,
        ],
        ['next', 'attune train   (then attune serve)'],
      ]),
    );
  } finally {
    await engine.close();
  }
}
