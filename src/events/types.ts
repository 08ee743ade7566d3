import type { EpochMs, ScalarRecord } from '../shared/types.js';

/**
 * An event as Attune keeps it: everything the sender gave, normalised (ids as strings, time as epoch ms).
 * Later capabilities (features, experiments, bandits) read name, time, context and properties as given,
 * so nothing here is dropped or reinterpreted at ingestion.
 */
export interface TrackedEvent {
  /** The sender's idempotency key, or one Attune generated when none was given. */
  readonly eventId: string;
  /** The event name as sent, e.g. `product_viewed` or `Product Viewed`. */
  readonly name: string;
  readonly userId: string;
  /** The item the event is about; `null` for events about no item (sign-ups, searches). */
  readonly itemId: string | null;
  readonly timestamp: EpochMs;
  readonly receivedAt: EpochMs;
  readonly context: ScalarRecord;
  readonly properties: ScalarRecord;
  /** `properties.request_id` lifted out so that clicks and purchases link back to the served list. */
  readonly requestId: string | null;
}

/** What the store did with a batch of events. */
export interface AppendResult {
  /** How many events were newly committed. */
  readonly stored: number;
  /** Event ids that were already stored (sent before) and so were not stored again. */
  readonly duplicates: readonly string[];
  /** Item ids that events referred to and that the catalog did not yet have, created on the way. */
  readonly createdItems: readonly string[];
  /**
   * Aligned with the events given: the log position each was committed at, or `null` for a duplicate
   * (including the second copy of an id repeated in the batch). Positions increase along the batch, and a
   * position from `Store.lastEventSeq` is a settled prefix of the log, so "trained through position P" and
   * "state read through position P" say exactly which events are in.
   */
  readonly positions: readonly (number | null)[];
}

/**
 * What an event means as feedback for the models.
 * - `positive`: an implicit positive with a weight (view 1, add-to-cart 4, purchase 8).
 * - `negative`: the user turned the item down (dismissed, hid); the weight is how strongly.
 * - `exposure`: the item was shown (impression); not feedback, but seen.
 * - `none`: stored and available to features, but not used by the recommenders.
 */
export type FeedbackKind =
  | { readonly kind: 'positive'; readonly weight: number }
  | { readonly kind: 'negative'; readonly weight: number }
  | { readonly kind: 'exposure' }
  | { readonly kind: 'none' };
