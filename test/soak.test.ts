import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openLoopLoad } from '../bench/load.js';
import type { EventBody } from './helpers.js';
import { assertBuilt, killAll, postJson, startServer, stopProcess } from './process.js';

/**
 * The soak benchmark (`bench/soak.ts`: 10 minutes at 1,000 requests/s) at a size `npm test` can afford:
 * the real server takes mixed ingestion and recommendation traffic from an open-loop generator for 20 s;
 * every reply is a 200 and the server's memory after the warm-up stays flat.
 */
const RATE = 300;
const SECONDS = 20;
const USERS = 300;
const ITEMS = 120;

let dir: string;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), 'attune-soak-'));
});
afterAll(async () => {
  await killAll();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const rssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

function history(): EventBody[] {
  const base = Date.now() - 7 * 86_400_000;
  return Array.from({ length: 6_000 }, (_, n) => {
    const user = (n * 7919) % USERS;
    return {
      event: n % 6 === 5 ? 'purchased' : 'product_viewed',
      user_id: `soak-${user}`,
      item_id: `item-${(user % 4) * 30 + ((n * 13) % 30)}`,
      timestamp: base + n * 60_000,
    };
  });
}

describe('soak (reduced)', () => {
  it(
    `answers ${RATE} mixed requests/s for ${SECONDS} s without an error, memory flat`,
    { timeout: 120_000 },
    async () => {
      // The young generation at its full size from the start: V8 grows it under load, by up to ~48 MB of
      // resident memory, and where that growth fell after the warm-up (6 runs in 8 here) it read as a
      // climb of 12–16%, failing the bound. With it fixed, 4 runs of the same test measured −3 to −4%.
      const server = await startServer(
        dir,
        { ATTUNE_SELECTION: 'fixed', ATTUNE_RATE_LIMITS: 'ingest=100000' },
        ['--min-semi-space-size=16'],
      );
      const events = history();
      for (let start = 0; start < events.length; start += 1000) {
        const reply = await postJson(`${server.url}/v1/events`, {
          events: events.slice(start, start + 1000),
        });
        expect(reply.status).toBe(200);
      }
      expect(
        (await postJson<{ status: string }>(`${server.url}/v1/admin/train?wait=true`, {})).body.status,
      ).toBe('serving');

      const pid = server.child.pid!;
      const samples: number[] = [];
      const timer = setInterval(() => samples.push(rssMb(pid)), 1_000);
      const failures = new Map<string, number>();
      const result = await openLoopLoad({
        url: server.url,
        rate: RATE,
        seconds: SECONDS,
        path: (i) =>
          i % 2 === 0 ? `/v1/recommendations?user_id=soak-${(i * 31) % (USERS + 50)}&n=10` : '/v1/events',
        body: (i) =>
          i % 2 === 0
            ? null
            : JSON.stringify({
                event: i % 5 === 0 ? 'added_to_cart' : 'product_viewed',
                user_id: `soak-${(i * 17) % (USERS + 50)}`,
                item_id: `item-${(i * 11) % ITEMS}`,
                event_id: `soak-test-${i}`,
              }),
        onStatus: (status, i) => {
          if (status !== 200) {
            const key = `${i % 2 === 0 ? 'recommendations' : 'events'} ${status}`;
            failures.set(key, (failures.get(key) ?? 0) + 1);
          }
        },
      });
      clearInterval(timer);
      await stopProcess(server.child, 'SIGTERM');

      expect(Object.fromEntries(failures)).toEqual({});
      expect(result.ok).toBe(RATE * SECONDS);
      // After a quarter of the run (JIT, caches filling), resident memory may wobble with collections but
      // not climb: the last seconds' median within 15% of the first warm seconds'.
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
      const warm = samples.slice(Math.floor(samples.length / 4));
      const growth = median(warm.slice(-3)) / median(warm.slice(0, 3)) - 1;
      expect(growth, `resident MB over the run: ${samples.map(Math.round).join(' ')}`).toBeLessThan(0.15);
    },
  );
});
