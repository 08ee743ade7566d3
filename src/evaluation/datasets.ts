import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { EpochMs } from '../shared/types.js';

/**
 * One row of an interaction file: every row is an implicit positive, whatever its rating. Ids stay the
 * strings of the file; `timestamp` is epoch milliseconds for every format (MovieLens seconds are scaled
 * by 1000), which keeps each user's ordering — all the evaluation protocol reads — and is the unit every
 * time inside Attune uses, so `attune import` can take the rows as they come.
 */
export interface Interaction {
  readonly user: string;
  readonly item: string;
  readonly rating: number | null;
  readonly timestamp: EpochMs;
  /** The event name, for formats that carry one (`jsonl`); MovieLens rows have none. */
  readonly event?: string;
}

export type DatasetFormat = 'ml100k' | 'movielens-csv' | 'jsonl';

export const datasetFormats: readonly DatasetFormat[] = ['ml100k', 'movielens-csv', 'jsonl'];

/** A line that cannot be read; the message names the file and the 1-based line number. */
export class DatasetParseError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'DatasetParseError';
  }
}

/** Where a line came from, for error messages. */
export interface LineSource {
  readonly file: string;
  readonly line: number;
}

/**
 * The lines of a text file with their 1-based numbers, read as a stream so a file of tens of millions of
 * lines never sits in memory. Blank lines are skipped; a leading byte-order mark is dropped.
 */
export async function* readLines(file: string): AsyncGenerator<{ text: string; line: number }> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  for await (const raw of lines) {
    line += 1;
    const text = line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (text.trim() === '') continue;
    yield { text, line };
  }
}

const secondsPattern = /^\d+(\.\d+)?$/;

function fail(at: LineSource, reason: string): never {
  throw new DatasetParseError(at.file, at.line, reason);
}

function idField(value: string | undefined, name: string, at: LineSource): string {
  const id = value?.trim() ?? '';
  if (id === '') fail(at, `missing ${name}`);
  return id;
}

function ratingField(value: string | undefined, at: LineSource): number | null {
  const text = value?.trim() ?? '';
  if (text === '') return null;
  const rating = Number(text);
  if (!Number.isFinite(rating)) fail(at, `rating is not a number: ${JSON.stringify(text)}`);
  return rating;
}

function secondsField(value: string | undefined, at: LineSource): EpochMs {
  const text = value?.trim() ?? '';
  if (!secondsPattern.test(text)) fail(at, `timestamp is not epoch seconds: ${JSON.stringify(text)}`);
  return Math.round(Number(text) * 1000);
}

/** `user<TAB>item<TAB>rating<TAB>timestamp` (MovieLens 100K `u.data`), timestamp in epoch seconds. */
export function parseMl100kLine(text: string, at: LineSource): Interaction {
  const fields = text.split('\t');
  if (fields.length !== 4) {
    fail(at, `expected 4 tab-separated fields (user item rating timestamp), found ${fields.length}`);
  }
  return {
    user: idField(fields[0], 'user id', at),
    item: idField(fields[1], 'item id', at),
    rating: ratingField(fields[2], at),
    timestamp: secondsField(fields[3], at),
  };
}

/** Column positions of a MovieLens CSV, read from its header so reordered columns still work. */
export interface CsvColumns {
  readonly user: number;
  readonly item: number;
  readonly rating: number | null;
  readonly timestamp: number;
  readonly width: number;
}

/**
 * Reads the header line `userId,movieId,rating,timestamp` (the `rating` column is optional). Exports from
 * other domains name the same columns differently, so `user_id`, `itemId` / `item_id` and `time` are
 * accepted too.
 */
export function parseMovielensCsvHeader(text: string, at: LineSource): CsvColumns {
  const names = text.split(',').map((name) => name.trim());
  const find = (...candidates: string[]): number => names.findIndex((name) => candidates.includes(name));
  const user = find('userId', 'user_id');
  const item = find('movieId', 'itemId', 'item_id');
  const timestamp = find('timestamp', 'time');
  if (user < 0 || item < 0 || timestamp < 0) {
    fail(at, `expected a header with userId, movieId and timestamp columns, found ${JSON.stringify(text)}`);
  }
  const rating = find('rating');
  return { user, item, rating: rating < 0 ? null : rating, timestamp, width: names.length };
}

/** One data line of a MovieLens CSV (ids and numbers only, so no quoting to handle). */
export function parseMovielensCsvLine(text: string, columns: CsvColumns, at: LineSource): Interaction {
  const fields = text.split(',');
  if (fields.length !== columns.width) {
    fail(at, `expected ${columns.width} comma-separated fields, found ${fields.length}`);
  }
  return {
    user: idField(fields[columns.user], 'userId', at),
    item: idField(fields[columns.item], 'movieId', at),
    rating: columns.rating === null ? null : ratingField(fields[columns.rating], at),
    timestamp: secondsField(fields[columns.timestamp], at),
  };
}

function jsonId(value: unknown, name: string, at: LineSource): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return fail(at, `${name} must be a non-empty string or a number, found ${JSON.stringify(value)}`);
}

const digitsPattern = /^\d+$/;

/** An event time: epoch ms as a number or a string of digits, or an ISO 8601 string. */
function jsonTime(value: unknown, at: LineSource): EpochMs {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const time = digitsPattern.test(value) ? Number(value) : Date.parse(value);
    if (Number.isFinite(time)) return time;
  }
  return fail(at, `timestamp must be epoch ms or an ISO 8601 string, found ${JSON.stringify(value)}`);
}

/**
 * One Attune event per line: `{"event", "user_id", "item_id" | "product_id", "timestamp", …}`. Returns
 * `null` for events about no item (sign-ups, searches): they are not interactions. A numeric `rating`
 * (top level or in `properties`) is kept.
 */
export function parseJsonlLine(text: string, at: LineSource): Interaction | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail(at, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail(at, 'expected a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  const item = jsonId(record['item_id'] ?? record['product_id'], 'item_id', at);
  if (item === null) return null;
  const user = jsonId(record['user_id'], 'user_id', at);
  if (user === null) return fail(at, 'missing user_id');
  const event = record['event'];
  if (event !== undefined && typeof event !== 'string') fail(at, 'event must be a string');
  const properties = record['properties'];
  const nested =
    typeof properties === 'object' && properties !== null
      ? (properties as Record<string, unknown>)['rating']
      : undefined;
  const rating = record['rating'] ?? nested;
  return {
    user,
    item,
    rating: typeof rating === 'number' && Number.isFinite(rating) ? rating : null,
    timestamp: jsonTime(record['timestamp'], at),
    ...(event === undefined ? {} : { event }),
  };
}

/** Streams the interactions of a file in one of the supported formats, in file order. */
export async function* readInteractions(file: string, format: DatasetFormat): AsyncGenerator<Interaction> {
  let columns: CsvColumns | null = null;
  for await (const { text, line } of readLines(file)) {
    const at = { file, line };
    switch (format) {
      case 'ml100k':
        yield parseMl100kLine(text, at);
        break;
      case 'movielens-csv':
        if (columns === null) columns = parseMovielensCsvHeader(text, at);
        else yield parseMovielensCsvLine(text, columns, at);
        break;
      case 'jsonl': {
        const interaction = parseJsonlLine(text, at);
        if (interaction !== null) yield interaction;
        break;
      }
    }
  }
}

/** Reads a whole file into memory; fine for small sets such as MovieLens 100K. */
export async function loadInteractions(file: string, format: DatasetFormat): Promise<Interaction[]> {
  const rows: Interaction[] = [];
  for await (const row of readInteractions(file, format)) rows.push(row);
  return rows;
}

/**
 * Guesses a file's format from its name: `.jsonl`/`.ndjson` are events, `.csv` is the MovieLens CSV
 * layout, anything else (`u.data`) the tab-separated 100K layout.
 */
export function formatFromPath(file: string): DatasetFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'movielens-csv';
  return 'ml100k';
}
