import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mulberry32 } from '../src/models/random.js';
import { DATABASE_FILE } from '../src/store/index.js';
import type { EventBody, EventsReply } from './helpers.js';
import {
  assertBuilt,
  getJson,
  killAll,
  postJson,
  startServer,
  stopProcess,
  type ServerProcess,
} from './process.js';

/**
 * Crash test: 20 rounds of `kill -9` at a random moment while the real server ingests, serves and trains
 * at once (two writers posting batches, a reader asking for lists, a training run started at a random
 * moment). After every restart each acknowledged event is stored, every batch is whole or absent, a model
 * serves (never an older one than before the crash), and recommendations are answered.
 */
const ROUNDS = 20;
const USERS = 40;
const ITEMS = 60;
const BATCH = 50;
const SEED = Number(process.env['ATTUNE_CRASH_SEED'] ?? randomInt(1, 2 ** 31));

interface ModelsReply {
  readonly serving: { readonly version: number } | null;
}

let dir: string;

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), 'attune-crash-'));
});

afterAll(async () => {
  await killAll();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function batchOf(round: number, b: number, random: () => number): EventBody[] {
  const base = Date.now() - 86_400_000;
  return Array.from({ length: BATCH }, (_, i) => {
    const user = Math.floor(random() * USERS);
    // Each user leans to one end of the catalog: something for the models to learn.
    const item = (user % 2 === 0 ? 0 : ITEMS / 2) + Math.floor(random() * (ITEMS / 2));
    return {
      event: random() < 0.15 ? 'purchased' : 'product_viewed',
      user_id: `crash-user-${user}`,
      item_id: `crash-item-${item}`,
      timestamp: base + round * 100_000 + b * BATCH + i,
      event_id: `r${round}-b${b}-e${i}`,
    };
  });
}

/** Every event id in the database, read beside the running server (WAL lets a reader in). */
function storedIds(): Set<string> {
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return new Set(db.prepare('SELECT event_id FROM events').pluck().all() as string[]);
  } finally {
    db.close();
  }
}

async function servingVersion(server: ServerProcess): Promise<number> {
  const reply = await getJson<ModelsReply>(`${server.url}/v1/models`);
  expect(reply.status, server.log()).toBe(200);
  return reply.body.serving?.version ?? 0;
}

describe('crash test with a real process', () => {
  it(
    `loses no acknowledged event and no model over ${ROUNDS} rounds of kill -9 (seed ${SEED})`,
    { timeout: 300_000 },
    async () => {
      const random = mulberry32(SEED);
      const sent = new Map<string, EventBody[]>();
      const acknowledged = new Set<string>();
      let trainingsStarted = 0;
      let killsWhileTraining = 0;

      // A first model, so that every later round has one to keep serving.
      const first = await startServer(dir, { ATTUNE_SELECTION: 'fixed' });
      for (let b = 0; b < 8; b++) {
        const events = batchOf(0, b, random);
        const reply = await postJson<EventsReply>(`${first.url}/v1/events`, { events });
        expect(reply.status).toBe(200);
        sent.set(`0/${b}`, events);
        acknowledged.add(`0/${b}`);
      }
      const trained = await postJson<{ status: string }>(`${first.url}/v1/admin/train?wait=true`, {});
      expect(trained.body.status, first.log()).toBe('serving');
      let lastVersion = await servingVersion(first);
      await stopProcess(first.child);

      for (let round = 1; round <= ROUNDS; round++) {
        const server = await startServer(dir, { ATTUNE_SELECTION: 'fixed' });
        const context = `round ${round} (seed ${SEED})`;

        // Everything acknowledged so far is stored; every batch is whole or absent.
        const ids = storedIds();
        for (const [key, events] of sent) {
          const present = events.filter((e) => ids.has(e.event_id!)).length;
          if (acknowledged.has(key))
            expect(present, `${context}: acknowledged batch ${key}`).toBe(events.length);
          else expect([0, events.length], `${context}: batch ${key} half stored`).toContain(present);
        }
        // The last good model serves (never an older one), and lists are answered.
        const version = await servingVersion(server);
        expect(version, `${context}: serving version`).toBeGreaterThanOrEqual(lastVersion);
        lastVersion = version;
        const list = await getJson<{ items: unknown[]; model: string }>(
          `${server.url}/v1/recommendations?user_id=crash-user-${round % USERS}&n=5`,
        );
        expect(list.status, `${context}: ${server.log()}`).toBe(200);
        expect(list.body.items.length).toBeGreaterThan(0);
        // No stored model was found unreadable (a half-written one would be).
        expect(server.log(), context).not.toMatch(/cannot be loaded|malformed|corrupt/i);

        // Mixed load, then kill -9 at a random moment.
        let stop = false;
        let b = 0;
        const writer = async () => {
          while (!stop) {
            const key = `${round}/${b}`;
            const events = batchOf(round, b++, random);
            sent.set(key, events);
            try {
              const reply = await postJson<EventsReply>(`${server.url}/v1/events`, { events });
              if (reply.status === 200 && reply.body.accepted === events.length) acknowledged.add(key);
            } catch {
              return; // the process is gone: this batch was not acknowledged
            }
          }
        };
        const reader = async () => {
          while (!stop) {
            try {
              await getJson(`${server.url}/v1/recommendations?user_id=crash-user-${b % USERS}&n=10`);
            } catch {
              return;
            }
          }
        };
        const trainAfter = Math.floor(random() * 600);
        const killAfter = 100 + Math.floor(random() * 1_400);
        let training = false;
        const trainer = (async () => {
          await new Promise((resolve) => setTimeout(resolve, trainAfter));
          if (stop) return;
          try {
            const reply = await postJson<{ status: string }>(`${server.url}/v1/admin/train`, {});
            if (reply.status === 202) {
              trainingsStarted++;
              training = true;
            }
          } catch {
            // killed first
          }
        })();
        const load = Promise.all([writer(), writer(), reader(), trainer]);
        await new Promise((resolve) => setTimeout(resolve, killAfter));
        if (training) killsWhileTraining++;
        await stopProcess(server.child);
        stop = true;
        await load;
      }

      // After the last kill: one more start checks the last round.
      const last = await startServer(dir, { ATTUNE_SELECTION: 'fixed' });
      const ids = storedIds();
      const lost = [...acknowledged].filter((key) => sent.get(key)!.some((e) => !ids.has(e.event_id!)));
      expect(lost, `seed ${SEED}`).toEqual([]);
      expect(await servingVersion(last)).toBeGreaterThanOrEqual(lastVersion);
      await stopProcess(last.child, 'SIGTERM');
      console.info(
        `crash test (seed ${SEED}): ${ROUNDS} kills, ${acknowledged.size} batches acknowledged, ` +
          `${trainingsStarted} training runs started, ${killsWhileTraining} kills after a run had started, ` +
          `serving version ${lastVersion}`,
      );
      // The rounds did what they claim: load was acknowledged, and trainings were cut off mid-run.
      expect(acknowledged.size).toBeGreaterThan(ROUNDS);
      expect(trainingsStarted).toBeGreaterThan(0);
      expect(killsWhileTraining).toBeGreaterThan(0);
    },
  );
});
