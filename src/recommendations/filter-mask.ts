import { matchesItem, type ItemFilter } from '../catalog/index.js';
import type { ModelBundle } from '../training/index.js';
import type { CatalogView } from './types.js';

interface FilterMask {
  readonly bundle: ModelBundle;
  readonly catalogVersion: number;
  /** 1 = the bundle item is unknown to the catalog or does not match the filter. */
  readonly mask: Uint8Array;
}

/**
 * Which bundle items a filter leaves out, by filter object. A filter reads only the item (categories,
 * tags, price, attributes, availability), never the time or the user, so its mask holds until the catalog
 * or the bundle changes. Compiled rules are shared between equal requests (`compileRules`), so a page's
 * filters, boosts and buries are matched against the catalog once, not once per request; a request then
 * reads one byte per item or candidate. Nothing else refers to a mask: it goes with its filter.
 */
const masks = new WeakMap<ItemFilter, FilterMask>();

/** 1 for every bundle item that is unknown to the catalog or does not match `filter`; read-only. */
export function filterMask(filter: ItemFilter, bundle: ModelBundle, catalog: CatalogView): Uint8Array {
  const cached = masks.get(filter);
  if (cached && cached.bundle === bundle && cached.catalogVersion === catalog.version) return cached.mask;
  const mask = new Uint8Array(bundle.itemIds.length);
  for (let index = 0; index < mask.length; index++) {
    const item = catalog.get(bundle.itemIds[index]!);
    if (!item || !matchesItem(item, filter)) mask[index] = 1;
  }
  masks.set(filter, { bundle, catalogVersion: catalog.version, mask });
  return mask;
}
