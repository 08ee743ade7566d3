import { startWorker } from '../shared/worker.js';
import type { EpochMs } from '../shared/types.js';
import type { ServedListClicks } from '../store/index.js';

/**
 * The overview's click-through, read on a worker thread with its own store connection: it looks at every
 * list served in the week and its users' events since (`Store.servedListClicks`), a read that grows with
 * traffic and would otherwise hold the serving thread (SQLite reads are synchronous) for as long as it takes.
 */
export interface ClickThroughJob {
  readonly storeUrl: string;
  /** One window per entry: lists served from it until `until`. */
  readonly since: readonly EpochMs[];
  readonly until: EpochMs;
  readonly clickNames: readonly string[];
  readonly ignoredNames: readonly string[];
}

export type ClickThroughMessage =
  | { readonly type: 'done'; readonly windows: readonly ServedListClicks[] }
  | { readonly type: 'failed'; readonly message: string };

export function clickThroughInWorker(job: ClickThroughJob): Promise<readonly ServedListClicks[]> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(import.meta.url, './click-through.worker.js', { workerData: job });
    let settled = false;
    worker.on('message', (message: ClickThroughMessage) => {
      settled = true;
      if (message.type === 'done') resolve(message.windows);
      else reject(new Error(`click-through failed: ${message.message}`));
    });
    worker.on('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`the click-through worker exited with code ${code} before answering`));
    });
  });
}
