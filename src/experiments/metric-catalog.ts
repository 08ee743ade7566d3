import type { JsonValue } from '../shared/types.js';
import type { Store } from '../store/index.js';
import { BUILT_IN_METRIC_NAMES, ExperimentError } from './definition.js';
import { BUILT_IN_METRICS, validateMetricDefinition, type MetricDefinition } from './metrics/index.js';

/** Where stored metric definitions live in the store's metadata: one small JSON list. */
const META_KEY = 'experiment_metrics';

/**
 * The metric definitions experiments may name: the built-in ones and those a team stored
 * (`PUT /v1/metrics/:name`), reusable across experiments. Built-in names cannot be redefined, so a
 * report's "purchase conversion" means the same thing in every installation.
 */
export class MetricCatalog {
  private stored: MetricDefinition[] = [];
  private names: ReadonlySet<string> = BUILT_IN_METRIC_NAMES;

  private constructor(private readonly store: Store) {}

  static async open(store: Store): Promise<MetricCatalog> {
    const catalog = new MetricCatalog(store);
    await catalog.refresh();
    return catalog;
  }

  /** Reads the stored definitions again (another instance may have added one). */
  async refresh(): Promise<void> {
    const value = await this.store.getMeta(META_KEY);
    const list = Array.isArray(value) ? value : [];
    this.stored = list.flatMap((entry) => {
      const checked = validateMetricDefinition(entry);
      return checked.ok ? [checked.definition] : [];
    });
    this.names = new Set([...BUILT_IN_METRIC_NAMES, ...this.stored.map((m) => m.name)]);
  }

  metricNames(): ReadonlySet<string> {
    return this.names;
  }

  get(name: string): MetricDefinition | undefined {
    return BUILT_IN_METRICS[name] ?? this.stored.find((m) => m.name === name);
  }

  /** Every definition, built-in first. */
  list(): { readonly definition: MetricDefinition; readonly builtIn: boolean }[] {
    return [
      ...Object.values(BUILT_IN_METRICS).map((definition) => ({ definition, builtIn: true })),
      ...this.stored.map((definition) => ({ definition, builtIn: false })),
    ];
  }

  /** Stores (or replaces) a definition; the field at fault is named when it is invalid. */
  async put(input: unknown): Promise<MetricDefinition> {
    const checked = validateMetricDefinition(input);
    if (!checked.ok) {
      const problem = checked.problems[0]!;
      throw new ExperimentError(400, problem.field === '' ? null : problem.field, problem.message);
    }
    const definition = checked.definition;
    if (BUILT_IN_METRICS[definition.name] !== undefined) {
      throw new ExperimentError(
        409,
        'name',
        `"${definition.name}" is a built-in metric and cannot be redefined`,
      );
    }
    await this.refresh();
    const next = [...this.stored.filter((m) => m.name !== definition.name), definition];
    await this.store.setMeta(META_KEY, next as unknown as JsonValue);
    await this.refresh();
    return definition;
  }
}
