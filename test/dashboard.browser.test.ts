/**
 * The dashboard in real Chromium (Debian's, driven by playwright-core) against a running engine with the
 * demo shop (`test/dashboard-shop.ts`): every page loads without console or page errors, the user inspector
 * shows recommendations, an experiment's result draws its charts, and an engine with a key asks for it.
 * Each page's screenshot is saved under test-results/ for a person to look at.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import Fastify from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { dashboardUiRoutes } from '../src/api/dashboard-ui.js';
import {
  DASHBOARD_DIST,
  DECISION_POINT_ID,
  EXPERIMENT_ID,
  ensureDashboardBuilt,
  openDemoShop,
  type DemoShopServer,
} from './dashboard-shop.js';
import { launchChromium } from './chromium.js';

const SHOTS = 'test-results';

/**
 * The page's globals these tests read, typed here: the test compiles without the DOM's types, and the
 * page's policy forbids evaluating strings, so checks in the page are functions.
 */
interface PageGlobals {
  readonly document: { querySelector(selector: string): unknown };
  readonly sessionStorage: { getItem(key: string): string | null };
}
const nothingLoading = () =>
  (globalThis as unknown as PageGlobals).document.querySelector('.loading') === null;
const storedKey = () => (globalThis as unknown as PageGlobals).sessionStorage.getItem('attune.adminKey');
const BUDGET_GZIP_BYTES = 500 * 1024;

let shop: DemoShopServer;
let browser: Browser;

/** What the page reported as wrong: console errors, uncaught exceptions, failed requests. */
interface Watched {
  readonly page: Page;
  readonly problems: string[];
}

async function watchedPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A poll cut short by leaving the page is not a failure of the page.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED') {
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return { page, problems };
}

/** Opens a view and waits until nothing on it is loading any more. */
async function visit(page: Page, view: string): Promise<void> {
  await page.goto(`${shop.url}/dashboard/#/${view}`);
  await page.waitForSelector('main.content h1');
  await page.waitForFunction(nothingLoading, null, { timeout: 30_000 });
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `dashboard-${name}.png`), fullPage: true });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await ensureDashboardBuilt();
  shop = await openDemoShop();
  browser = await launchChromium();
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await shop?.close();
});

describe('the dashboard as served', () => {
  it('serves the shell for its views, hashed assets for a year, each with its content type', async () => {
    const shell = await fetch(`${shop.url}/dashboard`);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(shell.headers.get('cache-control')).toBe('no-cache');
    const html = await shell.text();
    expect(html).toContain('<div id="app"></div>');
    // A view the page renders (history-style) gets the same shell; a missing file is a 404 naming it.
    const view = await fetch(`${shop.url}/dashboard/users/user-0001`);
    expect(view.status).toBe(200);
    expect(await view.text()).toBe(html);
    const missing = await fetch(`${shop.url}/dashboard/assets/nope-123.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain(
      'assets/nope-123.js',
    );
    const escape = await fetch(`${shop.url}/dashboard/assets/..%2f..%2fpackage.json`);
    expect(escape.status).toBe(404);

    const assets = [...html.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const reply = await fetch(`${shop.url}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(reply.status, asset).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(reply.headers.get('content-type')).toBe(
        asset.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
      );
      expect(reply.headers.get('content-encoding')).toBe('gzip');
      // The page's own policy: its scripts and styles, same-origin calls, nothing inline or from elsewhere.
      expect(reply.headers.get('content-security-policy')).toContain("script-src 'self'");
      const again = await fetch(`${shop.url}${asset}`, {
        headers: { 'if-none-match': reply.headers.get('etag')! },
      });
      expect(again.status).toBe(304);
    }
  });

  it('says how to build the page when it is not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'attune-no-dashboard-'));
    const bare = Fastify();
    await bare.register(dashboardUiRoutes, { root: empty });
    try {
      const reply = await bare.inject({ method: 'GET', url: '/dashboard' });
      expect(reply.statusCode).toBe(404);
      expect(reply.json<{ error: { code: string; message: string } }>().error.message).toContain(
        'npm run build',
      );
      // Views still need the shell, which is missing too; a file outside the root is never read.
      expect((await bare.inject({ method: 'GET', url: '/dashboard/users' })).statusCode).toBe(404);
      expect((await bare.inject({ method: 'GET', url: '/dashboard/../package.json' })).statusCode).not.toBe(
        200,
      );
    } finally {
      await bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('is a production build under 500 KB gzipped', () => {
    const files = readdirSync(DASHBOARD_DIST, { recursive: true, withFileTypes: true }).filter((f) =>
      f.isFile(),
    );
    const gzipped = files.reduce(
      (sum, f) => sum + gzipSync(readFileSync(join(f.parentPath, f.name)), { level: 9 }).length,
      0,
    );
    expect(gzipped).toBeGreaterThan(10_000);
    expect(gzipped).toBeLessThan(BUDGET_GZIP_BYTES);
  });
});

describe('the dashboard in Chromium', () => {
  // The experiment's page last: its chart is checked on the page the tour leaves open (its report is the
  // slowest part to compute, so it is computed once). The holdout's report reads every user of the shop.
  const PAGES: readonly { readonly name: string; readonly view: string; readonly ready: string }[] = [
    { name: 'overview', view: 'overview', ready: '.stat' },
    { name: 'events', view: 'events', ready: 'table tbody tr' },
    { name: 'catalog', view: 'catalog', ready: 'table tbody tr' },
    { name: 'item', view: 'catalog/item-0001', ready: '.kv' },
    { name: 'users', view: 'users', ready: '[data-testid=user-list] a' },
    { name: 'models', view: 'models', ready: '[data-testid=candidates] tbody tr' },
    { name: 'segments', view: 'segments', ready: '[data-testid=projection] circle' },
    { name: 'decision-points', view: 'decisions', ready: 'table tbody tr' },
    {
      name: 'decision-point',
      view: `decisions/${DECISION_POINT_ID}`,
      ready: '[data-testid=reward-over-time] canvas',
    },
    { name: 'experiments', view: 'experiments', ready: 'table tbody tr' },
    { name: 'experiment', view: `experiments/${EXPERIMENT_ID}`, ready: '[data-testid=forest] svg' },
  ];
  let context: BrowserContext;
  let watched: Watched;

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    watched = await watchedPage(context);
  });
  afterAll(async () => {
    await context?.close();
  });

  it('loads every page without a console error, and shows its content', async () => {
    const { page, problems } = watched;
    for (const { name, view, ready } of PAGES) {
      await visit(page, view);
      await page.waitForSelector(ready, { timeout: 30_000 });
      // Nothing failed to load: no error box on the page either.
      const failures = await page.locator('.error-box').allTextContents();
      expect(failures, name).toEqual([]);
      await shoot(page, name);
      expect(problems, name).toEqual([]);
    }
  }, 120_000);

  it('draws an experiment’s result: the interval per metric and the lift over time', async () => {
    const { page, problems } = watched;
    if (!page.url().endsWith(`#/experiments/${EXPERIMENT_ID}`))
      await visit(page, `experiments/${EXPERIMENT_ID}`);
    const forestRows = page.locator('[data-testid=forest] .forest-row');
    await forestRows.first().waitFor();
    // purchase conversion, revenue per user and the day-7 guardrail have data; click-through has none.
    expect(await forestRows.count()).toBeGreaterThanOrEqual(2);
    const canvas = page.locator('[data-testid=lift-over-time] canvas').first();
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    expect(box?.width).toBeGreaterThan(200);
    expect(box?.height).toBeGreaterThan(100);
    expect(await page.locator('[data-testid=lift-over-time] .uplot').count()).toBe(1);
    // The chart drew something: its canvas is not blank.
    const inked = await canvas.evaluate((element) => {
      // A canvas, typed here by what is used of it: the test compiles without the DOM's types.
      const c = element as unknown as {
        width: number;
        height: number;
        getContext(kind: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      };
      const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let count = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) count++;
      return count;
    });
    expect(inked).toBeGreaterThan(500);
    // Hovering shows the values in a tooltip.
    await page
      .locator('[data-testid=lift-over-time] .u-over')
      .hover({ position: { x: box!.width * 0.6, y: box!.height / 3 } });
    await expect.poll(() => page.locator('.chart-tip').first().isVisible()).toBe(true);
    expect(await page.locator('.chart-tip').first().innerText()).toContain('popular lift');
    expect(await page.locator('.stat-label', { hasText: 'Sample ratio' }).count()).toBe(1);
    expect(await page.locator('[data-testid=srm-warning]').count()).toBe(0);
    await shoot(page, 'experiment-chart');
    expect(problems).toEqual([]);
  }, 60_000);

  it('shows a demo user’s recommendations with their reasons, and explains one', async () => {
    const { page, problems } = watched;
    await page.setViewportSize({ width: 1440, height: 1000 });
    await visit(page, `users/${encodeURIComponent(shop.demoUser)}`);
    const items = page.locator('[data-testid=recommendations] li');
    await items.first().waitFor();
    expect(await items.count()).toBeGreaterThanOrEqual(5);
    // The same list the API serves to this user, in order.
    const served = await shop.call<{ items: { item_id: string }[] }>(
      'GET',
      `/v1/recommendations?user_id=${encodeURIComponent(shop.demoUser)}&n=10`,
    );
    const shown = await page.locator('[data-testid=recommendations] li a').allInnerTexts();
    expect(shown).toEqual(served.body.items.map((i) => i.item_id));
    // Reasons in words, and the explanation of the first on a click.
    expect(await page.locator('.rec-reason').first().innerText()).not.toBe('');
    await page.locator('.rec-row').first().click();
    await page.locator('.rec-detail b').first().waitFor();
    await page.waitForFunction(nothingLoading);
    // The inspector's other panels: a segment, a churn risk, the history.
    expect(await page.locator('.badge', { hasText: /^seg-/ }).count()).toBe(1);
    expect(await page.locator('.badge', { hasText: / risk$/ }).count()).toBe(1);
    expect(await page.locator('.card', { hasText: 'History' }).locator('tbody tr').count()).toBeGreaterThan(
      0,
    );
    await shoot(page, 'user');
    expect(problems).toEqual([]);
  }, 60_000);

  it('streams new events as they arrive, filtered by the event name and user on the server', async () => {
    const { page, problems } = watched;
    await visit(page, 'events');
    await page.locator('input[aria-label="Event name (exact)"]').fill('Order Completed');
    await expect
      .poll(async () => new Set(await page.locator('tbody tr td:nth-child(3)').allInnerTexts()))
      .toEqual(new Set(['Order Completed']));
    await page.locator('input[aria-label="User id"]').fill('live-shopper');
    await page.locator('text=No events match these filters').waitFor();
    // Sent while the page is open: it appears on the next poll (every two seconds), highlighted.
    const sent = await shop.call<{ accepted: number }>('POST', '/v1/events', {
      events: [
        { event: 'Order Completed', user_id: 'live-shopper', properties: { revenue: 42 } },
        { event: 'Product Viewed', user_id: 'live-shopper', item_id: 'item-0002' },
      ],
    });
    expect(sent.body.accepted).toBe(2);
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
    expect(await rows.first().innerText()).toContain('live-shopper');
    expect(await rows.first().innerText()).toContain('"revenue":42');
    await shoot(page, 'events-live');
    expect(problems).toEqual([]);
  }, 60_000);

  // Last: creating a key ends the engine's open loopback mode for every other test.
  it('asks for the admin key once the engine has keys: a wrong one is refused, the right one signs in', async () => {
    const created = await shop.call<{ key: string }>('POST', '/v1/keys', {
      scope: 'admin',
      name: 'dashboard test',
    });
    expect(created.status).toBe(201);
    const server = await shop.call<{ key: string }>(
      'POST',
      '/v1/keys',
      { scope: 'server' },
      created.body.key,
    );
    expect(server.status).toBe(201);
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(`${shop.url}/dashboard/#/overview`);
      const input = page.locator('#admin-key');
      await input.waitFor();
      await shoot(page, 'sign-in');

      await input.fill('attune_admin_0000000000000000_wrongwrongwrongwrongwrongwrongwrongwrong1');
      await page.locator('button[type=submit]').click();
      await expect.poll(() => page.locator('.signin .error-box').innerText()).toContain('not valid');
      await input.fill(server.body.key);
      await page.locator('button[type=submit]').click();
      await expect.poll(() => page.locator('.signin .error-box').innerText()).toContain('admin scope');

      await input.fill(created.body.key);
      await page.locator('button[type=submit]').click();
      await page.locator('.stat').first().waitFor();
      expect(await page.locator('h1').innerText()).toBe('Overview');
      // Kept for this tab only, and sent on every call.
      expect(await page.evaluate(storedKey)).toBe(created.body.key);
      await visit(page, 'models');
      await page.locator('[data-testid=candidates]').waitFor();

      await page.locator('button', { hasText: 'Sign out' }).click();
      await page.locator('#admin-key').waitFor();
      expect(await page.evaluate(storedKey)).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
