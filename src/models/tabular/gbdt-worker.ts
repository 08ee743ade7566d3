import { startWorker } from '../../shared/worker.js';
import { decodeGbdtModel } from './gbdt-codec.js';
import type { GbdtModel } from './gbdt-model.js';
import { checkGbdtInputs, type GbdtDataset, type GbdtParams } from './gbdt.js';

/** What `trainGbdtInWorker` resolves to: `GbdtTraining` without the (lazily replayed) training curve. */
export interface GbdtWorkerTraining {
  /** The model, cut back to the best iteration when early stopping ran. */
  readonly model: GbdtModel;
  readonly validLoss?: Float64Array;
  readonly bestTreeCount: number;
}

/** Parameters a worker can receive: the objective by name (functions do not cross threads). */
export type GbdtWorkerParams = Partial<Omit<GbdtParams, 'objective'>> & {
  readonly objective?: 'binary' | 'regression' | 'rank';
};

export interface GbdtWorkerOptions {
  /**
   * Transfer the data sets' buffers to the worker instead of copying them: no copy, but the caller's
   * arrays are detached (length 0) afterwards. Arrays on a SharedArrayBuffer are never copied.
   */
  readonly transfer?: boolean;
}

/** The worker's job (workerData). */
export interface GbdtWorkerJob {
  readonly train: GbdtDataset;
  readonly params: GbdtWorkerParams;
  readonly validation?: GbdtDataset;
}

/** The worker's one message back. */
export type GbdtWorkerReply =
  | {
      readonly type: 'done';
      readonly model: Uint8Array;
      readonly validLoss?: Float64Array;
      readonly bestTreeCount: number;
    }
  | { readonly type: 'failed'; readonly name: string; readonly message: string };

/**
 * `trainGbdt` on a worker thread, so a server's event loop keeps answering while trees grow. The inputs
 * are checked here first (bad input rejects with the same RangeError, before a thread starts); the
 * model comes back in its byte form (`encodeGbdtModel`), its buffer transferred, and is decoded
 * bit-identically. The worker exits when done.
 */
export async function trainGbdtInWorker(
  train: GbdtDataset,
  params: GbdtWorkerParams = {},
  validation?: GbdtDataset,
  options: GbdtWorkerOptions = {},
): Promise<GbdtWorkerTraining> {
  if (typeof params.objective === 'object') {
    throw new TypeError('trainGbdtInWorker: give the objective by name; an object cannot cross threads');
  }
  checkGbdtInputs(train, params, validation);
  const transferList = options.transfer === true ? buffersOf([train, validation]) : [];
  const job: GbdtWorkerJob = { train, params, ...(validation ? { validation } : {}) };

  const reply = await new Promise<GbdtWorkerReply>((resolve, reject) => {
    const worker = startWorker(import.meta.url, './gbdt.worker.js', { workerData: job, transferList });
    let settled = false;
    worker.once('message', (message: GbdtWorkerReply) => {
      settled = true;
      resolve(message);
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`GBDT worker exited with code ${code} before finishing`));
    });
  });
  if (reply.type === 'failed') {
    const error = reply.name === 'RangeError' ? new RangeError(reply.message) : new Error(reply.message);
    throw error;
  }
  return {
    model: decodeGbdtModel(reply.model),
    ...(reply.validLoss ? { validLoss: reply.validLoss } : {}),
    bestTreeCount: reply.bestTreeCount,
  };
}

/** The distinct, transferable (not shared) buffers behind the data sets' arrays. */
function buffersOf(sets: readonly (GbdtDataset | undefined)[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const data of sets) {
    if (!data) continue;
    for (const a of [data.features, data.labels, data.group, data.weight, data.baseMargin]) {
      if (a && a.buffer instanceof ArrayBuffer) out.add(a.buffer);
    }
  }
  return [...out];
}
