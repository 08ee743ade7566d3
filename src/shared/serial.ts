/** Runs async tasks one after another, in call order: for steps that must not interleave. */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  /** Starts `task` once every task run before it has settled; a failure fails only its own caller. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
