import { afterEach, describe, expect, it } from 'vitest';
import { RawHttpPool, type RawReply } from '../bench/raw-http.js';
import { loopbackServer } from './loopback-server.js';

// The benches' load generator client (`bench/raw-http.ts`) against a real node:http server: every way a
// reply can be framed, and what the server saw of each request.

const { serve, close } = loopbackServer();
let pool: RawHttpPool | null = null;

afterEach(async () => {
  pool?.destroy();
  pool = null;
  await close();
});

const send = (bytes: Buffer, keepBody = true): Promise<RawReply | 'error'> =>
  new Promise((done) => pool!.send(bytes, done, keepBody));

describe('RawHttpPool', () => {
  it('sends the method, path, headers and body, and reads a content-length reply', async () => {
    const seen: string[] = [];
    const url = await serve((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push(`${request.method} ${request.url} ${request.headers['authorization']} ${body}`);
        response.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    pool = new RawHttpPool(url, 4, { authorization: 'Bearer k' });
    const reply = await send(pool.prepare('POST', '/v1/things?x=1', '{"a":1}'));
    expect(reply).not.toBe('error');
    expect((reply as RawReply).status).toBe(201);
    expect((reply as RawReply).body.toString()).toBe('{"ok":true}');
    expect(seen).toEqual(['POST /v1/things?x=1 Bearer k {"a":1}']);
  });

  it('reads chunked replies written in pieces, and replies without a body', async () => {
    const url = await serve((request, response) => {
      if (request.url === '/empty') return void response.writeHead(204).end();
      response.writeHead(200);
      response.write('{"part":');
      setTimeout(() => response.end('"two"}'), 5);
    });
    pool = new RawHttpPool(url, 1);
    const chunked = await send(pool.prepare('GET', '/chunked'));
    expect((chunked as RawReply).body.toString()).toBe('{"part":"two"}');
    // The same (only) socket serves the next request: the chunked reply's end was read exactly.
    const empty = await send(pool.prepare('GET', '/empty'));
    expect((empty as RawReply).status).toBe(204);
    expect((empty as RawReply).body.length).toBe(0);
  });

  it('queues requests beyond maxSockets and answers each with its own reply, in any order', async () => {
    let open = 0;
    let most = 0;
    const url = await serve((request, response) => {
      open++;
      most = Math.max(most, open);
      // Later requests are answered sooner, so replies come back out of order.
      const wait = 20 - Number(request.url!.slice(1));
      setTimeout(() => {
        open--;
        response.end(request.url);
      }, wait);
    });
    pool = new RawHttpPool(url, 3);
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(pool!.prepare('GET', `/${i}`))),
    );
    expect(replies.map((r) => (r as RawReply).body.toString())).toEqual(
      Array.from({ length: 10 }, (_, i) => `/${i}`),
    );
    expect(most).toBeLessThanOrEqual(3);
  });

  it('keeps no body unless asked, and reports a refused connection as an error', async () => {
    const url = await serve((_request, response) => response.end('x'.repeat(100_000)));
    pool = new RawHttpPool(url, 2);
    const reply = await send(pool.prepare('GET', '/big'), false);
    expect((reply as RawReply).status).toBe(200);
    expect((reply as RawReply).body.length).toBe(0);
    pool.destroy();
    await close();
    pool = new RawHttpPool(url, 2);
    expect(await send(pool.prepare('GET', '/'))).toBe('error');
  });
});
