import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One node:http server on a loopback port for a test file (the bench clients' tests): `serve` starts it
 * and gives its URL, `close` stops whichever is running (an `afterEach`).
 */
export function loopbackServer(): {
  serve: (handler: RequestListener) => Promise<string>;
  close: () => Promise<void>;
} {
  let server: Server | null = null;
  return {
    async serve(handler) {
      const started = createServer(handler);
      server = started;
      await new Promise<void>((done) => started.listen(0, '127.0.0.1', done));
      return `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
    },
    async close() {
      const running = server;
      server = null;
      if (running) await new Promise<void>((done) => running.close(() => done()));
    },
  };
}
