import type { Worker } from 'node:worker_threads';

import type { DecisionClose, LoggedDecision } from '../decisions/points/log-types.js';
import { startWorker } from '../shared/worker.js';
import { StoreClosedError, StoreUnavailableError } from './errors.js';
import { pgWhere, type PgDbOptions } from './postgres-db.js';

/** A statement and its parameters. */
export interface PgStatement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * What the thread commits, each in one transaction: statements as given, or a batch of the decision log,
 * which it turns into statements itself (`decisionLogStatements`).
 */
export type WriterWork =
  | { readonly kind: 'statements'; readonly statements: readonly PgStatement[] }
  | {
      readonly kind: 'decision-log';
      readonly appends: readonly LoggedDecision[];
      readonly closes: readonly DecisionClose[];
    };

export type WriterRequest = WriterWork & { readonly id: number };

/** Done, or why not: the database unavailable (its detail), or the statement refused. */
export type WriterReply =
  | { readonly id: number; readonly unavailable?: undefined; readonly failed?: undefined }
  | { readonly id: number; readonly unavailable: string; readonly failed?: undefined }
  | {
      readonly id: number;
      readonly unavailable?: undefined;
      readonly failed: { readonly message: string; readonly code?: string };
    };

interface Pending {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** Settles when the write is answered, either way: what `close` waits for. */
  readonly answered: Promise<void>;
}

/**
 * Writes the PostgreSQL store's logs from a thread of their own (`postgres-writer.worker.ts`), as the
 * SQLite store's background thread does for its own. A batch of served lists is a statement of ~150 KB:
 * the driver escaped, encoded and wrote it on the serving thread in one piece, ~2 ms each on a slow host,
 * twenty times a second at 2,000 requests/s, and every request behind one waited (a CPU profile,
 * 2026-12-07: ~8% of the serving thread's busy time). Here the serving thread copies the parameters to the
 * writer and goes on (docs/SCALING.md has the numbers side by side).
 *
 * The decision log and exposures go the same way (the decision log as decisions, turned into rows there, as
 * the SQLite store's thread does).
 *
 * The thread starts on the first write and holds its own two connections. The caller's promise settles
 * when the statement has committed or failed there, with the same errors an inline write gives:
 * `StoreUnavailableError` while the database is away, so batch logs count and retry as before.
 */
export class PgLogWriter {
  readonly #options: PgDbOptions;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | null = null;
  #nextId = 0;
  #closed = false;

  constructor(options: PgDbOptions) {
    this.#options = options;
  }

  /** Runs `sql` once per chunk of parameters, the chunks in one transaction when there are several. */
  run(sql: string, chunks: readonly (readonly unknown[])[]): Promise<void> {
    return this.#send({ kind: 'statements', statements: chunks.map((params) => ({ sql, params })) });
  }

  /** Appends, then closes, in one transaction: `Store.writeDecisionLog`, its text already checked. */
  writeDecisionLog(appends: readonly LoggedDecision[], closes: readonly DecisionClose[]): Promise<void> {
    return this.#send({ kind: 'decision-log', appends, closes });
  }

  #send(work: WriterWork): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreClosedError(pgWhere(this.#options)));
    const worker = this.#started();
    const id = this.#nextId++;
    let settle!: Pick<Pending, 'resolve' | 'reject'>;
    const written = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const answered = written.then(
      () => undefined,
      () => undefined,
    );
    // Held only while a write is in flight: an idle writer never keeps the process alive, a busy one
    // keeps it until the write is answered.
    if (this.#pending.size === 0) worker.ref();
    this.#pending.set(id, { ...settle, answered });
    worker.postMessage({ ...work, id } satisfies WriterRequest);
    return written;
  }

  /** Answers what is in flight, then stops the thread. Idempotent; later writes reject. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    if (worker === null) return;
    await Promise.all([...this.#pending.values()].map((pending) => pending.answered));
    this.#worker = null;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    await exited;
  }

  #started(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = startWorker(import.meta.url, './postgres-writer.worker.js', { workerData: this.#options });
    worker.unref();
    worker.on('message', (reply: WriterReply) => this.#answer(reply));
    // A thread that died takes its writes with it: they fail as the database being away would, and the
    // next write starts a new thread.
    const lost = (why: string) => {
      if (this.#worker === worker) this.#worker = null;
      this.#failAll(new StoreUnavailableError(`log writer thread ${why}`));
    };
    worker.on('error', (error) => lost(`failed: ${error.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  #answer(reply: WriterReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (reply.unavailable !== undefined) pending.reject(new StoreUnavailableError(reply.unavailable));
    else if (reply.failed !== undefined) {
      const { message, code } = reply.failed;
      pending.reject(Object.assign(new Error(message), code === undefined ? {} : { code }));
    } else pending.resolve();
  }

  #failAll(error: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { reject } of pending) reject(error);
  }
}
