import { parentPort, workerData } from 'node:worker_threads';
import { encodeGbdtModel } from './gbdt-codec.js';
import type { GbdtWorkerJob, GbdtWorkerReply } from './gbdt-worker.js';
import { trainGbdt } from './gbdt.js';

/** One `trainGbdtInWorker` job: train, send the model's bytes back (transferred, not copied), exit. */
function run({ train, params, validation }: GbdtWorkerJob): void {
  let reply: GbdtWorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const result = trainGbdt(train, params, validation);
    const model = encodeGbdtModel(result.model);
    transfer.push(model.buffer as ArrayBuffer);
    reply = { type: 'done', model, bestTreeCount: result.bestTreeCount };
    if (result.validLoss) {
      reply = { ...reply, validLoss: result.validLoss };
      transfer.push(result.validLoss.buffer as ArrayBuffer);
    }
  } catch (error) {
    reply = {
      type: 'failed',
      name: error instanceof Error ? error.name : 'Error',
      message: error instanceof Error ? error.message : String(error),
    };
  }
  parentPort?.postMessage(reply, transfer);
}

run(workerData as GbdtWorkerJob);
