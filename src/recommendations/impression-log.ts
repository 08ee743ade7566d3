import { BatchLog, type BatchLogOptions } from '../shared/batch-log.js';
import type { Store } from '../store/index.js';
import type { Impression } from './impression.js';

export type ImpressionLogOptions = BatchLogOptions;

/**
 * Logs served lists in batches: one store write per flush instead of one per request keeps logging off
 * the latency budget. A crash loses at most the last `flushMs` of impressions (and, under overload, what
 * the backlog limit dropped), never an event.
 */
export class ImpressionLog extends BatchLog<Impression> {
  constructor(store: Pick<Store, 'appendImpressions'>, options: ImpressionLogOptions) {
    super((batch) => store.appendImpressions(batch), options);
  }
}
