/**
 * The server's Prometheus text (`GET /metrics`) as samples, for benches that read what the server measured
 * of itself (collections, event-loop delay, request and stage histograms, what it holds).
 */
import { benchFetch } from './server.js';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every sample line of `text` (comments skipped); label values as written (no escapes in ours). */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const [, name, labelText, value] of text.matchAll(/^(\w+)(?:\{([^}]*)\})? (\S+)$/gm)) {
    const labels: Record<string, string> = {};
    for (const [, key, labelValue] of (labelText ?? '').matchAll(/(\w+)="([^"]*)"/g)) {
      labels[key!] = labelValue!;
    }
    samples.push({ name: name!, labels, value: Number(value) });
  }
  return samples;
}

/** The samples the server at `url` reports now. */
export async function scrape(url: string): Promise<Sample[]> {
  return parseSamples(await (await benchFetch(`${url}/metrics`)).text());
}

/** The result cache's lists so far by outcome (`hit`, `miss`, `shared_hit`): `attune_recommendation_cache_total`. */
export async function cacheCounts(url: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { name, labels, value } of await scrape(url)) {
    if (name === 'attune_recommendation_cache_total') counts[labels['result']!] = value;
  }
  return counts;
}

/**
 * The share of lists served from this instance's result cache between two `cacheCounts` readings; null
 * when no list was counted (a server without these metrics, such as the floor).
 */
export function cacheHitShare(before: Record<string, number>, after: Record<string, number>): number | null {
  const change = (result: string) => (after[result] ?? 0) - (before[result] ?? 0);
  const lists = change('hit') + change('miss');
  return lists === 0 ? null : change('hit') / lists;
}
