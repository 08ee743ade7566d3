import type { Store } from './types.js';

/**
 * The newest stored version of one named artifact, decoded, as a serving process holds it: loaded at start
 * and whenever the engine polls and finds a higher version (a CLI training run beside a running server).
 * A version that fails to decode keeps the serving one, is reported once and is not tried again, so one bad
 * write neither takes a model away nor floods the log on every poll.
 */
export class ServedArtifact<T> {
  #current: { readonly value: T; readonly version: number } | null = null;
  readonly #rejected = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly name: string,
    /** Builds the served value from a stored payload; throws when the payload cannot be served. */
    private readonly decode: (payload: Uint8Array, version: number) => T,
    private readonly onRejected: (version: number, error: unknown) => void,
  ) {}

  get current(): T | null {
    return this.#current?.value ?? null;
  }

  /** Loads the newest version above the serving one; resolves whether the served value changed. */
  async refresh(): Promise<boolean> {
    const serving = this.#current?.version ?? 0;
    const newer = (await this.store.listArtifacts(this.name))
      .filter((a) => a.version > serving && !this.#rejected.has(a.version))
      .sort((a, b) => b.version - a.version);
    for (const candidate of newer) {
      const artifact = await this.store.loadArtifact(this.name, candidate.version);
      if (artifact === null) continue;
      try {
        this.#current = { value: this.decode(artifact.payload, artifact.version), version: artifact.version };
        return true;
      } catch (error) {
        this.#rejected.add(candidate.version);
        this.onRejected(candidate.version, error);
      }
    }
    return false;
  }
}
