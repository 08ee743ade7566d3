import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { generateDemoShop, toEventJson } from '../../demo/index.js';
import { Engine } from '../../engine/index.js';
import { cliEngineConfig } from '../config.js';
import { loadDemoShop } from '../load.js';
import { createProgress } from '../progress.js';

export interface DemoOptions {
  readonly dataDir?: string | undefined;
  readonly seed: number;
  readonly users?: number;
  readonly items?: number;
  readonly days?: number;
  /** Write the events as JSON lines here instead of into the store. */
  readonly out?: string;
}

/** Generates the deterministic demo shop into the store, or as a JSON-lines file of API events. */
export async function demo(options: DemoOptions): Promise<void> {
  const shop = generateDemoShop({
    seed: options.seed,
    ...(options.users !== undefined ? { users: options.users } : {}),
    ...(options.items !== undefined ? { items: options.items } : {}),
    ...(options.days !== undefined ? { days: options.days } : {}),
  });
  const summary = { items: shop.items.length, users: shop.users.length, events: shop.events.length };
  if (options.out) {
    const stream = createWriteStream(options.out);
    for (const event of shop.events) {
      if (!stream.write(`${JSON.stringify(toEventJson(event))}\n`)) await once(stream, 'drain');
    }
    stream.end();
    await once(stream, 'finish');
    process.stdout.write(`${JSON.stringify({ ...summary, out: options.out })}\n`);
    return;
  }
  const engine = await Engine.open(cliEngineConfig(options.dataDir, { retrainIntervalMs: null }));
  try {
    const stored = await loadDemoShop(engine, shop, createProgress());
    process.stdout.write(`${JSON.stringify({ ...summary, stored })}\n`);
  } finally {
    await engine.close();
  }
}
