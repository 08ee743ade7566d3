/**
 * Real servers for the SDK's tests: the Attune app on a loopback port (the same engine and routes as
 * production, on a temp SQLite store), and a small HTTP proxy in front of it that can answer for it (503,
 * 429), lose its reply, or drop the connection, so retries meet a real peer.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { HttpLimits } from '../../../src/api/index.js';
import { openTestApp, type TestApp } from '../../../test/helpers.js';

export interface RunningEngine {
  readonly t: TestApp;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/** The app listening on an ephemeral loopback port. `seed` runs while the engine is still keyless. */
export async function startEngine(
  seed?: (t: TestApp) => Promise<void>,
  limits?: HttpLimits,
): Promise<RunningEngine> {
  // openTestApp checks every reply against its route's schema: the SDK's calls are a conformance check too.
  const t = await openTestApp({}, undefined, limits);
  if (seed) await seed(t);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  return { t, url: `http://127.0.0.1:${port}`, close: () => t.close() };
}

export async function createKey(t: TestApp, scope: 'ingest' | 'server' | 'admin'): Promise<string> {
  return (await t.engine.access.create({ scope })).key;
}

/** What the proxy does with one request. */
export type ProxyAction =
  | 'forward'
  /** Forwards, then answers 502 instead of the engine's reply: the client cannot know it was stored. */
  | 'lose-reply'
  /** Closes the connection without a reply. */
  | 'drop'
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: unknown };

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly at: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface Proxy {
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Actions for the next requests, in order; `forward` once they are used up. */
  plan(...actions: ProxyAction[]): void;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startProxy(target: string): Promise<Proxy> {
  const seen: SeenRequest[] = [];
  let actions: ProxyAction[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      seen.push({
        method: request.method!,
        url: request.url!,
        at: Date.now(),
        headers: request.headers,
        body,
      });
      const action = actions.shift() ?? 'forward';
      if (action === 'drop') {
        request.socket.destroy();
        return;
      }
      if (typeof action === 'object') {
        response.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
        response.end(action.body === undefined ? '' : JSON.stringify(action.body));
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type']) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const forwarded = await fetch(target + request.url, {
        method: request.method!,
        headers,
        ...(body === '' ? {} : { body }),
      });
      const text = await forwarded.text();
      if (action === 'lose-reply') {
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end('bad gateway');
        return;
      }
      const replyHeaders: Record<string, string> = {
        'content-type': forwarded.headers.get('content-type') ?? '',
      };
      const retryAfter = forwarded.headers.get('retry-after');
      if (retryAfter !== null) replyHeaders['retry-after'] = retryAfter;
      response.writeHead(forwarded.status, replyHeaders);
      response.end(text);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    plan: (...next) => {
      actions = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
