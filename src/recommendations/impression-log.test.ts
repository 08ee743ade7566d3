import { describe, expect, it } from 'vitest';
import type { Impression } from './impression.js';
import { ImpressionLog } from './impression-log.js';

const impression = (n: number): Impression => ({
  requestId: `r${n}`,
  userId: 'u1',
  createdAt: n,
  surface: 'recommendations',
  model: 'als',
  modelVersion: 1,
  fallback: false,
  items: [{ itemId: 'i1', position: 0, score: 1 }],
});

/** A store whose writes complete only when the test releases them: a disk that has fallen behind. */
function stalledStore() {
  const written: Impression[][] = [];
  const waiting: (() => void)[] = [];
  return {
    written,
    release: () => waiting.splice(0).forEach((resolve) => resolve()),
    appendImpressions: (batch: readonly Impression[]) =>
      new Promise<void>((resolve) =>
        waiting.push(() => {
          written.push([...batch]);
          resolve();
        }),
      ),
  };
}

describe('ImpressionLog', () => {
  it('writes in batches of maxPending, and the rest on flush', async () => {
    const store = stalledStore();
    const log = new ImpressionLog(store, { flushMs: 60_000, onError: () => {}, maxPending: 3 });
    for (let n = 0; n < 7; n++) log.record(impression(n));
    const flushed = log.flush();
    // The writes are chained: release each as it reaches the store.
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setImmediate(resolve));
      store.release();
    }
    await flushed;
    expect(store.written.map((batch) => batch.map((i) => i.requestId))).toEqual([
      ['r0', 'r1', 'r2'],
      ['r3', 'r4', 'r5'],
      ['r6'],
    ]);
    expect(log.queued).toBe(0);
  });

  it('drops and counts impressions beyond the backlog limit while the store is behind, then resumes', async () => {
    const store = stalledStore();
    let dropped = 0;
    const log = new ImpressionLog(store, {
      flushMs: 60_000,
      onError: () => {},
      onDrop: (count) => (dropped += count),
      maxPending: 2,
      maxBacklog: 4,
    });
    for (let n = 0; n < 10; n++) log.record(impression(n));
    expect(log.queued).toBe(4);
    expect(dropped).toBe(6);
    for (let round = 0; round < 2; round++) {
      await new Promise((resolve) => setImmediate(resolve));
      store.release();
    }
    await log.flush();
    expect(store.written.flat().map((i) => i.requestId)).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(log.queued).toBe(0);
    log.record(impression(10));
    const last = log.flush();
    await new Promise((resolve) => setImmediate(resolve));
    store.release();
    await last;
    expect(store.written.flat().map((i) => i.requestId)).toContain('r10');
    expect(dropped).toBe(6);
  });

  it('reports a failed write and frees its place in the backlog', async () => {
    const errors: unknown[] = [];
    const log = new ImpressionLog(
      { appendImpressions: () => Promise.reject(new Error('disk full')) },
      { flushMs: 60_000, onError: (error) => errors.push(error), maxPending: 10, maxBacklog: 10 },
    );
    log.record(impression(1));
    await log.flush();
    expect(errors).toHaveLength(1);
    expect(log.queued).toBe(0);
  });
});
