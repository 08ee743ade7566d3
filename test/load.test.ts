import { afterEach, describe, expect, it } from 'vitest';
import { openLoopLoad } from '../bench/load.js';
import { loopbackServer } from './loopback-server.js';

// The benches' open-loop generator (`bench/load.ts`) against a real node:http server: what a run's lead-in
// sends, and that its replies are reported apart from the run's percentiles.

const { serve, close } = loopbackServer();
afterEach(close);

describe('openLoopLoad', () => {
  it('sends the lead-in first, with indices after the run’s, and keeps it out of the percentiles', async () => {
    const fired: number[] = [];
    const received = new Set<string>();
    const started = performance.now();
    // The server is slow (40 ms a reply) for its first 0.3 s, then answers at once.
    const url = await serve((request, response) => {
      received.add(request.url ?? '');
      const wait = performance.now() - started < 300 ? 40 : 0;
      setTimeout(() => response.writeHead(200).end('{}'), wait);
    });
    const statuses = new Map<number, number>();
    const result = await openLoopLoad({
      url,
      rate: 200,
      seconds: 1,
      leadSeconds: 0.5,
      path: (index) => {
        fired.push(index);
        return `/r/${index}`;
      },
      onStatus: (status, index) => statuses.set(index, status),
    });

    // 100 lead-in requests (indices 200…299), then the run's 200 (indices 0…199), in that order.
    expect(fired).toEqual([
      ...Array.from({ length: 100 }, (_, i) => 200 + i),
      ...Array.from({ length: 200 }, (_, i) => i),
    ]);
    expect(received.size).toBe(300);
    expect(statuses.size).toBe(300);
    expect(result.sent).toBe(200);
    expect(result.ok).toBe(200);
    expect(result.lead).toMatchObject({ sent: 100, failed: 0 });
    // The slow start is the lead-in's, not the run's.
    expect(result.lead.maxMs).toBeGreaterThanOrEqual(40);
    expect(result.maxMs).toBeLessThan(40);
    expect(result.achievedRate).toBeGreaterThan(150);
  });

  it('measures everything when told there is no lead-in', async () => {
    const url = await serve((_request, response) => response.writeHead(503).end());
    const result = await openLoopLoad({ url, rate: 100, seconds: 0.5, leadSeconds: 0, path: () => '/' });
    expect(result).toMatchObject({ sent: 50, ok: 0, failed: 50, lead: { sent: 0, failed: 0 } });
  });
});
