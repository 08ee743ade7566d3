import type { ResourceLimits } from 'node:worker_threads';
import type { EpochMs } from '../shared/types.js';
import { startWorker } from '../shared/worker.js';
import { ExperimentError } from './definition.js';
import type { ReportMessage } from './report.worker.js';
import { openStore, type Store } from '../store/index.js';
import { MetricCatalog } from './metric-catalog.js';
import { LogReader } from './metrics/index.js';
import { ExperimentRegistry } from './registry.js';
import { experimentReport, reportSubject, type ExperimentReport } from './report.js';

/** What a report needs to know that is not in the store. */
export interface ReportJob {
  readonly storeUrl: string;
  /** An experiment id, or `holdout`. */
  readonly id: string;
  /** The global holdout's share (configuration, not stored). */
  readonly holdout: number;
  readonly now: EpochMs;
  /**
   * Open the store read-only (the CLI: a missing database is an error, not a new one). The server's worker
   * opens a plain connection that only reads, as the training worker does: a read-only SQLite connection can
   * fail to read a WAL another connection of the same process is writing through.
   */
  readonly readonly: boolean;
  /** Per-variant estimates in the daily series (`ReportOptions`); the dashboard's timeline asks for them. */
  readonly estimates?: boolean;
}

/**
 * Reads an experiment's report from the store on a connection of its own: how the CLI runs it, and what
 * the report worker runs for the HTTP API (`report.worker.ts`), so the scan of the whole event log never
 * holds the serving thread. The log itself is read by a reader thread on another connection
 * (`report-reader.worker.ts`), which converts it for the analysis in this one: reading and analysing take
 * one core each. Throws `ExperimentError` (404) for an unknown id.
 */
export async function reportFromStore(job: ReportJob): Promise<ExperimentReport> {
  const store = await openReportStore(job);
  // Started first, so that the thread has loaded and opened its connection while this one reads the
  // definitions and the exposures; `computeMetrics` starts its reading.
  const reader = startLogReader(job);
  try {
    const catalog = await MetricCatalog.open(store);
    const experiments = await ExperimentRegistry.open(store, {
      holdout: job.holdout,
      metricNames: () => catalog.metricNames(),
      // A read-only registry places no one and logs nothing.
      exposureFlushMs: 1000,
      onError: (error) => {
        throw error;
      },
    });
    return await experimentReport(store, reportSubject(job.id, experiments, catalog), job.now, reader, {
      estimates: job.estimates === true,
    });
  } finally {
    reader.close();
    await store.close();
  }
}

/** A report's store connection; the report's reader thread opens its own the same way. */
export function openReportStore(job: ReportJob): Promise<Store> {
  return openStore(job.storeUrl, job.readonly ? { readonly: true } : { backgroundCheckpoints: false });
}

/**
 * The report's reader thread, under the analysis's heap limits: it is the thread that holds the store's
 * records, whose batches the larger young generation is for (see `ANALYSIS_RESOURCE_LIMITS`).
 */
function startLogReader(job: ReportJob): LogReader {
  return new LogReader(
    startWorker(import.meta.url, './report-reader.worker.js', {
      workerData: job,
      resourceLimits: ANALYSIS_RESOURCE_LIMITS,
    }),
  );
}

/**
 * The heap of the threads that read the log: a young generation of 192 MB (64 MB semi-spaces) instead of
 * V8's 16 MB semi-spaces. The scan's batches (10,000 events read from the store) are garbage a moment after
 * they are read; with small semi-spaces a scavenge falls inside nearly every batch and copies the part still
 * in use, and some of it is promoted. Larger ones collect less often and find less alive. The report's
 * reader thread holds the batches of events and served lists; the report worker keeps the same limits for
 * the batches of exposures it reads itself. `bench/experiment-analysis.ts` runs both threads under these
 * limits (`--young-mb` to compare another size).
 */
export const ANALYSIS_RESOURCE_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 192 };

/**
 * `reportFromStore` in a worker thread with `ANALYSIS_RESOURCE_LIMITS`: what the serving process runs for
 * `GET /v1/experiments/:id/results` (the scan never holds the serving thread) and what `attune experiments
 * report` runs.
 */
export function reportInWorker(job: ReportJob): Promise<ExperimentReport> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(import.meta.url, './report.worker.js', {
      workerData: job,
      resourceLimits: ANALYSIS_RESOURCE_LIMITS,
    });
    let settled = false;
    worker.on('message', (message: ReportMessage) => {
      settled = true;
      if (message.type === 'done') resolve(message.report);
      else if (message.refusal !== null) {
        reject(new ExperimentError(message.refusal.status, message.refusal.field, message.message));
      } else reject(new Error(`the experiment report failed: ${message.message}`));
    });
    worker.on('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`the report worker exited with code ${code} before answering`));
    });
  });
}
