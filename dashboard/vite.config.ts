import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The dashboard's production build: `dist/dashboard/`, served by the engine at `/dashboard`
 * (`src/api/dashboard-ui.ts`). Hashed file names under `assets/` are cached forever; index.html never.
 */
export default defineConfig({
  root: here('.'),
  base: '/dashboard/',
  plugins: [preact({ devToolsInProd: false, prefreshEnabled: false })],
  logLevel: 'warn',
  build: {
    outDir: here('../dist/dashboard'),
    emptyOutDir: true,
    target: 'es2022',
    // One small app: a single script and a single style sheet load faster than a waterfall of chunks.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npx vite --config dashboard/vite.config.ts` against an engine on the default port.
    proxy: { '/v1': 'http://127.0.0.1:8080', '/health': 'http://127.0.0.1:8080' },
  },
});
