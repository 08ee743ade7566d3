import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatasetParseError,
  formatFromPath,
  loadInteractions,
  readInteractions,
  type DatasetFormat,
  type Interaction,
} from './datasets.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attune-datasets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(name: string, text: string, format: DatasetFormat): Promise<Interaction[]> {
  const file = join(dir, name);
  await writeFile(file, text);
  return loadInteractions(file, format);
}

async function failure(name: string, text: string, format: DatasetFormat): Promise<DatasetParseError> {
  const error: unknown = await load(name, text, format).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(DatasetParseError);
  return error as DatasetParseError;
}

describe('ml100k', () => {
  it('reads tab-separated rows, seconds scaled to epoch ms', async () => {
    const rows = await load('u.data', '196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n', 'ml100k');
    expect(rows).toEqual([
      { user: '196', item: '242', rating: 3, timestamp: 881250949000 },
      { user: '186', item: '302', rating: 3.5, timestamp: 891717742000 },
    ]);
  });

  it('skips blank lines and accepts CRLF and a byte-order mark', async () => {
    const rows = await load('crlf.data', '\uFEFF1\t2\t5\t10\r\n\r\n3\t4\t1\t20\r\n', 'ml100k');
    expect(rows.map((row) => [row.user, row.item, row.timestamp])).toEqual([
      ['1', '2', 10_000],
      ['3', '4', 20_000],
    ]);
  });

  it('names the file and line of a malformed row', async () => {
    const error = await failure('bad.data', '1\t2\t5\t10\n\n1 2 5 10\n', 'ml100k');
    expect(error.line).toBe(3);
    expect(error.message).toMatch(/bad\.data:3: expected 4 tab-separated fields/);
    const time = await failure('badtime.data', '1\t2\t5\tyesterday\n', 'ml100k');
    expect(time.message).toMatch(/badtime\.data:1: timestamp is not epoch seconds/);
  });
});

describe('movielens-csv', () => {
  it('reads the columns named by the header', async () => {
    const text = 'userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n';
    const rows = await load('ratings.csv', text, 'movielens-csv');
    expect(rows).toEqual([
      { user: '1', item: '31', rating: 2.5, timestamp: 1260759144000 },
      { user: '1', item: '1029', rating: 3, timestamp: 1260759179000 },
    ]);
    const reordered = await load('reordered.csv', 'timestamp,movieId,userId\n5,7,9\n', 'movielens-csv');
    expect(reordered).toEqual([{ user: '9', item: '7', rating: null, timestamp: 5000 }]);
    const snake = await load('events.csv', 'user_id,item_id,time\nu1,sku-9,7\n', 'movielens-csv');
    expect(snake).toEqual([{ user: 'u1', item: 'sku-9', rating: null, timestamp: 7000 }]);
  });

  it('rejects a missing header and short rows with file and line', async () => {
    const header = await failure('noheader.csv', '1,31,2.5,1260759144\n', 'movielens-csv');
    expect(header.message).toMatch(/noheader\.csv:1: expected a header/);
    const short = await failure('short.csv', 'userId,movieId,rating,timestamp\n1,31,2.5\n', 'movielens-csv');
    expect(short.message).toMatch(/short\.csv:2: expected 4 comma-separated fields, found 3/);
    const rating = await failure(
      'rating.csv',
      'userId,movieId,rating,timestamp\n1,31,x,5\n',
      'movielens-csv',
    );
    expect(rating.message).toMatch(/rating\.csv:2: rating is not a number/);
  });
});

describe('jsonl', () => {
  it('reads events with an item, skips events without one', async () => {
    const lines = [
      { event: 'product_viewed', user_id: 'u1', item_id: 'i1', timestamp: '2024-01-02T03:04:05.000Z' },
      { event: 'signed_up', user_id: 'u2', timestamp: 1_700_000_000_000 },
      { event: 'order_completed', user_id: 7, product_id: 42, timestamp: 1_700_000_000_000 },
      { event: 'rated', user_id: 'u1', item_id: 'i2', timestamp: '1700000000001', properties: { rating: 4 } },
    ];
    const rows = await load('events.jsonl', lines.map((line) => JSON.stringify(line)).join('\n'), 'jsonl');
    expect(rows).toEqual([
      {
        user: 'u1',
        item: 'i1',
        rating: null,
        timestamp: Date.UTC(2024, 0, 2, 3, 4, 5),
        event: 'product_viewed',
      },
      { user: '7', item: '42', rating: null, timestamp: 1_700_000_000_000, event: 'order_completed' },
      { user: 'u1', item: 'i2', rating: 4, timestamp: 1_700_000_000_001, event: 'rated' },
    ]);
  });

  it('names the file and line of invalid JSON, a missing user and a bad timestamp', async () => {
    const ok = JSON.stringify({ event: 'v', user_id: 'u', item_id: 'i', timestamp: 1 });
    const json = await failure('broken.jsonl', `${ok}\n{"event": `, 'jsonl');
    expect(json.message).toMatch(/broken\.jsonl:2: not valid JSON/);
    const user = await failure('nouser.jsonl', '{"item_id": "i", "timestamp": 1}', 'jsonl');
    expect(user.message).toMatch(/nouser\.jsonl:1: missing user_id/);
    const time = await failure(
      'notime.jsonl',
      '{"user_id": "u", "item_id": "i", "timestamp": "soon"}',
      'jsonl',
    );
    expect(time.message).toMatch(/notime\.jsonl:1: timestamp must be epoch ms or an ISO 8601 string/);
    const array = await failure('array.jsonl', '[1, 2]', 'jsonl');
    expect(array.message).toMatch(/array\.jsonl:1: expected a JSON object/);
  });
});

describe('streaming', () => {
  it('yields rows lazily from a large file', async () => {
    const file = join(dir, 'large.data');
    const lines = Array.from({ length: 50_000 }, (_, k) => `${k % 97}\t${k % 1013}\t1\t${k}`);
    await writeFile(file, lines.join('\n'));
    let count = 0;
    let last: Interaction | undefined;
    for await (const row of readInteractions(file, 'ml100k')) {
      count += 1;
      last = row;
    }
    expect(count).toBe(50_000);
    expect(last).toEqual({
      user: String(49_999 % 97),
      item: String(49_999 % 1013),
      rating: 1,
      timestamp: 49_999_000,
    });
  });
});

describe('formatFromPath', () => {
  it('guesses by extension', () => {
    expect(formatFromPath('data/ml-100k/u.data')).toBe('ml100k');
    expect(formatFromPath('ratings.CSV')).toBe('movielens-csv');
    expect(formatFromPath('events.jsonl')).toBe('jsonl');
    expect(formatFromPath('events.ndjson')).toBe('jsonl');
  });
});
