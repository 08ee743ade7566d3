import { randomUUID } from 'node:crypto';

const MAX_TIME = 2 ** 48 - 1;

/**
 * A UUID version 7 (RFC 9562): the Unix time in milliseconds in its first 48 bits, then 74 random bits.
 * For the ids of rows the engine logs as it serves (impressions, decisions) and of events sent without
 * one, which the stores index: random version 4 ids put each new row on a random leaf of that index, so a
 * commit of 100 rows wrote ~100 index pages to the WAL; ids that grow with time append at its right edge.
 * Inserting impressions into SQLite took 84–110 µs a row with version 4 ids and 53–55 with these (a probe
 * of 40,000 rows over 300,000, batches of 100). They remain unguessable, and say when they were made.
 *
 * Built from `randomUUID`, whose random bytes come from a pool (one `getRandomValues` call per 128 ids):
 * its first 48 bits become the time and its version nibble a 7; its variant bits are already RFC 9562's.
 * A time outside the 48 bits (before 1970, a simulated clock; after the year 10889) is clamped into them,
 * so the id is always well formed.
 */
export function timeOrderedId(now: number = Date.now()): string {
  const random = randomUUID();
  const ms = Math.min(Math.max(Math.trunc(now), 0), MAX_TIME) || 0;
  const time = ms.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}
