import { LruMap } from '../shared/lru.js';
import type { JsonValue } from '../shared/types.js';
import type { Store } from '../store/index.js';
import { compileRules, type RulesSpec } from './rules.js';
import { segmentRules } from './rules-segments.js';

/** Presets live in the store's metadata under this prefix (the store has no table of its own for them). */
export const PRESET_KEY_PREFIX = 'rules.preset:';

export interface StoredPreset {
  readonly name: string;
  readonly rules: RulesSpec;
  readonly updatedAt: number;
}

/** Preset names held in memory, unknown ones (`null`) included: names come from requests. */
export const PRESET_CACHE_NAMES = 1024;

/**
 * Named rule sets (`PUT /v1/rules/:name`), applied with `preset=name`. The spec is stored as written and
 * compiled with each request's own rules (request rules extend or override it), after being validated
 * once when saved. Reads are served from memory after the first: a request must not wait on the store.
 * Deleting writes a `null` tombstone, as the store's metadata has no delete.
 */
export class RulePresets {
  readonly #cache = new LruMap<string, StoredPreset | null>(PRESET_CACHE_NAMES);

  constructor(private readonly store: Store) {}

  /** Validates (throws RulesError) and stores the preset. */
  async put(name: string, rules: RulesSpec, now: number): Promise<StoredPreset> {
    compileRules(rules);
    segmentRules(rules.segment);
    const preset: StoredPreset = { name, rules, updatedAt: now };
    await this.store.setMeta(PRESET_KEY_PREFIX + name, toJson(preset));
    this.#cache.set(name, preset);
    return preset;
  }

  async get(name: string): Promise<StoredPreset | null> {
    const cached = this.#cache.get(name);
    if (cached !== undefined) return cached;
    const value = await this.store.getMeta(PRESET_KEY_PREFIX + name);
    const preset = fromJson(name, value);
    this.#cache.set(name, preset);
    return preset;
  }

  /** Returns whether the preset existed. */
  async delete(name: string): Promise<boolean> {
    const existed = (await this.get(name)) !== null;
    if (existed) await this.store.setMeta(PRESET_KEY_PREFIX + name, null);
    this.#cache.set(name, null);
    return existed;
  }
}

const presets = new WeakMap<Store, RulePresets>();

/** The one preset registry of a store, so the rules routes and the recommendations route share a cache. */
export function presetsFor(store: Store): RulePresets {
  let found = presets.get(store);
  if (!found) {
    found = new RulePresets(store);
    presets.set(store, found);
  }
  return found;
}

function toJson(preset: StoredPreset): JsonValue {
  const rules: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(preset.rules) as [string, JsonValue | undefined][]) {
    if (value !== undefined) rules[key] = value;
  }
  return { name: preset.name, rules, updated_at: preset.updatedAt };
}

const LIST_KEYS = ['filter', 'category', 'boost', 'bury', 'pin', 'exclude', 'segment'] as const;
const NUMBER_KEYS = ['max_per_category', 'session_weight', 'session_items'] as const;

/** Reads a stored preset back; anything not shaped as written (a tombstone, a foreign value) is absent. */
function fromJson(name: string, value: JsonValue | null): StoredPreset | null {
  if (!isRecord(value)) return null;
  const rules = value['rules'];
  const updatedAt = value['updated_at'];
  if (!isRecord(rules) || typeof updatedAt !== 'number') return null;
  const spec: { -readonly [K in keyof RulesSpec]: RulesSpec[K] } = {};
  for (const key of LIST_KEYS) {
    const list = rules[key];
    if (Array.isArray(list)) spec[key] = list.filter((entry): entry is string => typeof entry === 'string');
  }
  if (typeof rules['reshow'] === 'string') spec.reshow = rules['reshow'];
  if (typeof rules['diversity'] === 'number') spec.diversity = rules['diversity'];
  if (typeof rules['freshness'] === 'number') spec.freshness = rules['freshness'];
  for (const key of NUMBER_KEYS) {
    const value = rules[key];
    if (typeof value === 'number') spec[key] = value;
  }
  return { name, rules: spec, updatedAt };
}

function isRecord(value: JsonValue | undefined | null): value is { readonly [key: string]: JsonValue } {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}
