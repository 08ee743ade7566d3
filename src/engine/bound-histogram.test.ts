import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { BoundHistogram } from './bound-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

describe('BoundHistogram', () => {
  it("scrapes as prom-client's histogram does for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const bound = new BoundHistogram('t_seconds', 'help text', ['stage', 'kind'], BUCKETS, ours);
    const reference = new Histogram({
      name: 't_seconds',
      help: 'help text',
      labelNames: ['stage', 'kind'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const observations: [string, string, number][] = [
      ['score', 'a', 0.0005],
      ['score', 'a', 0.001], // on a bound: counted in it, as Prometheus's `le` says
      ['score', 'a', 0.5],
      ['score', 'a', 7], // above every bound: +Inf only
      ['select', 'b', 0.05],
      ['select', 'a', 0],
    ];
    for (const [stage, kind, value] of observations) {
      bound.child({ stage, kind }).observe(value);
      reference.observe({ stage, kind }, value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());

    ours.resetMetrics();
    theirs.resetMetrics();
    bound.child({ stage: 'score', kind: 'a' }).observe(0.2);
    reference.observe({ stage: 'score', kind: 'a' }, 0.2);
    // After a reset prom-client forgets label sets; ours keeps them at zero, which Prometheus reads the same.
    expect(await ours.metrics()).toContain('t_seconds_bucket{le="0.1",stage="score",kind="a"} 0');
    expect(await ours.metrics()).toContain('t_seconds_count{stage="score",kind="a"} 1');
    expect(await theirs.metrics()).toContain('t_seconds_count{stage="score",kind="a"} 1');
  });

  it('keeps one label set per distinct values, and ignores a NaN duration', async () => {
    const registry = new Registry();
    const bound = new BoundHistogram('u_seconds', 'h', ['stage'], BUCKETS, registry);
    expect(bound.child({ stage: 'x' })).toBe(bound.child({ stage: 'x' }));
    bound.child({ stage: 'x' }).observe(Number.NaN);
    bound.child({ stage: 'x' }).observe(0.02);
    expect(await registry.metrics()).toContain('u_seconds_count{stage="x"} 1');
    expect(await registry.metrics()).toContain('u_seconds_sum{stage="x"} 0.02');
    expect(() => new BoundHistogram('v', 'h', [], [1, 1], registry)).toThrow(/distinct/);
  });
});
