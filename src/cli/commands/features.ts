import { ConsentFilter } from '../../privacy/index.js';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Item } from '../../catalog/index.js';
import {
  ExportInputError,
  FeatureSet,
  exportAt,
  exportRows,
  loadFeatureDefinitions,
  parseExportRows,
  parseTime,
} from '../../features/index.js';
import { openStore } from '../../store/index.js';
import { cliEngineConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { count } from '../format.js';
import { existingDataDir } from '../options.js';
import { createProgress } from '../progress.js';
import { withScanProgress } from '../store-progress.js';
import { readInputFile } from '../input-file.js';

export interface FeaturesExportOptions {
  readonly dataDir?: string;
  /** One row per user seen before this time (ISO 8601 or epoch ms). */
  readonly at?: string;
  /** A CSV of `user_id,timestamp[,item_id]`: each row's features at its own time. */
  readonly rows?: string;
  /** Where the CSV goes (default stdout). */
  readonly out?: string;
  /** A definitions file (default: `ATTUNE_FEATURES`, else the built-in definitions). */
  readonly definitions?: string;
}

/** Lines written to a file descriptor in large chunks: tables can have millions of rows. */
class LineWriter {
  #chunk: string[] = [];
  #size = 0;
  constructor(private readonly fd: number) {}
  write(line: string): void {
    this.#chunk.push(line);
    this.#size += line.length;
    if (this.#size > 1 << 20) this.flush();
  }
  flush(): void {
    if (this.#chunk.length === 0) return;
    writeSync(this.fd, `${this.#chunk.join('\n')}\n`);
    this.#chunk = [];
    this.#size = 0;
  }
}

/**
 * `attune features export`: a training table as CSV, point-in-time correct (each row from the events with
 * timestamp < its time), read from the store with `Store.scanEvents` (a read-only connection, so a server
 * may keep running). Item categories and prices are the catalog's as stored now.
 */
export async function featuresExport(options: FeaturesExportOptions): Promise<void> {
  if ((options.at === undefined) === (options.rows === undefined)) {
    throw new UsageError('give exactly one of --at TIME and --rows FILE');
  }
  const config = cliEngineConfig(existingDataDir(options.dataDir));
  const set =
    options.definitions === undefined
      ? config.features
      : new FeatureSet(loadFeatureDefinitions(options.definitions), options.definitions);
  const cutoff = options.at === undefined ? null : parseTime(options.at, '--at');
  let rows = null;
  if (options.rows !== undefined) {
    const text = await readInputFile(options.rows);
    try {
      rows = parseExportRows(text);
    } catch (error) {
      if (error instanceof ExportInputError)
        throw new Error(`${options.rows}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  const opened = await openStore(config.storeUrl, { readonly: true });
  const progress = createProgress();
  const store = await withScanProgress(opened, progress);
  const fd = options.out === undefined ? 1 : openSync(options.out, 'w');
  try {
    const catalog = new Map<string, Item>();
    for await (const batch of store.scanItems()) for (const item of batch) catalog.set(item.id, item);
    const items = (itemId: string) => catalog.get(itemId);
    // Fixed once: events appended while the export runs are not in the table.
    // Only users whose consent lets their data personalize: the table is for training models elsewhere.
    const consent = await ConsentFilter.read(store, config.defaultConsent);
    const scan = consent.personalEvents(store.scanEvents({ throughSeq: await store.lastEventSeq() }));
    const writer = new LineWriter(fd);
    const write = (line: string) => writer.write(line);
    const written =
      cutoff !== null
        ? await exportAt(set, scan, cutoff, items, write)
        : await exportRows(set, scan, rows ?? [], items, write);
    writer.flush();
    progress.stop();
    if (options.out !== undefined)
      process.stderr.write(`attune: wrote ${count(written)} rows to ${options.out}\n`);
  } finally {
    progress.stop();
    if (fd !== 1) closeSync(fd);
    await opened.close();
  }
}
