/** After tsc: the minified browser bundles, `dist/attune.min.js` (ESM) and `dist/attune.iife.min.js`. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { bundleBrowser, PACKAGE_DIR } from './bundle.js';

const dist = join(PACKAGE_DIR, 'dist');
await mkdir(dist, { recursive: true });
for (const [format, name] of [
  ['esm', 'attune.min.js'],
  ['iife', 'attune.iife.min.js'],
] as const) {
  const code = await bundleBrowser(format);
  await writeFile(join(dist, name), code);
  console.log(`${name}: ${code.length} bytes, ${gzipSync(code).length} gzipped`);
}
