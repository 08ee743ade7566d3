import { Worker, type WorkerOptions } from 'node:worker_threads';
import { startWorker } from '../shared/worker.js';

/**
 * Starts a worker beside the caller, like `startWorker`, but also from TypeScript sources on Node 20.
 *
 * `startWorker` passes `--import tsx` through the worker's `execArgv` when the caller is a `.ts` file.
 * Node 20 ignores module hooks given that way (nodejs/node#47747, fixed only in Node 22.2), so the
 * worker fails with ERR_UNKNOWN_FILE_EXTENSION under vitest and under `node --import tsx`. Here the worker
 * instead runs a two-line bootstrap that registers tsx's ESM hooks from inside the worker and then imports
 * the `.ts` entry. Compiled code takes the plain `startWorker` path.
 */
export function startModelWorker(
  callerUrl: string,
  relativeJsPath: string,
  options: WorkerOptions = {},
): Worker {
  if (!callerUrl.endsWith('.ts')) return startWorker(callerUrl, relativeJsPath, options);
  const entry = new URL(relativeJsPath.replace(/\.js$/, '.ts'), callerUrl).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
