import { parentPort, workerData } from 'node:worker_threads';

import { StoreUnavailableError } from './errors.js';
import { PgDb, type PgDbOptions } from './postgres-db.js';
import type { WriterReply, WriterRequest } from './postgres-writer.js';

/*
 * The PostgreSQL store's log writer thread (`postgres-writer.ts`): runs the statements it is sent on a
 * small pool of its own and answers each by id. What it saves the serving thread is the driver's work on
 * a large statement: escaping every array element, measuring and encoding the strings into one message,
 * and the socket write of it (a batch of a hundred served lists is ~150 KB).
 */

const port = parentPort;
if (port === null) throw new Error('postgres-writer.worker.ts runs as a worker thread');
const db = new PgDb({ ...(workerData as PgDbOptions), poolSize: 2 });

port.on('message', (request: WriterRequest | 'close') => {
  if (request === 'close') {
    void db.close().then(() => port.close());
    return;
  }
  void run(request).then((reply) => port.postMessage(reply));
});

async function run({ id, sql, chunks }: WriterRequest): Promise<WriterReply> {
  try {
    if (chunks.length === 1) await db.execute(sql, chunks[0]);
    else
      await db.transaction(async (tx) => {
        for (const chunk of chunks) await tx.execute(sql, chunk);
      });
    return { id };
  } catch (error) {
    if (error instanceof StoreUnavailableError) return { id, unavailable: error.detail };
    const { message, code } = error as { message?: unknown; code?: unknown };
    return {
      id,
      failed: { message: String(message ?? error), ...(typeof code === 'string' ? { code } : {}) },
    };
  }
}
