import { Type } from '@sinclair/typebox';
import { parseItemFilter, type ItemFilter } from '../catalog/index.js';

/** `category` and `filter` may repeat; Fastify's query coercion turns a single value into a list. */
export const filterQuery = {
  category: Type.Optional(
    Type.Array(Type.String(), { description: 'Only items in any of these categories.' }),
  ),
  filter: Type.Optional(
    Type.Array(Type.String(), {
      description: 'Property expressions, e.g. `price<100`, `brand=acme`, `tags=sale`.',
    }),
  ),
};

/** Splits comma lists (`category=a,b`) and compiles the filter; throws ItemFilterError on a bad one. */
export function filterFromQuery(query: { category?: string[]; filter?: string[] }): ItemFilter | null {
  const categories = (query.category ?? [])
    .flatMap((value) => value.split(','))
    .filter((value) => value !== '');
  const expressions = query.filter ?? [];
  if (categories.length === 0 && expressions.length === 0) return null;
  return parseItemFilter(expressions, categories);
}

export const countQuery = (max: number) => Type.Integer({ minimum: 1, maximum: max, default: 10 });
