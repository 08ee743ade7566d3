import type { TrackedEvent } from '../../events/types.js';
import type { Impression } from '../../recommendations/impression.js';
import type { EpochMs, ScalarRecord } from '../../shared/types.js';
import type { ExperimentMetrics } from './compute.js';

/** Builders of hand-made event logs, for tests. */

export const T0: EpochMs = Date.UTC(2025, 0, 6);

let nextEventId = 0;

/** An event as the store returns it; `requestId` is lifted from `properties.request_id` as ingestion does. */
export function trackedEvent(
  userId: string,
  name: string,
  timestamp: EpochMs,
  fields: { readonly itemId?: string | null; readonly properties?: ScalarRecord } = {},
): TrackedEvent {
  const properties = fields.properties ?? {};
  const requestId = properties['request_id'];
  return {
    eventId: `e${nextEventId++}`,
    name,
    userId,
    itemId: fields.itemId ?? null,
    timestamp,
    receivedAt: timestamp,
    context: {},
    properties,
    requestId: typeof requestId === 'string' ? requestId : null,
  };
}

/** A served list of `itemIds` in order. */
export function servedList(
  requestId: string,
  userId: string,
  createdAt: EpochMs,
  itemIds: readonly string[],
): Impression {
  return {
    requestId,
    userId,
    createdAt,
    surface: 'recommendations',
    model: 'als',
    modelVersion: 1,
    fallback: false,
    items: itemIds.map((itemId, position) => ({ itemId, position, score: 1 - position / 100 })),
  };
}

/** Splits records into batches of `size`, as a store scan yields them. */
export function inBatches<T>(records: readonly T[], size = 3): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < records.length; i += size) batches.push(records.slice(i, i + size));
  return batches;
}

/**
 * A metric's per-user values from a result, keyed by user id, in the reference's shape (`reference.ts`):
 * `[value, covariate]`, `[numerator, denominator, covNumerator, covDenominator]`, or null for a retention
 * user not yet eligible.
 */
export function valuesByUser(result: ExperimentMetrics, metric: number): Map<string, number[] | null> {
  const out = new Map<string, number[] | null>();
  const found = result.metrics[metric]!;
  result.variants.forEach((variant, v) => {
    if (found.kind === 'ratio') {
      const r = found.byVariant[v]!;
      variant.userIds.forEach((id, i) =>
        out.set(id, [
          r.numerator[i]!,
          r.denominator[i]!,
          r.covariateNumerator[i]!,
          r.covariateDenominator[i]!,
        ]),
      );
      return;
    }
    const s = found.byVariant[v]!;
    if (s.users === null) {
      variant.userIds.forEach((id, i) => out.set(id, [s.value[i]!, s.covariate[i]!]));
      return;
    }
    for (const id of variant.userIds) out.set(id, null);
    s.users.forEach((position, i) => out.set(variant.userIds[position]!, [s.value[i]!, s.covariate[i]!]));
  });
  return out;
}
