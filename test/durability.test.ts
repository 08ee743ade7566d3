import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { EventBody, EventJson, EventsReply } from './helpers.js';
import { assertBuilt, getJson, killAll, postJson, startServer, stopProcess } from './process.js';

/**
 * Acknowledged events survive `kill -9`: the real CLI server in its own process, killed with SIGKILL
 * while requests are still in flight, then a new process on the same data directory.
 */
let dir: string;
const killHard = (child: Parameters<typeof stopProcess>[0]) => stopProcess(child);

const USERS = ['dur-0', 'dur-1', 'dur-2', 'dur-3'];
const BATCH = 100;

/** Batch `b`: BATCH events spread over the users, with ids that say which batch they belong to. */
function batch(b: number): EventBody[] {
  const base = Date.now() - 3600_000;
  return Array.from({ length: BATCH }, (_, i) => ({
    event: i % 10 === 0 ? 'purchased' : 'product_viewed',
    user_id: USERS[i % USERS.length]!,
    item_id: `dur-item-${(b * 7 + i) % 50}`,
    timestamp: base + b * BATCH + i,
    event_id: `b${b}-e${i}`,
    context: { batch: b },
  }));
}

async function storedIds(url: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (const user of USERS) {
    const reply = await getJson<{ events: EventJson[] }>(`${url}/v1/users/${user}/events?limit=1000`);
    expect(reply.status).toBe(200);
    for (const e of reply.body.events) found.add(e.event_id);
  }
  return found;
}

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), 'attune-durability-'));
});

afterAll(async () => {
  await killAll();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('durability with a real process', () => {
  it('every acknowledged event survives kill -9 of the server', { timeout: 120_000 }, async () => {
    const first = await startServer(dir);

    // Sequential batches, each acknowledged before the next.
    const acknowledged: number[] = [];
    for (let b = 0; b < 3; b++) {
      const reply = await postJson<EventsReply>(`${first.url}/v1/events`, { events: batch(b) });
      expect(reply.status, first.log()).toBe(200);
      expect(reply.body).toMatchObject({ accepted: BATCH, rejected: 0 });
      acknowledged.push(b);
    }
    // A single event, not a batch.
    const single = await postJson<EventsReply>(`${first.url}/v1/events`, {
      event: 'purchased',
      user_id: USERS[0],
      item_id: 'dur-item-single',
      event_id: 'single-1',
    });
    expect(single.status).toBe(200);

    // Then many batches at once; kill -9 as soon as some are acknowledged, others still in flight.
    const inFlight = Array.from({ length: 30 }, (_, k) => k + 3);
    const kill: { done: Promise<void> | null } = { done: null };
    const refused: string[] = [];
    let lost = 0;
    await Promise.all(
      inFlight.map(async (b) => {
        let reply: { status: number; body: EventsReply };
        try {
          reply = await postJson<EventsReply>(`${first.url}/v1/events`, { events: batch(b) });
        } catch {
          lost += 1; // the connection died with the process: not acknowledged
          return;
        }
        if (reply.status !== 200 || reply.body.accepted !== BATCH) {
          refused.push(`batch ${b}: ${reply.status} ${JSON.stringify(reply.body)}`);
          return;
        }
        // A reply that arrived is a complete acknowledgement, even one that raced the kill.
        acknowledged.push(b);
        if (acknowledged.length === 3 + 5) kill.done = killHard(first.child);
      }),
    );
    await (kill.done ?? killHard(first.child));
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(refused).toEqual([]);
    expect(acknowledged.length - 3 + lost).toBe(inFlight.length);
    expect(acknowledged.length).toBeGreaterThanOrEqual(3 + 5);

    const second = await startServer(dir);
    const found = await storedIds(second.url);
    const missing: string[] = [];
    for (const b of acknowledged) {
      for (const e of batch(b)) if (!found.has(e.event_id!)) missing.push(e.event_id!);
    }
    expect(missing, `acknowledged but lost after kill -9 (${missing.length})`).toEqual([]);
    expect(found.has('single-1')).toBe(true);

    // Batches are atomic: one that was in flight at the kill is stored whole or not at all.
    for (const b of inFlight) {
      const present = batch(b).filter((e) => found.has(e.event_id!)).length;
      expect([0, BATCH], `batch ${b}: ${present} of ${BATCH} stored`).toContain(present);
    }

    // Items created by events survived as well; re-sending acknowledged events is idempotent.
    const item = await getJson<{ item: { id: string } }>(`${second.url}/v1/items/dur-item-single`);
    expect(item.status).toBe(200);
    const resend = await postJson<EventsReply>(`${second.url}/v1/events`, { events: batch(0) });
    expect(resend.body).toMatchObject({ accepted: 0, duplicates: BATCH });

    await killHard(second.child);
  });

  it(
    'SIGTERM finishes what is in flight, flushes the logs and exits cleanly',
    { timeout: 120_000 },
    async () => {
      const termDir = await mkdtemp(join(tmpdir(), 'attune-sigterm-'));
      try {
        const server = await startServer(termDir);
        await postJson(`${server.url}/v1/events`, { events: batch(100) });
        // A served list whose impression is still queued for the background writer when the signal comes.
        const served = await getJson<{ request_id: string }>(
          `${server.url}/v1/recommendations?user_id=${USERS[1]}&n=5`,
        );
        expect(served.status).toBe(200);
        const inFlight = Array.from({ length: 20 }, (_, k) => k + 101);
        const replies = inFlight.map((b) =>
          postJson<EventsReply>(`${server.url}/v1/events`, { events: batch(b) }).then(
            (reply) => ({ b, reply }),
            () => ({ b, reply: null }),
          ),
        );
        const exited = new Promise<number | null>((resolve) =>
          server.child.once('exit', (code) => resolve(code)),
        );
        server.child.kill('SIGTERM');
        const settled = await Promise.all(replies);
        expect(await exited).toBe(0);
        const acknowledged = settled.filter((s) => s.reply?.status === 200).map((s) => s.b);
        // Every reply that came is an acknowledgement, or (for a request the server read only after closing
        // began: on a loaded machine some of the twenty are) Fastify's 503, which a client or load balancer
        // retries elsewhere: nothing half-answered, no other error.
        expect(settled.filter((s) => s.reply !== null && ![200, 503].includes(s.reply.status))).toEqual([]);

        const again = await startServer(termDir);
        const found = await storedIds(again.url);
        for (const b of [100, ...acknowledged]) {
          const missing = batch(b).filter((e) => !found.has(e.event_id!));
          expect(missing, `batch ${b}`).toEqual([]);
        }
        // A refused batch was never handled: none of it is stored.
        for (const { b } of settled.filter((s) => s.reply?.status === 503)) {
          expect(
            batch(b).filter((e) => found.has(e.event_id!)),
            `refused batch ${b}`,
          ).toEqual([]);
        }
        const impression = await getJson(`${again.url}/v1/impressions/${served.body.request_id}`);
        expect(impression.status).toBe(200);
        await stopProcess(again.child, 'SIGTERM');
        expect(again.child.exitCode).toBe(0);
      } finally {
        await rm(termDir, { recursive: true, force: true });
      }
    },
  );
});
