import { parentPort, workerData } from 'node:worker_threads';

import { StoreUnavailableError } from './errors.js';
import { PgDb, type PgDbOptions } from './postgres-db.js';
import { decisionLogStatements } from './postgres-records-decisions.js';
import type { WriterReply, WriterRequest } from './postgres-writer.js';

/*
 * The PostgreSQL store's log writer thread (`postgres-writer.ts`): runs the statements it is sent on a
 * small pool of its own and answers each by id. What it saves the serving thread is the driver's work on
 * a large statement: escaping every array element, measuring and encoding the strings into one message,
 * and the socket write of it (a batch of a hundred served lists is ~150 KB); for the decision log, also
 * turning decisions into rows.
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

async function run(request: WriterRequest): Promise<WriterReply> {
  const { id } = request;
  try {
    const statements =
      request.kind === 'statements'
        ? request.statements
        : decisionLogStatements(request.appends, request.closes);
    const [only] = statements;
    if (statements.length === 1 && only !== undefined) await db.execute(only.sql, only.params);
    else
      await db.transaction(async (tx) => {
        for (const { sql, params } of statements) await tx.execute(sql, params);
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
