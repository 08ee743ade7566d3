import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../run-built-cli.js';
import type { NotifyEvaluateJson } from './notify.js';

/**
 * `attune notify evaluate` as a user runs it: the compiled CLI on a small hand-built ml100k log. Forty
 * users: each visits at their own hour of week for four weeks, then once more after a gap; most return at
 * their hour, so the user model hits; everyone's hours differ, so the population's top 3 rarely does.
 */
const dir = mkdtempSync(join(tmpdir(), 'attune-notify-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MONDAY = Date.UTC(2024, 0, 1) / 1000;
const HOUR = 3600;
const WEEK = 7 * 24 * HOUR;
const lines: string[] = [];
for (let u = 0; u < 40; u++) {
  const own = (u * 7) % 168;
  for (let k = 0; k < 4; k++) lines.push(`${u}\t1\t5\t${MONDAY + k * WEEK + own * HOUR}`);
  // Three in four come back at their hour; the others at an hour nobody uses (167).
  const back = u % 4 === 3 ? 167 : own;
  lines.push(`${u}\t2\t4\t${MONDAY + 6 * WEEK + back * HOUR}`);
}
const LOG = join(dir, 'u.data');
writeFileSync(LOG, `${lines.join('\n')}\n`);

describe.concurrent('attune notify evaluate', () => {
  it('prints one JSON object with the hit rates, the ratio and the chosen prior', async () => {
    const { code, stdout, stderr } = await runBuiltCli(
      ['notify', 'evaluate', '--input', LOG, '--format', 'ml100k', '--json'],
      30_000,
    );
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as NotifyEvaluateJson;
    expect(result).toMatchObject({ users: 40, users_judged: 40 });
    expect(result.hit_rate).toBe(30 / 40);
    expect(result.population_hit_rate).toBeLessThan(0.2);
    expect(result.ratio!).toBeGreaterThan(3);
    expect(result.prior_strength).toBeGreaterThan(0);
    expect(result.chosen_by).toMatch(/validation cut/);
  });

  it('prints a summary without --json, and names a bad format', async () => {
    const { code, stdout } = await runBuiltCli(['notify', 'evaluate', '--input', LOG, '--format', 'ml100k']);
    expect(code).toBe(0);
    expect(stdout).toContain('40 of 40 users judged');
    expect(stdout).toMatch(/ratio\s+\d+\.\d\d/);
    const bad = await runBuiltCli(['notify', 'evaluate', '--input', LOG, '--format', 'csv']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--format/);
  });
});
