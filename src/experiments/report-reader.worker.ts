import { parentPort, workerData } from 'node:worker_threads';
import { serveLog } from './metrics/index.js';
import { openReportStore, type ReportJob } from './report-job.js';

/**
 * The report's reader thread: reads the served lists and the event log on a store connection of its own
 * (opened as the report's, `openReportStore`) and hands them to the report's analysis in columns
 * (`serveLog`, `metrics/log-reader.ts`), so that reading the log and analysing it each take a core.
 */
const port = parentPort;
if (!port) throw new Error('report-reader.worker must run as a worker thread');
const store = await openReportStore(workerData as ReportJob);
try {
  await serveLog(port, {
    impressions: (batchSize) => store.scanImpressions({ batchSize }),
    events: () => store.scanEvents(),
  });
} finally {
  await store.close();
}
