/**
 * The floor a latency bench is read against: a bare `node:http` server in its own process that answers
 * every request with a reply recorded from the real server (same bytes, same keep-alive), doing nothing
 * else. Measured in turn with the real servers, by the same generator, it shows what the machine, the
 * loopback and the generator cost on their own: the part of a p99 no change to Attune can remove.
 *
 * Run as a script by `startFloorServer`: `node --import tsx bench/floor-server.ts ROUTES.json`, where the
 * file maps path prefixes to reply bodies (the first prefix a request's path starts with answers it; any
 * other path gets a 404).
 */
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcessServer, tempDataDir, type RunningServer } from './server.js';

const SCRIPT = fileURLToPath(import.meta.url);

/** Starts the floor with `routes` (path prefix → reply body); resolves once it serves. */
export function startFloorServer(routes: Readonly<Record<string, string>>): Promise<RunningServer> {
  const file = join(tempDataDir('floor'), 'routes.json');
  writeFileSync(file, JSON.stringify(routes));
  return startProcessServer(['--import', 'tsx', SCRIPT, file]);
}

function serve(routesFile: string): void {
  const routes = Object.entries(JSON.parse(readFileSync(routesFile, 'utf8')) as Record<string, string>).map(
    ([prefix, body]) => [prefix, Buffer.from(body)] as const,
  );
  const server = createServer((request, response) => {
    // Read the body as a framework would before answering (a POST's JSON), then answer.
    request.resume();
    request.on('end', () => {
      const body = routes.find(([prefix]) => request.url?.startsWith(prefix) === true)?.[1];
      if (body === undefined) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
    });
  });
  // Fastify's default, which Attune's server keeps: connections outlive the generator's pauses between runs.
  server.keepAliveTimeout = 72_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    process.stderr.write(`serving at http://127.0.0.1:${port}\n`);
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

if (process.argv[1] === SCRIPT) serve(process.argv[2]!);
