import type { Worker } from 'node:worker_threads';
import { startWorker } from '../shared/worker.js';
import type { EventWindow } from './keyset.js';
import type { ReaderJob, ReaderReply, ReaderRequest, ReaderResults } from './sqlite-reader.worker.js';

/** A read as posted, without the id the handle gives it. */
type Read<R = Exclude<ReaderRequest, { readonly type: 'stop' }>> = R extends unknown ? Omit<R, 'id'> : never;

/**
 * The serving thread's handle on the store's reader thread (`sqlite-reader.worker.ts`). Every read comes
 * with the same read done inline, which answers instead whenever the thread cannot: after it has stopped,
 * also for the reads it had not answered, so a lost thread costs speed, never a request.
 */
export class ReaderThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, (reply: ReaderReply | null) => void>();
  /** Reads not yet answered, for `close` to wait for. */
  readonly #unanswered = new Set<Promise<unknown>>();
  #nextId = 1;
  #running = true;

  constructor(file: string, busyTimeoutMs: number) {
    this.#worker = startWorker(import.meta.url, './sqlite-reader.worker.js', {
      workerData: { file, busyTimeoutMs } satisfies ReaderJob,
    });
    // The thread never keeps the process alive: reads under way are awaited by `close`.
    this.#worker.unref();
    this.#worker.on('message', (reply: ReaderReply) => {
      const settle = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      settle?.(reply);
    });
    const stopped = (): void => {
      this.#running = false;
      for (const settle of this.#waiting.values()) settle(null);
      this.#waiting.clear();
    };
    this.#worker.on('error', stopped);
    this.#worker.on('exit', stopped);
  }

  /** Whether reads go to the thread (false once it has stopped: they are then done inline). */
  get running(): boolean {
    return this.#running;
  }

  userItems(key: string, inline: () => ReaderResults['userItems']): Promise<ReaderResults['userItems']> {
    return this.#read({ type: 'userItems', key }, inline);
  }

  events(
    type: 'userEvents' | 'itemEvents',
    key: string,
    window: EventWindow,
    inline: () => ReaderResults['userEvents'],
  ): Promise<ReaderResults['userEvents']> {
    return this.#read({ type, key, window }, inline);
  }

  /** Waits for the reads under way, then stops the thread. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#unanswered]);
    if (!this.#running) return;
    this.#running = false;
    this.#worker.postMessage({ type: 'stop' } satisfies ReaderRequest);
  }

  #read<T extends ReaderResults[keyof ReaderResults]>(read: Read, inline: () => T): Promise<T> {
    if (!this.#running) return new Promise((resolve) => resolve(inline()));
    const id = this.#nextId++;
    const answer = new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, (reply) => {
        if (reply === null) {
          // The thread stopped before answering: read here, as if it had never been there.
          try {
            resolve(inline());
          } catch (error) {
            reject(error);
          }
        } else if (reply.ok) resolve(reply.value as T);
        else reject(new Error(reply.message));
      });
      this.#worker.postMessage({ ...read, id } as ReaderRequest);
    });
    this.#unanswered.add(answer);
    void answer.finally(() => this.#unanswered.delete(answer)).catch(() => {});
    return answer;
  }
}
