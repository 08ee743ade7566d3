/**
 * The ingestion load both ingestion benches drive (`ingest.ts`, `features.ts`): pre-serialised batches
 * posted to `POST /v1/events` by autocannon over a few keep-alive connections for a fixed time.
 */
import autocannon from 'autocannon';
import { AUTH_HEADERS } from './server.js';

export interface IngestRun {
  readonly eventsPerSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/**
 * Posts `payloads` (each a batch of `batch` events, every event id unique) in turn for `seconds` over
 * `connections` connections. Throws when it runs out: reposting a body would measure deduplication.
 */
export async function postBatches(
  url: string,
  payloads: readonly string[],
  options: { readonly batch: number; readonly seconds: number; readonly connections: number },
): Promise<IngestRun> {
  let next = 0;
  const result = await autocannon({
    url: `${url}/v1/events`,
    connections: options.connections,
    duration: options.seconds,
    requests: [
      {
        method: 'POST',
        headers: { ...AUTH_HEADERS, 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: payloads[next++ % payloads.length]! }),
      },
    ],
  });
  if (next > payloads.length) throw new Error('ran out of unique bodies; raise the count');
  return {
    eventsPerSecond: (result['2xx'] * options.batch) / (result.duration || options.seconds),
    p99Ms: result.latency.p99,
    errors: result.non2xx + result.errors,
  };
}
