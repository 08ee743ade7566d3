import { Engine } from '../../engine/index.js';
import { cliEngineConfig } from '../config.js';
import { validateEventBatch, type TrackedEvent } from '../../events/index.js';
import { readInteractions, readLines, type DatasetFormat } from '../../evaluation/index.js';
import { appendInBatches } from '../load.js';
import { createProgress } from '../progress.js';

export interface ImportOptions {
  readonly format: DatasetFormat;
  readonly path: string;
  readonly dataDir: string | undefined;
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
    process.stdout.write(`${JSON.stringify({ ...result, rejected: rejected.length })}\n`);
  } finally {
    await engine.close();
  }
}
