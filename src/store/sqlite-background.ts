import type { Worker } from 'node:worker_threads';
import { startWorker } from '../shared/worker.js';
import type { AppendOutcome, EventAppend } from './sqlite-append.js';
import type {
  BackgroundJob,
  BackgroundReply,
  BackgroundRequest,
  BackgroundRows,
} from './sqlite-background.worker.js';

/** The serving thread's handle on the store's background writer (`sqlite-background.worker.ts`). */
export class BackgroundWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<
    number,
    { resolve: (outcomes: readonly AppendOutcome[]) => void; reject: (error: Error) => void }
  >();
  private nextId = 1;
  private failure: Error | null = null;

  constructor(file: string, checkpointIntervalMs: number, synchronous: BackgroundJob['synchronous']) {
    this.worker = startWorker(import.meta.url, './sqlite-background.worker.js', {
      workerData: { file, intervalMs: checkpointIntervalMs, synchronous } satisfies BackgroundJob,
    });
    // The thread never keeps the process alive; pending writes are awaited by `close`.
    this.worker.unref();
    this.worker.on('message', (reply: BackgroundReply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.type === 'done') waiting?.resolve([]);
      else if (reply.type === 'appended') waiting?.resolve(reply.outcomes);
      else {
        const what = reply.table === 'meta' ? 'metadata' : `the ${reply.table} log`;
        waiting?.reject(new Error(`writing ${what} failed: ${reply.message}`));
      }
    });
    const fail = (error: Error): void => {
      this.failure = error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error('the store background thread has stopped')));
  }

  /**
   * Whether the thread is alive to do its periodic work (checkpoints, indexing events by user and item).
   * When it has died the store does that work inline instead.
   */
  get running(): boolean {
    return this.failure === null;
  }

  /**
   * Resolves once the rows are committed by the background thread. Not an async function: its frame would
   * hold `rows` until the commit, though the thread has its own copy from the moment they are posted.
   */
  write<T extends keyof BackgroundRows>(table: T, rows: BackgroundRows[T]): Promise<void> {
    return this.#request((id) => ({ type: 'write', table, id, rows }) as BackgroundRequest).then(
      () => undefined,
    );
  }

  /**
   * Commits a group of event appends in one transaction (each alone when the group fails); resolves with
   * each append's outcome once committed, or rejects when the thread is gone (a group it committed just
   * before stopping is then reported failed: a retry of those events is a duplicate, so nothing doubles).
   */
  append(appends: readonly EventAppend[]): Promise<readonly AppendOutcome[]> {
    return this.#request((id) => ({ type: 'append', id, appends }));
  }

  #request(message: (id: number) => BackgroundRequest): Promise<readonly AppendOutcome[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(message(id));
    });
  }

  /** Waits for the writes under way, then stops the thread. */
  async close(): Promise<void> {
    const writes = [...this.pending.values()].map(
      (waiting) =>
        new Promise<void>((settled) => {
          const { resolve, reject } = waiting;
          waiting.resolve = (outcomes) => {
            resolve(outcomes);
            settled();
          };
          waiting.reject = (error) => {
            reject(error);
            settled();
          };
        }),
    );
    await Promise.all(writes);
    this.worker.postMessage({ type: 'stop' } satisfies BackgroundRequest);
  }
}
