import { bundleJson } from '../../api/admin.js';
import { Engine } from '../../engine/index.js';
import { cliEngineConfig } from '../config.js';
import { createProgress } from '../progress.js';

/** Trains a new bundle from the store's events and prints what was trained, as JSON. */
export async function train(options: { readonly dataDir: string | undefined }): Promise<void> {
  const engine = await Engine.open(cliEngineConfig(options.dataDir, { retrainIntervalMs: null }));
  try {
    const progress = createProgress();
    const info = await engine.train((stage, done, total) => progress.update(stage, done, total));
    progress.stop();
    process.stdout.write(`${JSON.stringify(bundleJson(info))}\n`);
  } finally {
    await engine.close();
  }
}
