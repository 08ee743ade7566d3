import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startupBlock } from '../src/cli/commands/serve.js';
import { assertBuilt, killAll, startServer, stopProcess } from './process.js';

/**
 * What `attune serve` (and `npm start`, which is `attune start`) prints once listening: where the API, the
 * dashboard and the API reference are, who may call it, the holdout, the data. The compiled CLI (`npm test`
 * builds it first) on a fresh store.
 */
const dir = mkdtempSync(join(tmpdir(), 'attune-serve-cli-'));
beforeAll(() => assertBuilt());
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('attune serve start-up block', () => {
  it('names every address, the keyless loopback situation, the holdout and the data', async () => {
    const server = await startServer(join(dir, 'open'), { ATTUNE_HOLDOUT: '0.1' });
    try {
      const log = server.log();
      const { url } = server;
      expect(log).toContain(`Attune is serving at ${url}\n`);
      expect(log).toMatch(new RegExp(`\\n {2}API +${url}/v1 `));
      expect(log).toMatch(new RegExp(`\\n {2}dashboard +${url}/dashboard\\n`));
      expect(log).toMatch(new RegExp(`\\n {2}API reference +${url}/docs\\n`));
      expect(log).toMatch(/\n {2}access +loopback clients only, no key needed/);
      expect(log).toMatch(/\n {2}holdout +10% of users get popularity/);
      expect(log).toMatch(/\n {2}data +0 events in /);
      expect(log).toMatch(/\n {2}model +none yet: send events/);
      // The addresses it prints answer.
      for (const path of ['/dashboard', '/docs']) {
        expect((await fetch(`${url}${path}`)).status, path).toBeLessThan(400);
      }
    } finally {
      await stopProcess(server.child, 'SIGTERM');
    }
  });

  it('says keys are required when an admin key is configured', async () => {
    const server = await startServer(join(dir, 'keyed'), {
      ATTUNE_ADMIN_KEY: 'attune-test-admin-key-0123456789abcdef',
      ATTUNE_HOLDOUT: '0',
    });
    try {
      expect(server.log()).toMatch(/\n {2}access +API keys required on every route but \/health/);
      expect(server.log()).toMatch(/\n {2}holdout +off \(ATTUNE_HOLDOUT=0\)/);
      expect(server.log()).toContain('Authorization: Bearer $ATTUNE_KEY');
    } finally {
      await stopProcess(server.child, 'SIGTERM');
    }
  });
});

describe('startupBlock', () => {
  it('leaves out the addresses of routes this build does not serve, and names the serving model', () => {
    const block = startupBlock({
      url: 'http://127.0.0.1:8080',
      open: true,
      holdout: 0.05,
      dashboard: false,
      docs: true,
      data: 'demo shop loaded: 2,000 users · 500 items · 60,000 events',
      model: 'version 1 serving: blend of als ×1 + ease ×0.2',
    });
    const lines = block.split('\n');
    expect(lines[0]).toBe('Attune is serving at http://127.0.0.1:8080');
    expect(block).not.toContain('dashboard');
    expect(block).toContain('  API reference  http://127.0.0.1:8080/docs');
    expect(block).toContain('  holdout        5% of users get popularity, never personalization');
    expect(block).toContain('  model          version 1 serving: blend of als ×1 + ease ×0.2');
    // Aligned: every value starts in the same column.
    const columns = new Set(lines.slice(1).map((line) => line.search(/(?<=\S {2,})\S/)));
    expect(columns.size).toBe(1);
  });
});
