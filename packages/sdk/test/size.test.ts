import { gzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { bundleBrowser } from '../scripts/bundle.js';

describe('the browser tracking bundle', () => {
  it('is under 5 KB gzipped (minified ESM) and holds none of the server methods', async () => {
    const code = await bundleBrowser('esm');
    const gzipped = gzipSync(code).length;
    console.log(`browser tracking bundle: ${code.length} bytes minified, ${gzipped} bytes gzipped`);
    expect(gzipped).toBeLessThan(5 * 1024);
    // The tracker entry point must not pull in the server client.
    for (const route of ['/v1/recommendations', '/v1/decisions', '/v1/assignments', 'similar']) {
      expect(code).not.toContain(route);
    }
    expect(code).toContain('/v1/events');
  });
});
