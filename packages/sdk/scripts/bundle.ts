/**
 * The browser tracking bundle: `src/browser.ts` and what it imports, minified ESM for modern browsers.
 * Used by the package build (scripts/build.ts) and by the tests that load it into Chromium and weigh it.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The minified bundle's text; `format: 'iife'` exposes it as the global `Attune` for a plain script tag. */
export async function bundleBrowser(format: 'esm' | 'iife' = 'esm'): Promise<string> {
  const result = await build({
    entryPoints: [join(PACKAGE_DIR, 'src/browser.ts')],
    bundle: true,
    minify: true,
    format,
    ...(format === 'iife' ? { globalName: 'Attune' } : {}),
    target: ['es2020'],
    platform: 'browser',
    write: false,
    legalComments: 'none',
  });
  return result.outputFiles[0]!.text;
}
