import { pino, type Logger } from 'pino';

/**
 * The engine's log in a CLI command: JSON lines on stderr (stdout carries the command's output), at
 * `LOG_LEVEL` when set. Synchronous, so that what a failing command logged is written before it exits.
 */
export function cliLogger(defaultLevel: string, env: NodeJS.ProcessEnv = process.env): Logger {
  return pino(
    { name: 'attune', level: env['LOG_LEVEL'] ?? defaultLevel },
    pino.destination({ dest: 2, sync: true }),
  );
}
