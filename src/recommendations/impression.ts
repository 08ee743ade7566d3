import type { EpochMs } from '../shared/types.js';

/** One served list, logged so that later clicks and purchases (by `request_id`) link back to it. */
export interface Impression {
  readonly requestId: string;
  readonly userId: string;
  readonly createdAt: EpochMs;
  /** `recommendations` or `similar`; later decision points add their own surfaces. */
  readonly surface: string;
  readonly model: string;
  readonly modelVersion: number;
  readonly fallback: boolean;
  readonly items: readonly ImpressionItem[];
}

export interface ImpressionItem {
  readonly itemId: string;
  /** 0-based position in the served list. */
  readonly position: number;
  readonly score: number;
}
