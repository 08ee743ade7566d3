import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread from a module that sits beside the caller, e.g.
 * `startWorker(import.meta.url, './als.worker.js', { workerData })`.
 *
 * Compiled code runs the `.js` file directly. Under the test runner (or `node --import tsx`) the caller is
 * a `.ts` source; Node 20 ignores module hooks passed to a worker through `execArgv` (nodejs/node#47747,
 * fixed in 22.2), so the worker runs a two-line bootstrap that registers tsx's hooks from inside the worker
 * and then imports the `.ts` sibling. One entry file serves both.
 */
export function startWorker(callerUrl: string, relativeJsPath: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(relativeJsPath, callerUrl), options);
  const entry = new URL(relativeJsPath.replace(/\.js$/, '.ts'), callerUrl).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
