import { DEFAULT_APP, type AccessKeys, type AuditLog } from '../access/index.js';
import { defaultStages, type Stage } from '../recommendations/index.js';
import { appStoreUrl } from '../store/index.js';
import type { EngineConfig } from './config.js';
import { Engine, type EngineOptions } from './engine.js';

/**
 * Several apps (tenants) in one process: each app is an engine of its own over a store of its own (SQLite:
 * `<data dir>/apps/<app>/`), so one app's events, catalog, models, experiments, decision points and
 * caches are out of another's reach by construction, not by filtering. The default app is the data
 * directory itself, as before apps existed. Keys of every app and the audit log live in the default app's
 * store: a request's key is looked up before its app is known. Other apps open on their first request.
 */
export class EngineHost {
  readonly #apps = new Map<string, Promise<Engine>>();
  #closed = false;

  constructor(
    /** The default app's engine, opened by whoever made the host (and closed by them). */
    readonly defaultEngine: Engine,
    private readonly stages: readonly Stage[] = defaultStages,
    private readonly options: EngineOptions = {},
  ) {}

  /** Every app's keys (`access/`): a key names its app. */
  get access(): AccessKeys {
    return this.defaultEngine.access;
  }

  get audit(): AuditLog {
    return this.defaultEngine.audit;
  }

  /** The apps open now, the default one first. */
  get openApps(): string[] {
    return [DEFAULT_APP, ...this.#apps.keys()];
  }

  /** The app's engine, opened (and its store created and migrated) on first use. */
  engine(app: string): Promise<Engine> {
    if (app === DEFAULT_APP) return Promise.resolve(this.defaultEngine);
    if (this.#closed) return Promise.reject(new Error('the engine host is closed'));
    let opening = this.#apps.get(app);
    if (opening === undefined) {
      const config: EngineConfig = {
        ...this.defaultEngine.config,
        storeUrl: appStoreUrl(this.defaultEngine.config.storeUrl, app),
        // The bootstrap key belongs to the default app; its store holds every app's keys.
        adminKey: null,
      };
      // Each app's engine speaks for its own app on the deployment's one bus and stream.
      opening = Engine.open(config, this.stages, { ...this.options, app });
      // A failed open is not remembered: the next request tries again.
      opening.catch(() => this.#apps.delete(app));
      this.#apps.set(app, opening);
    }
    return opening;
  }

  /** Closes the apps this host opened (not the default one, which its opener closes). */
  async close(): Promise<void> {
    this.#closed = true;
    const opened = [...this.#apps.values()];
    this.#apps.clear();
    await Promise.all(opened.map(async (opening) => (await opening.catch(() => null))?.close()));
  }
}
