import type { EpochMs, ScalarRecord } from '../shared/types.js';

/** A catalog item as stored. */
export interface Item {
  readonly id: string;
  readonly categories: readonly string[];
  readonly tags: readonly string[];
  readonly price: number | null;
  /** Out-of-stock or withdrawn items stay in the catalog but are never recommended. */
  readonly available: boolean;
  readonly createdAt: EpochMs;
  /** After this time the item is never recommended. */
  readonly expiresAt: EpochMs | null;
  /** Free attributes (brand, colour, …). */
  readonly attributes: ScalarRecord;
  readonly updatedAt: EpochMs;
}

/** A user as stored: only traits the product team chose to send. */
export interface User {
  readonly id: string;
  readonly traits: ScalarRecord;
  readonly createdAt: EpochMs;
  readonly updatedAt: EpochMs;
}
