import { describe, expect, it } from 'vitest';
import { explored, HOUR_MS, timelineStart } from './timeline.js';

describe('explored', () => {
  it('is a choice below the policy’s highest probability, ties being no exploration', () => {
    expect(explored({ probabilities: [0.9, 0.1], propensity: 0.9 })).toBe(false);
    expect(explored({ probabilities: [0.9, 0.1], propensity: 0.1 })).toBe(true);
    expect(explored({ probabilities: [0.5, 0.5], propensity: 0.5 })).toBe(false);
    expect(explored({ probabilities: [0.4, 0.4, 0.2], propensity: 0.2 })).toBe(true);
    expect(explored({ probabilities: [1 / 3, 1 / 3, 1 / 3], propensity: 1 / 3 })).toBe(false);
    expect(explored({ probabilities: [1], propensity: 1 })).toBe(false);
  });
});

describe('timelineStart', () => {
  it('ends the buckets with the one holding now, on UTC hour boundaries', () => {
    const now = Date.UTC(2026, 2, 10, 12, 30);
    expect(timelineStart(now, HOUR_MS, 1)).toBe(Date.UTC(2026, 2, 10, 12));
    expect(timelineStart(now, HOUR_MS, 24)).toBe(Date.UTC(2026, 2, 9, 13));
    expect(timelineStart(now, 24 * HOUR_MS, 2)).toBe(Date.UTC(2026, 2, 9));
  });
});
