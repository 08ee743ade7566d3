/**
 * The browser tracking bundle in real Chromium against the real engine: a page on one origin (a small
 * server on loopback) tracks to the engine on another, through CORS, offline and back, and by beacon when
 * the page goes away. Every event must arrive exactly once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { defaultHttpLimits } from '../../../src/api/index.js';
import { launchChromium } from '../../../test/chromium.js';
import { bundleBrowser } from '../scripts/bundle.js';
import { createKey, startEngine, startProxy, type Proxy, type RunningEngine } from './servers.js';

let engine: RunningEngine;
let writeKey: string;
let site: Server;
let siteUrl: string;
let browser: Browser;
let context: BrowserContext;
let proxy: Proxy;

/**
 * A shop page that loads the bundle and makes a tracker; `?interval=` sets flushIntervalMs, `?via=proxy`
 * sends through the recording proxy rather than to the engine directly.
 */
function pageHtml(interval: string, host: string): string {
  return `<!doctype html><html><head><title>Tent page</title></head><body>
<script type="module">
  import { createTracker } from '/attune.min.js';
  window.tracker = createTracker({ host: ${JSON.stringify(host)}, writeKey: ${JSON.stringify(writeKey)},
    flushIntervalMs: ${Number(interval)}, retryDelayMs: 20,
    onError: (e) => (window.sdkErrors ??= []).push(e.code + ': ' + e.message) });
  window.ready = true;
</script></body></html>`;
}

beforeAll(async () => {
  const bundle = await bundleBrowser('esm');
  site = createServer((request, response) => {
    const url = new URL(request.url!, 'http://site');
    if (url.pathname === '/attune.min.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(bundle);
    } else {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(
        url.pathname === '/elsewhere'
          ? '<p>elsewhere</p>'
          : pageHtml(
              url.searchParams.get('interval') ?? '200',
              url.searchParams.get('via') === 'proxy' ? proxy.url : engine.url,
            ),
      );
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  // The engine on another origin, allowing the shop's.
  engine = await startEngine(undefined, { ...defaultHttpLimits, corsOrigins: [siteUrl] });
  writeKey = await createKey(engine.t, 'ingest');
  proxy = await startProxy(engine.url);
  browser = await launchChromium();
  context = await browser.newContext();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await engine?.close();
  await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
});

// A failed test must not leave the next one offline.
afterEach(() => context?.setOffline(false));

async function openShopPage(interval = 200, via = 'engine'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${siteUrl}/p/tent?interval=${interval}&via=${via}`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  return page;
}

type TrackerWindow = {
  tracker: {
    track(event: string, options?: object): string;
    page(options?: object): string;
    identify(userId: string, traits?: object): void;
    reset(): void;
    userId: string | null;
    flush(): Promise<unknown>;
  };
  sdkErrors?: string[];
};

const track = (page: Page, count: number, itemPrefix: string) =>
  page.evaluate(
    ([n, prefix]) =>
      Array.from({ length: n }, (_, i) =>
        (window as unknown as TrackerWindow).tracker.track('product_viewed', { itemId: `${prefix}-${i}` }),
      ),
    [count, itemPrefix] as const,
  );

const stored = (userId: string) => engine.t.engine.userEvents(userId, 1000);
const queued = (page: Page) =>
  page.evaluate(
    () =>
      (JSON.parse(localStorage.getItem('attune.queue') ?? '{"events":[]}') as { events: unknown[] }).events
        .length,
  );

describe('the browser tracker in Chromium', () => {
  const sent: string[] = [];

  it('sends batches cross-origin with the ingest key, page views with the URL and title', async () => {
    const page = await openShopPage();
    const first = await page.evaluate(() => {
      const w = window as unknown as TrackerWindow;
      w.tracker.identify('shopper', { plan: 'free' });
      return [w.tracker.page()];
    });
    sent.push(...first, ...(await track(page, 3, 'live')));
    await expect.poll(async () => (await stored('shopper')).length, { timeout: 5000 }).toBe(4);
    const view = (await stored('shopper')).find((e) => e.name === 'page_viewed')!;
    expect(view.properties).toMatchObject({
      url: `${siteUrl}/p/tent?interval=200&via=engine`,
      path: '/p/tent',
      title: 'Tent page',
    });
    expect((await engine.t.engine.getUser('shopper'))?.traits).toEqual({ plan: 'free' });
    // Acknowledged events leave storage (the reply comes just after the engine commits).
    await expect.poll(() => queued(page)).toBe(0);
    await page.close();
  });

  it('keeps events in localStorage while offline and delivers them when back online', async () => {
    const page = await openShopPage();
    await context.setOffline(true);
    sent.push(...(await track(page, 3, 'offline')));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await queued(page)).toBe(3);
    expect(await stored('shopper')).toHaveLength(4);
    await context.setOffline(false);
    await expect.poll(async () => (await stored('shopper')).length, { timeout: 5000 }).toBe(7);
    await expect.poll(() => queued(page)).toBe(0);
    await page.close();
  });

  it('sends what is queued by sendBeacon when the page goes away', async () => {
    // A minute's interval: nothing would be sent before the page is left.
    const page = await openShopPage(60_000, 'proxy');
    sent.push(...(await track(page, 5, 'beacon')));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stored('shopper')).toHaveLength(7);
    await page.goto(`${siteUrl}/elsewhere`);
    await expect.poll(async () => (await stored('shopper')).length, { timeout: 5000 }).toBe(12);
    // One beacon: text/plain (no CORS preflight), no Authorization header, the key in the body.
    expect(
      proxy.seen.map((r) => [r.method, r.url, r.headers['content-type'], r.headers.authorization]),
    ).toEqual([['POST', '/v1/events', 'text/plain;charset=UTF-8', undefined]]);
    expect(JSON.parse(proxy.seen[0]!.body)).toMatchObject({ write_key: writeKey, events: expect.any(Array) });
    await page.close();
  });

  it('keeps what could not be sent on leaving offline, and the next page sends it', async () => {
    const page = await openShopPage(60_000);
    await context.setOffline(true);
    sent.push(...(await track(page, 2, 'next-page')));
    // Closed while offline: a beacon would be lost, so the events stay in storage.
    await page.close();
    await context.setOffline(false);
    const next = await openShopPage();
    await expect.poll(async () => (await stored('shopper')).length, { timeout: 5000 }).toBe(14);
    // The tracker empties its queue when the reply arrives, which may be just after the server stored them.
    await expect.poll(() => queued(next), { timeout: 5000 }).toBe(0);
    expect(await next.evaluate(() => (window as unknown as TrackerWindow).sdkErrors ?? [])).toEqual([]);
    await next.close();
  });

  it('reset forgets the identified user: a new anonymous id, also on the next page', async () => {
    const page = await openShopPage();
    const before = await page.evaluate(() => (window as unknown as TrackerWindow).tracker.userId);
    expect(before).toBe('shopper');
    const after = await page.evaluate(() => {
      const w = window as unknown as TrackerWindow;
      w.tracker.reset();
      return w.tracker.userId;
    });
    expect(after).toMatch(/^anon-[0-9a-f-]{36}$/);
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    expect(await page.evaluate(() => (window as unknown as TrackerWindow).tracker.userId)).toBe(after);
    await page.close();
  });

  it('stored every event exactly once', async () => {
    const events = await stored('shopper');
    expect(events.map((e) => e.eventId).sort()).toEqual([...sent].sort());
    expect(new Set(sent).size).toBe(14);
  });
});
