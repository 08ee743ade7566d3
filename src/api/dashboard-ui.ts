import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './errors.js';

/**
 * The dashboard (`dashboard/`, built by Vite into `dist/dashboard/`) at `/dashboard`: its shell and assets
 * are public, since they hold no data; every call the page makes goes to admin routes with the key the
 * page asks for. Hashed files under `assets/` are cached for a year; index.html is revalidated, so a new
 * build is picked up on the next load. Paths that name no file (the app's own routes) get index.html.
 */
export interface DashboardUiOptions {
  /** The built files; default `dist/dashboard/` of this package (the same from `src/` and `dist/`). */
  readonly root?: string;
}

export const DEFAULT_DASHBOARD_ROOT = fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The API's policy allows nothing; the page needs its own scripts, styles and same-origin calls, and
 * still nothing inline, nothing from elsewhere, and no framing.
 */
const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Worth compressing: text. Images and fonts are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt']);

interface CachedFile {
  readonly mtimeMs: number;
  readonly size: number;
  readonly body: Buffer;
  /** Gzipped once when first served, for clients that accept it. */
  readonly gzip: Buffer | null;
  readonly etag: string;
}

/** Each file read and compressed once per build: checked by its mtime and size on every request. */
class FileCache {
  readonly #files = new Map<string, CachedFile>();

  async get(path: string): Promise<CachedFile | null> {
    let info;
    try {
      info = await stat(path);
    } catch {
      return null;
    }
    if (!info.isFile()) return null;
    const cached = this.#files.get(path);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
    const body = await readFile(path);
    const gzip = COMPRESSIBLE.has(extname(path)) && body.length > 1024 ? gzipSync(body, { level: 9 }) : null;
    const file = {
      mtimeMs: info.mtimeMs,
      size: info.size,
      body,
      gzip,
      etag: `"${info.size}-${Math.round(info.mtimeMs)}"`,
    };
    this.#files.set(path, file);
    return file;
  }
}

/** The file a request path names inside `root`, or null for one that would leave it. */
function inside(root: string, relative: string): string | null {
  if (relative.includes('\0')) return null;
  const path = normalize(join(root, relative));
  return path.startsWith(root.endsWith(sep) ? root : root + sep) ? path : null;
}

function acceptsGzip(request: FastifyRequest): boolean {
  const accept = request.headers['accept-encoding'];
  return typeof accept === 'string' && /\bgzip\b/.test(accept);
}

function send(request: FastifyRequest, reply: FastifyReply, file: CachedFile, type: string, cache: string) {
  void reply.header('content-type', type).header('cache-control', cache).header('etag', file.etag);
  void reply.header('content-security-policy', PAGE_POLICY).header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  if (file.gzip !== null && acceptsGzip(request)) {
    return reply.header('content-encoding', 'gzip').send(file.gzip);
  }
  return reply.send(file.body);
}

export const dashboardUiRoutes: FastifyPluginAsync<DashboardUiOptions> = async (app, options) => {
  const root = normalize(options.root ?? DEFAULT_DASHBOARD_ROOT);
  const files = new FileCache();
  // Hidden from the OpenAPI document: these are the page's files, not API routes. The 200 reply is the
  // file's bytes (a Buffer bypasses serialization), described for checks that want a schema per reply.
  const schema = {
    hide: true,
    response: {
      200: Type.String({ description: "the dashboard's HTML, JavaScript or CSS" }),
      404: Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) }),
    },
  };

  const index = async (request: FastifyRequest, reply: FastifyReply) => {
    const file = await files.get(join(root, 'index.html'));
    if (file === null) {
      return reply
        .status(404)
        .send(
          errorBody(
            'not_found',
            'the dashboard is not built on this server: run "npm run build" (which runs ' +
              `"vite build --config dashboard/vite.config.ts" into ${root}), then reload this route`,
          ),
        );
    }
    return send(request, reply, file, TYPES['.html']!, 'no-cache');
  };

  app.get('/dashboard', { schema }, index);

  app.get('/dashboard/*', { schema }, async (request, reply) => {
    const relative = (request.params as { '*': string })['*'];
    // A path with no extension outside assets/ is one of the app's own views: the shell renders it.
    const isFile = relative.startsWith('assets/') || extname(relative) !== '';
    if (!isFile) return index(request, reply);
    const path = inside(root, relative);
    const file = path === null ? null : await files.get(path);
    if (path === null || file === null) {
      return reply
        .status(404)
        .send(errorBody('not_found', `the dashboard has no file at path "${relative.slice(0, 200)}"`));
    }
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    // Vite names every file under assets/ by a hash of its content: a new build gets new names.
    const cache = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return send(request, reply, file, type, cache);
  });
};
