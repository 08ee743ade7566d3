import { readFile } from 'node:fs/promises';

import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ROUTE_ACCESS } from '../src/api/access.js';
import { renderOpenApiDocument } from '../src/api/openapi-document.js';
import { API_TAGS, useApiDocs, type ReplyMismatch } from '../src/api/openapi.js';
import { launchChromium } from './chromium.js';
import { openTestApp, type TestApp } from './helpers.js';

// Issue 13: the OpenAPI document is generated from the route schemas, served at /docs, and checked in as
// docs/openapi.json. Every reply of the suite is checked against it (test/helpers.ts `openTestApp`).

const DOCUMENT = new URL('../docs/openapi.json', import.meta.url);

interface Operation {
  readonly summary?: string;
  readonly tags?: readonly string[];
  readonly security?: readonly Record<string, readonly string[]>[];
  readonly description?: string;
  readonly responses: Record<string, { readonly content?: Record<string, { readonly schema?: unknown }> }>;
}
type Document = { readonly paths: Record<string, Record<string, Operation>> };

/** `GET /v1/items/:id` → `['/v1/items/{id}', 'get']`. */
function operationKey(route: string): [string, string] {
  const [method = '', url = ''] = route.split(' ');
  return [url.replace(/:([A-Za-z_]+)/g, '{$1}'), method.toLowerCase()];
}

/**
 * The routes the document must describe: all but CORS preflights and the HTML pages (this reference at
 * /docs and the dashboard's pages, whose data routes are under /v1/dashboard).
 */
const documented = Object.keys(ROUTE_ACCESS).filter((route) => {
  const url = route.split(' ')[1]!;
  return !route.startsWith('OPTIONS ') && !/^\/(docs|dashboard)(\/|$)/.test(url);
});

describe('the OpenAPI document (issue 13)', () => {
  let generated: string;
  let document: Document;
  beforeAll(async () => {
    generated = await renderOpenApiDocument();
    document = JSON.parse(generated) as Document;
  }, 60_000);

  it('docs/openapi.json is the document the routes generate', async () => {
    const checkedIn = await readFile(DOCUMENT, 'utf8').catch(() => '');
    expect(checkedIn === generated, 'docs/openapi.json is stale: run npm run openapi').toBe(true);
  });

  it('describes every route with a summary, a known tag, and a 2xx reply schema', () => {
    const known = new Set(API_TAGS.map((tag) => tag.name));
    const problems: string[] = [];
    for (const route of documented) {
      const [path, method] = operationKey(route);
      const operation = document.paths[path]?.[method];
      if (operation === undefined) {
        problems.push(`${route}: not in the document`);
        continue;
      }
      if (!operation.summary) problems.push(`${route}: no summary`);
      if (!operation.tags?.length || !operation.tags.every((tag) => known.has(tag)))
        problems.push(`${route}: tags ${JSON.stringify(operation.tags)} are not among API_TAGS`);
      const success = Object.entries(operation.responses).filter(([status]) => /^2/.test(status));
      // 204 has no content by definition; every other 2xx documents its body.
      if (success.length === 0 || success.some(([status, r]) => status !== '204' && !r.content))
        problems.push(`${route}: no 2xx reply schema`);
    }
    expect(problems).toEqual([]);
  });

  it('says which key each operation needs, from ROUTE_ACCESS', () => {
    for (const route of documented) {
      const [path, method] = operationKey(route);
      const operation = document.paths[path]?.[method];
      if (operation === undefined) continue; // reported by the test above
      const access = ROUTE_ACCESS[route];
      const schemes = (operation.security ?? []).flatMap((s) => Object.keys(s)).sort();
      expect(schemes, route).toEqual(
        access === 'public' ? [] : access === 'ingest' ? ['basic', 'bearer'] : ['bearer'],
      );
      if (access !== 'public') {
        expect(operation.description, route).toContain(`\`${access}\` scope`);
        expect(Object.keys(operation.responses), route).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
  });
});

describe('/docs (issue 13)', () => {
  let api: TestApp;
  beforeAll(async () => {
    api = await openTestApp();
  });
  afterAll(async () => api.close());

  it('serves the interactive reference with its own assets (no CDN), without a key', async () => {
    const page = await api.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('swagger-ui');
    // Offline: every script and stylesheet is served by the engine itself.
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(3);
    for (const asset of assets) {
      expect(asset, 'an asset from another origin').not.toMatch(/^(https?:)?\/\//);
      const reply = await api.app.inject({ method: 'GET', url: asset });
      expect(reply.statusCode, asset).toBe(200);
    }
    // The API's policy forbids scripts; the reference's own allows this origin's.
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('serves the same document as docs/openapi.json at /docs/json', async () => {
    const reply = await api.app.inject({ method: 'GET', url: '/docs/json' });
    expect(reply.statusCode).toBe(200);
    const checkedIn = JSON.parse(await readFile(DOCUMENT, 'utf8')) as unknown;
    expect(JSON.parse(reply.body)).toEqual(checkedIn);
  });
});

describe('/docs in a browser (issue 13)', () => {
  it('renders every operation in Debian’s Chromium, offline: no request leaves the engine', async () => {
    const api = await openTestApp();
    const browser = await launchChromium();
    try {
      await api.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = api.app.server.address() as { port: number };
      const origin = `http://127.0.0.1:${port}`;
      const page = await browser.newPage();
      const problems: string[] = [];
      // A CSP that blocked the reference's scripts or styles would show here, as would a CDN asset.
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith(origin) && !url.startsWith('data:')) problems.push(`request to ${url}`);
      });
      await page.goto(`${origin}/docs`);
      await page.waitForSelector('.opblock', { timeout: 30_000 });
      const document = JSON.parse(await readFile(DOCUMENT, 'utf8')) as Document;
      const operations = Object.values(document.paths).reduce((n, path) => n + Object.keys(path).length, 0);
      expect(await page.locator('.opblock').count()).toBe(operations);
      // Interactive: an operation opens to its parameters and replies.
      await page.locator('.opblock-summary').first().click();
      await page.waitForSelector('.responses-wrapper');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await api.close();
    }
  }, 120_000);
});

describe('response schemas document replies without changing them (issue 13)', () => {
  /** A bare app with the docs and the reply check, and two routes whose replies break their schemas. */
  async function bareApp() {
    const mismatches: ReplyMismatch[] = [];
    const app = Fastify();
    useApiDocs(app, { validateReplies: (m) => mismatches.push(m) });
    app.get(
      '/loose',
      { schema: { response: { 200: Type.Object({ a: Type.Number() }) } } },
      // `b` is not in the schema and `a` is a string: fast-json-stringify would drop `b` and coerce `a`.
      async () => ({ a: 1, b: { nested: [1, 'two'] } }),
    );
    app.get(
      '/wrong',
      { schema: { response: { 200: Type.Object({ a: Type.Number() }, { additionalProperties: false }) } } },
      async () => ({ a: 'one', extra: true }),
    );
    await app.ready();
    return { app, mismatches };
  }

  it('sends every property the handler built, as JSON.stringify writes it', async () => {
    const { app, mismatches } = await bareApp();
    const reply = await app.inject({ method: 'GET', url: '/loose' });
    expect(reply.statusCode).toBe(200);
    expect(reply.body).toBe(JSON.stringify({ a: 1, b: { nested: [1, 'two'] } }));
    expect(mismatches).toEqual([]);
    await app.close();
  });

  it('answers a reply that breaks its schema with a 500 naming the path, and reports it', async () => {
    const { app, mismatches } = await bareApp();
    const reply = await app.inject({ method: 'GET', url: '/wrong' });
    expect(reply.statusCode).toBe(500);
    const body = JSON.parse(reply.body) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('reply_schema_mismatch');
    expect(body.error.message).toContain('/a must be number');
    expect(body.error.message).toContain('"extra"');
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]).toMatchObject({ route: 'GET /wrong', status: 200 });
    await app.close();
  });
});
