import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';

/**
 * The compiled CLI's V8 flags (`src/cli/v8-flags.ts`), seen from outside: V8 traces its pretenuring
 * feedback on each scavenge (`--trace-pretenuring-statistics`) only while allocation-site pretenuring is
 * on, so a command that allocates enough to scavenge prints that trace with `ATTUNE_V8_PRETENURING=on`
 * and none without it.
 */
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const run = promisify(execFile);
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function pretenuringTrace(extraEnv: Record<string, string>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'attune-v8-flags-'));
  dirs.push(dir);
  const { stdout } = await run(
    process.execPath,
    ['--trace-pretenuring-statistics', CLI, 'demo', '--users', '300', '--days', '10', '--data-dir', dir],
    { env: { ...process.env, LOG_LEVEL: 'warn', ...extraEnv }, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout.split('\n').filter((line) => line.includes('pretenuring:')).length;
}

describe('attune V8 flags', () => {
  it('turns allocation-site pretenuring off unless ATTUNE_V8_PRETENURING=on', async () => {
    expect(await pretenuringTrace({ ATTUNE_V8_PRETENURING: 'on' })).toBeGreaterThan(0);
    expect(await pretenuringTrace({})).toBe(0);
    expect(await pretenuringTrace({ ATTUNE_V8_PRETENURING: 'off' })).toBe(0);
  }, 120_000);

  it('refuses any other value, naming the variable', async () => {
    const refused = run(process.execPath, [CLI, '--version'], {
      env: { ...process.env, ATTUNE_V8_PRETENURING: 'sometimes' },
    });
    await expect(refused).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('ATTUNE_V8_PRETENURING must be on or off, got "sometimes"') as unknown,
    });
  });
});
