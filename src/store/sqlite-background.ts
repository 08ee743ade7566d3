import type { Worker } from 'node:worker_threads';
import { startWorker } from '../shared/worker.js';
import type {
  BackgroundJob,
  BackgroundReply,
  BackgroundRequest,
  BackgroundRows,
} from './sqlite-background.worker.js';

/** The serving thread's handle on the store's background writer (`sqlite-background.worker.ts`). */
export class BackgroundWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private failure: Error | null = null;

  /**
   * 1 while the thread is inside a write transaction (or about to start one), else 0, with a notify on
   * every release: the store's group commit waits on it asynchronously instead of blocking its thread in
   * SQLite's busy handler (`SqliteStore.appendEvents`).
   */
  readonly writing = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

  constructor(file: string, checkpointIntervalMs: number) {
    this.worker = startWorker(import.meta.url, './sqlite-background.worker.js', {
      workerData: {
        file,
        intervalMs: checkpointIntervalMs,
        writing: this.writing.buffer,
      } satisfies BackgroundJob,
    });
    // The thread never keeps the process alive; pending writes are awaited by `close`.
    this.worker.unref();
    this.worker.on('message', (reply: BackgroundReply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.type === 'done') waiting?.resolve();
      else waiting?.reject(new Error(`writing the ${reply.table} log failed: ${reply.message}`));
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

  /** Resolves once the rows are committed by the background thread. */
  write<T extends keyof BackgroundRows>(table: T, rows: BackgroundRows[T]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'write', table, id, rows } as BackgroundRequest);
    });
  }

  /** Waits for the writes under way, then stops the thread. */
  async close(): Promise<void> {
    const writes = [...this.pending.values()].map(
      (waiting) =>
        new Promise<void>((settled) => {
          const { resolve, reject } = waiting;
          waiting.resolve = () => {
            resolve();
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
