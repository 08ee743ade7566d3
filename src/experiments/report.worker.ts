import { parentPort, workerData } from 'node:worker_threads';
import { ExperimentError } from './definition.js';
import { reportFromStore, type ReportJob } from './report-job.js';
import type { ExperimentReport } from './report.js';

/** What the report worker answers: the report, or why not (an `ExperimentError` keeps its status). */
export type ReportMessage =
  | { readonly type: 'done'; readonly report: ExperimentReport }
  | {
      readonly type: 'failed';
      readonly message: string;
      readonly refusal: { readonly status: 400 | 404 | 409; readonly field: string | null } | null;
    };

const port = parentPort;
if (!port) throw new Error('report.worker must run as a worker thread');
try {
  port.postMessage({
    type: 'done',
    report: await reportFromStore(workerData as ReportJob),
  } satisfies ReportMessage);
} catch (error) {
  const refusal = error instanceof ExperimentError ? { status: error.status, field: error.field } : null;
  // A refusal's message is the user's; anything else keeps its stack for the log.
  const message =
    error instanceof ExperimentError
      ? error.bareMessage
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  port.postMessage({ type: 'failed', message, refusal } satisfies ReportMessage);
}
