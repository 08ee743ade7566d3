/**
 * The dashboard's first load (issue 13: under 1 s on loopback, a production build under 500 KB gzipped):
 * builds it (`vite build`), serves it from an engine holding the small demo shop (`test/dashboard-shop.ts`)
 * on a loopback port, and loads the overview in Debian's Chromium five times, each in a fresh context
 * (no cache): navigation start to the load event, and to the overview's numbers on screen (its data
 * fetched and drawn). Medians of the five.
 *
 *   node --import tsx bench/dashboard.ts
 * stdout: one JSON line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { launchChromium } from '../test/chromium.js';
import { DASHBOARD_DIST, ensureDashboardBuilt, openDemoShop } from '../test/dashboard-shop.js';

const LOADS = 5;

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const round = (ms: number) => Number(ms.toFixed(1));

const buildStarted = performance.now();
await ensureDashboardBuilt(true);
const buildSeconds = (performance.now() - buildStarted) / 1000;

const files = readdirSync(DASHBOARD_DIST, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
const sizes = files.map((f) => {
  const body = readFileSync(join(f.parentPath, f.name));
  return { raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
});

const shop = await openDemoShop();
const browser = await launchChromium();
const load: number[] = [];
const domContentLoaded: number[] = [];
const overviewDrawn: number[] = [];
let transferred = 0;
try {
  // One load first, not counted: the server's first read of each file and Chromium's own start-up.
  for (let i = 0; i <= LOADS; i++) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${shop.url}/dashboard/#/overview`, { waitUntil: 'load' });
    await page.waitForSelector('.stat-value');
    // In the page, typed by what is read of it: this file compiles without the DOM's types.
    const timing = await page.evaluate(() => {
      interface Entry {
        readonly name: string;
        readonly startTime: number;
        readonly transferSize: number;
        readonly loadEventEnd: number;
        readonly domContentLoadedEventEnd: number;
      }
      const perf = performance as unknown as { getEntriesByType(type: string): Entry[]; now(): number };
      const nav = perf.getEntriesByType('navigation')[0]!;
      const resources = perf.getEntriesByType('resource').filter((r) => r.name.includes('/dashboard/'));
      return {
        load: nav.loadEventEnd - nav.startTime,
        domContentLoaded: nav.domContentLoadedEventEnd - nav.startTime,
        drawn: perf.now(),
        bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
      };
    });
    await context.close();
    if (i === 0) continue;
    load.push(timing.load);
    domContentLoaded.push(timing.domContentLoaded);
    overviewDrawn.push(timing.drawn);
    transferred = timing.bytes;
  }
} finally {
  await browser.close();
  await shop.close();
}

process.stdout.write(
  `${JSON.stringify({
    bench: 'dashboard',
    loads: LOADS,
    first_load_ms_median: round(median(load)),
    first_load_ms: load.map(round),
    dom_content_loaded_ms_median: round(median(domContentLoaded)),
    overview_drawn_ms_median: round(median(overviewDrawn)),
    transferred_bytes: transferred,
    build_files: files.length,
    build_bytes: sizes.reduce((sum, s) => sum + s.raw, 0),
    build_gzip_bytes: sizes.reduce((sum, s) => sum + s.gzip, 0),
    build_seconds: Number(buildSeconds.toFixed(2)),
    targets: { first_load_ms: 1000, build_gzip_bytes: 500 * 1024 },
  })}\n`,
);
