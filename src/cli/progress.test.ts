import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { counted, createProgress, trainingProgress, type Progress } from './progress.js';

/** A stream that keeps what is written; a terminal when `tty`. */
function capture(tty: boolean) {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    }),
    { isTTY: tty, columns: 160 },
  );
  return { stream, text: () => text };
}

/** A plain (non-terminal) progress on a clock the test moves. */
function plain(intervalMs = 2_000) {
  const out = capture(false);
  let now = 0;
  const progress = createProgress({ stream: out.stream, intervalMs, now: () => now });
  return { progress, lines: () => out.text().trimEnd().split('\n'), advance: (ms: number) => (now += ms) };
}

describe('progress on a pipe (plain lines)', () => {
  it('known work: sparse lines with percentage, counts, rate and ETA', () => {
    const { progress, lines, advance } = plain();
    progress.update('reading events', 0, 1_000_000, 'events');
    // 100,000 events/s for 10 s, reported every 100 ms: a line every 2 s, not 100 lines.
    for (let done = 10_000; done <= 1_000_000; done += 10_000) {
      advance(100);
      progress.update('reading events', done, 1_000_000, 'events');
    }
    progress.stop();
    const out = lines();
    expect(out.length).toBeGreaterThanOrEqual(5);
    expect(out.length).toBeLessThanOrEqual(8);
    expect(out[0]).toBe('reading events  0/1,000,000 events');
    expect(out).toContain('reading events   20% 200,000/1,000,000 events  100,000 events/s  ETA 8.0s');
    expect(out.at(-1)).toBe('reading events  100% 1,000,000/1,000,000 events  100,000 events/s  done in 10s');
  });

  it('unknown size: a count and a rate, never a percentage', () => {
    const { progress, lines, advance } = plain(1_000);
    progress.update('importing', 0, null, 'events');
    for (let done = 1_000; done <= 30_000; done += 1_000) {
      advance(100);
      progress.update('importing', done, null, 'events');
    }
    progress.stop();
    const out = lines();
    expect(out[0]).toBe('importing…');
    expect(out).toContain('importing  10,000 events  10,000 events/s  1.0s elapsed');
    expect(out.at(-1)).toBe('importing  30,000 events  10,000 events/s  3.0s elapsed');
    for (const line of out) expect(line).not.toMatch(/%|\d\/\d/);
  });

  it("training's stages: markers are timed phases and selection a count, never `0/1`", () => {
    const { progress, lines, advance } = plain();
    const report = trainingProgress(progress);
    report('reading events', 0, 1);
    advance(1_500);
    report('reading events', 1, 1);
    report('selecting a model', 0, 6);
    for (let done = 1; done <= 40; done++) {
      advance(100);
      report('selecting a model', done, done + 1);
    }
    report('fitting als', 1, 15);
    advance(1_400);
    report('fitting als', 15, 15);
    progress.stop();
    const out = lines();
    expect(out).toEqual([
      'reading events…',
      'reading events: done in 1.5s',
      'selecting a model…',
      'selecting a model  20 candidates  10 candidates/s  2.0s elapsed',
      'selecting a model  40 candidates  10 candidates/s  4.0s elapsed',
      // No time has passed within the stage at its first report: no rate yet, so no ETA.
      'fitting als    6% 1/15 steps',
      'fitting als  100% 15/15 steps  11 steps/s  done in 1.4s',
    ]);
  });

  it('counts what passes through an iterable, batches by their size', async () => {
    const { progress, lines, advance } = plain(0);
    async function* batches() {
      for (let i = 0; i < 3; i++) {
        advance(1_000);
        yield [1, 2, 3, 4];
      }
    }
    const seen: number[][] = [];
    for await (const batch of counted(batches(), progress, 'scanning', 'events', {
      total: 12,
      size: (b) => b.length,
    }))
      seen.push(batch);
    progress.stop();
    expect(seen).toHaveLength(3);
    expect(lines().at(-1)).toBe('scanning  100% 12/12 events  4 events/s  done in 3.0s');
  });
});

describe('progress on a terminal', () => {
  it('draws a bar with the rate and an ETA, and a count without a bar for unknown sizes', async () => {
    const out = capture(true);
    const progress: Progress = createProgress({ stream: out.stream });
    progress.update('reading events', 0, 1_000_000, 'events');
    await new Promise((resolve) => setTimeout(resolve, 60));
    progress.update('reading events', 450_000, 1_000_000, 'events');
    progress.update('importing', 12_345, null, 'rows');
    progress.stop();
    const text = out.text();
    expect(text).toMatch(
      /reading events\s+\[[█░]+\] 45% 450,000\/1,000,000 events {2}[\d,.]+ events\/s {2}ETA \S+/,
    );
    expect(text).toMatch(/importing\s+12,345 rows {2}\S+ rows\/s {2}\d+s/);
    expect(text).not.toMatch(/importing.*%/);
  });
});
