import type { Store } from '../store/index.js';
import { counted, type Progress } from './progress.js';

/**
 * The store, with every `scanEvents` pass shown as progress (`reading events (pass 2)`): for commands whose
 * work is a library call that scans the log (churn, segments, exports) and has no progress hook of its own.
 * The total is the log's length, so a pass bounded by a position finishes at or below 100%.
 */
export async function withScanProgress(store: Store, progress: Progress): Promise<Store> {
  const total = await store.countEvents();
  let passes = 0;
  const scanEvents: Store['scanEvents'] = (options) => {
    passes += 1;
    const label = passes === 1 ? 'reading events' : `reading events (pass ${passes})`;
    return counted(store.scanEvents(options), progress, label, 'events', {
      total,
      size: (batch) => batch.length,
    });
  };
  // Everything else goes to the store itself, bound to it (its private fields need the real `this`).
  return new Proxy(store, {
    get(target, key) {
      if (key === 'scanEvents') return scanEvents;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
