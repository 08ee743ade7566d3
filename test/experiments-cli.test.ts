import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExperimentRegistry, MetricCatalog } from '../src/experiments/index.js';
import type { TrackedEvent } from '../src/events/index.js';
import { openSqliteStore } from '../src/store/index.js';

/** `attune experiments list|report` as a user runs them, on a store with exposures and events. */
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'attune-experiments-cli-'));
const env = { ...process.env, ATTUNE_DATA_DIR: dir, ATTUNE_HOLDOUT: '0.1' };
const T0 = Date.now() - 3 * 24 * 3600_000;
/** Users per arm and how many of them buy after exposure. */
const USERS = 2000;
const BUYERS = { control: 400, bigger: 700 };

beforeAll(async () => {
  const store = openSqliteStore({ dataDir: dir });
  const catalog = await MetricCatalog.open(store);
  const registry = await ExperimentRegistry.open(store, {
    holdout: 0.1,
    metricNames: () => catalog.metricNames(),
    exposureFlushMs: 1,
    onError: (error) => {
      throw error;
    },
  });
  await registry.create({ id: 'bigger', variants: [{ name: 'control' }, { name: 'bigger' }] });
  await registry.start('bigger');
  // Exposures written directly, so the arms' sizes and outcomes are exactly known.
  const exposures = [];
  const events: TrackedEvent[] = [];
  for (const arm of ['control', 'bigger'] as const) {
    for (let i = 0; i < USERS; i++) {
      const userId = `${arm}-${i}`;
      exposures.push({ experiment: 'bigger', userId, variant: arm, at: T0 + i });
      if (i < BUYERS[arm]) {
        events.push({
          eventId: `${userId}-buy`,
          name: 'Order Completed',
          userId,
          itemId: null,
          timestamp: T0 + i + 3600_000,
          receivedAt: T0 + i + 3600_000,
          context: {},
          properties: { revenue: 20 },
          requestId: null,
        });
      }
    }
  }
  await store.appendExposures(exposures);
  await store.appendEvents(events, { createMissingItems: true });
  await store.close();
});
afterAll(() => {
  if (!process.env['KEEP']) rmSync(dir, { recursive: true, force: true });
});

describe('attune experiments', () => {
  it('report --json gives the analysis per metric, with the conversion each arm had', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'experiments', 'report', 'bigger', '--json'], {
      env,
    });
    const report = JSON.parse(stdout) as {
      exposed: Record<string, number>;
      sample_ratio: { mismatch: boolean };
      summary: string[];
      metrics: { metric: string; analysis: { variants: Record<string, { n: number; mean: number }> } }[];
    };
    expect(report.exposed).toEqual({ control: USERS, bigger: USERS });
    expect(report.sample_ratio.mismatch).toBe(false);
    const conversion = report.metrics.find((m) => m.metric === 'purchase_conversion')!;
    expect(conversion.analysis.variants['control']).toMatchObject({ n: USERS, mean: BUYERS.control / USERS });
    expect(conversion.analysis.variants['bigger']).toMatchObject({ n: USERS, mean: BUYERS.bigger / USERS });
    // +75% relative; with 2,000 users per arm even the always-valid interval excludes 0.
    expect(report.summary[0]).toMatch(/^purchase conversion \+75\.0% .* significantly better/);
  });

  it('report prints a table, and list names every experiment with its exposed users', async () => {
    const table = (await run(process.execPath, [CLI, 'experiments', 'report', 'bigger'], { env })).stdout;
    expect(table).toContain('exposed users: control 2000, bigger 2000; sample ratio p = 1.00 OK');
    expect(table).toMatch(/purchase_conversion \(primary, conversion\)/);
    const list = (await run(process.execPath, [CLI, 'experiments', 'list'], { env })).stdout;
    expect(list).toMatch(/^bigger\s+running\s+layer default 100%\s+bigger: 2000, control: 2000$/m);
    expect(list).toContain('global holdout: 10.0%');
  });

  it('an unknown experiment is a clear error and a non-zero exit', async () => {
    const failed = await run(process.execPath, [CLI, 'experiments', 'report', 'nope'], { env }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain('no experiment "nope"');
  });
});
