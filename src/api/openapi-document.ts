import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Engine, engineConfig } from '../engine/index.js';
import { buildApp } from './app.js';

/**
 * The OpenAPI document as docs/openapi.json holds it: generated from the route schemas of an app on a
 * throwaway, empty data directory with the default configuration (the document depends on no data, and
 * on the configuration only through limits such as `n`'s maximum), pretty-printed with 2 spaces and a
 * trailing newline, paths and component schemas sorted (`stableDocument`).
 */
export async function renderOpenApiDocument(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'attune-openapi-'));
  try {
    const engine = await Engine.open(engineConfig(`sqlite:${dir}`, { retrainIntervalMs: null }));
    try {
      const app = buildApp({ engine });
      try {
        await app.ready();
        return `${JSON.stringify(app.swagger(), null, 2)}\n`;
      } finally {
        await app.close();
      }
    } finally {
      await engine.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
