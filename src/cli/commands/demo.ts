import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { generateDemoShop, toEventJson } from '../../demo/index.js';
import { Engine } from '../../engine/index.js';
import { cliEngineConfig } from '../config.js';
import { loadDemoShop } from '../load.js';
import { count, summary } from '../format.js';
import { storeName } from '../options.js';
import { createProgress } from '../progress.js';

export interface DemoOptions {
  readonly dataDir?: string | undefined;
  readonly seed: number;
  readonly users?: number;
  readonly items?: number;
  readonly days?: number;
  /** Write the events as JSON lines here instead of into the store. */
  readonly out?: string;
  /** One JSON object (counts, and `stored` or `out`) instead of the summary. */
  readonly json?: boolean;
}

/** Generates the deterministic demo shop into the store, or as a JSON-lines file of API events. */
export async function demo(options: DemoOptions): Promise<void> {
  const shop = generateDemoShop({
    seed: options.seed,
    ...(options.users !== undefined ? { users: options.users } : {}),
    ...(options.items !== undefined ? { items: options.items } : {}),
    ...(options.days !== undefined ? { days: options.days } : {}),
  });
  const counts = { items: shop.items.length, users: shop.users.length, events: shop.events.length };
  const shopLine = `${count(counts.users)} users · ${count(counts.items)} items · ${count(counts.events)} events (seed ${options.seed})`;
  if (options.out) {
    const stream = createWriteStream(options.out);
    for (const event of shop.events) {
      if (!stream.write(`${JSON.stringify(toEventJson(event))}\n`)) await once(stream, 'drain');
    }
    stream.end();
    await once(stream, 'finish');
    process.stdout.write(
      options.json === true
        ? `${JSON.stringify({ ...counts, out: options.out })}\n`
        : summary(`demo shop written to ${options.out}`, [
            ['shop', shopLine],
            ['next', `attune import --format jsonl ${options.out}`],
          ]),
    );
    return;
  }
  const engine = await Engine.open(cliEngineConfig(options.dataDir, { retrainIntervalMs: null }));
  try {
    const stored = await loadDemoShop(engine, shop, createProgress());
    process.stdout.write(
      options.json === true
        ? `${JSON.stringify({ ...counts, stored })}\n`
        : summary(`demo shop loaded into ${storeName(options.dataDir)}`, [
            ['shop', shopLine],
            [
              'stored',
              stored < counts.events
                ? `${count(stored)} new events (the rest were there already)`
                : `${count(stored)} events`,
            ],
            ['next', 'attune train, then attune serve   (or just: attune start)'],
          ]),
    );
  } finally {
    await engine.close();
  }
}
