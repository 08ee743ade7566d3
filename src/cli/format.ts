/** How the CLI writes numbers, durations, model names and its human summaries. */
import type { JsonValue } from '../shared/types.js';

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** `1,234,567`: counts and rates, grouped by thousands. */
export function count(value: number): string {
  return grouped.format(value);
}

/** `0.4s`, `12s`, `3m 05s`, `1h 02m`: a duration for people. */
export function seconds(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value < 10) return `${value.toFixed(1)}s`;
  if (value < 60) return `${Math.round(value)}s`;
  const total = Math.round(value);
  if (total < 3600) return `${Math.floor(total / 60)}m ${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(total / 3600)}h ${String(Math.floor((total % 3600) / 60)).padStart(2, '0')}m`;
}

/** A score to four decimals, or `–` when there is none. */
export function score(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(4);
}

/**
 * A summary as a terminal reads it: a title line, then `label  value` rows with the values aligned.
 * Rows whose value is null are left out, so callers can list optional facts inline.
 */
export function summary(title: string, rows: readonly (readonly [string, string | null])[]): string {
  const shown = rows.filter((row): row is readonly [string, string] => row[1] !== null);
  const width = Math.max(0, ...shown.map(([label]) => label.length));
  return [title, ...shown.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n') + '\n';
}

/** A model or blend as people read it: `blend of hybrid ×1 + itemknn ×0.05`. */
export function choiceName(model: JsonValue | undefined, params: JsonValue | undefined): string {
  const name = typeof model === 'string' ? model : 'model';
  if (name !== 'blend' || params === null || typeof params !== 'object' || Array.isArray(params)) return name;
  const components = (params as { readonly [key: string]: JsonValue })['components'];
  if (!Array.isArray(components)) return name;
  const parts = components.map((c) => {
    const part = c as { model?: unknown; weight?: unknown };
    return `${String(part.model)} ×${typeof part.weight === 'number' ? +part.weight.toFixed(3) : '?'}`;
  });
  return `blend of ${parts.join(' + ')}`;
}
