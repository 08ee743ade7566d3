import { execFileSync } from 'node:child_process';
import { CLI } from './server.js';

const known = new Map<string, readonly string[]>();

/**
 * `['--json']` when this build of the CLI lists `--json` in `attune <command> --help`, else `[]`: builds
 * from before the human summaries printed their JSON by default and would refuse the option. Benchmarks
 * that parse a command's stdout add this to its arguments, so the same bench runs a baseline build
 * (`ATTUNE_BENCH_BASELINE_CLI`) and this one.
 */
export function jsonArgs(command: readonly string[], cli: string = CLI): readonly string[] {
  const key = `${cli}\0${command.join(' ')}`;
  let args = known.get(key);
  if (args === undefined) {
    const help = execFileSync(process.execPath, [cli, ...command, '--help'], { encoding: 'utf8' });
    args = /^\s+--json\b/m.test(help) ? ['--json'] : [];
    known.set(key, args);
  }
  return args;
}
