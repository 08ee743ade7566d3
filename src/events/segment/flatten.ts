import type { Scalar, ScalarRecord } from '../../shared/types.js';
import { FieldError, isPlainObject } from '../fields.js';

/**
 * Segment's properties, traits and context nest (`address.city`, `page.url`, `products[]`); Attune keeps flat
 * records of scalars. Nested objects become dotted keys (`{"address": {"city": "Lyon"}}` → `address.city`);
 * arrays are kept whole as their JSON text, since an array's elements have no name of their own and
 * spreading them over `products.0.price`-style keys would make a key per element. Nothing is dropped.
 * The body parser has refused ill-formed strings and non-finite numbers already, and nesting past 32.
 */
export function flattenRecord(value: unknown, field: string): ScalarRecord | FieldError {
  if (!isPlainObject(value)) {
    return new FieldError(field, `${field} must be an object`);
  }
  const out: Record<string, Scalar> = {};
  const problem = flattenInto(value, '', field, out);
  return problem ?? out;
}

function flattenInto(
  value: Readonly<Record<string, unknown>>,
  prefix: string,
  field: string,
  out: Record<string, Scalar>,
): FieldError | null {
  for (const key in value) {
    const v = value[key];
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (v === undefined) continue;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') out[name] = v;
    else if (typeof v === 'number') {
      if (!Number.isFinite(v))
        return new FieldError(`${field}.${name}`, `${field}.${name} must be a finite number`);
      out[name] = v;
    } else if (Array.isArray(v)) out[name] = JSON.stringify(v);
    else if (isPlainObject(v)) {
      const problem = flattenInto(v, name, field, out);
      if (problem !== null) return problem;
    } else return new FieldError(`${field}.${name}`, `${field}.${name} is not a JSON value`);
  }
  return null;
}

/** A number as JSON gives it, or NaN: what money and quantity fields are read through. */
export function numberOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : Number.NaN;
}
