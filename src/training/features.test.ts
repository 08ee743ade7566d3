import { describe, expect, it } from 'vitest';
import type { Item, User } from '../catalog/types.js';
import { placeholderItem } from '../catalog/index.js';
import {
  buildFeatures,
  buildItemFeatures,
  buildUserFeatures,
  itemFeatureTokens,
  priceBand,
} from './features.js';

function item(id: string, over: Partial<Item> = {}): Item {
  return { ...placeholderItem(id, 0), ...over };
}

const user = (id: string, traits: User['traits']): User => ({ id, traits, createdAt: 0, updatedAt: 0 });

/** Feature names of row r. */
function rowNames(
  features: { matrix: { indptr: Int32Array; indices: Int32Array }; names: readonly string[] },
  r: number,
) {
  const { indptr, indices } = features.matrix;
  return Array.from(indices.subarray(indptr[r]!, indptr[r + 1]!), (c) => features.names[c]!);
}

describe('price bands', () => {
  it('bucket prices by doublings', () => {
    expect(priceBand(19.99)).toBe('price=[16,32)');
    expect(priceBand(24.5)).toBe(priceBand(19.99));
    expect(priceBand(32)).toBe('price=[32,64)');
    expect(priceBand(2000)).toBe('price=[1024,2048)');
    expect(priceBand(0)).toBe('price=0');
    expect(priceBand(0.5)).toBe('price=(0,1)');
    expect(priceBand(-1)).toBeNull();
    expect(priceBand(Number.NaN)).toBeNull();
  });
});

describe('item features', () => {
  it('turn categories, tags, price band and attributes into names', () => {
    const tokens = itemFeatureTokens(
      item('a', {
        categories: ['shoes'],
        tags: ['sale', 'summer'],
        price: 49,
        attributes: { brand: 'Acme', vegan: true, size: 42, note: null, empty: ' ' },
      }),
    );
    expect(tokens.sort()).toEqual(
      [
        'attr.brand=Acme',
        'attr.size=42',
        'attr.vegan=true',
        'category=shoes',
        'price=[32,64)',
        'tag=sale',
        'tag=summer',
      ].sort(),
    );
  });

  it('build a CSR aligned with the matrix item index, columns the sorted names', () => {
    const catalog = [
      item('b', { categories: ['x', 'y'], price: 10 }),
      item('a', { categories: ['y'], tags: ['t'] }),
      item('unused', { categories: ['z'] }),
    ];
    const features = buildItemFeatures(['a', 'b', 'missing'], catalog);
    expect(features.names).toEqual(['category=x', 'category=y', 'price=[8,16)', 'tag=t']);
    expect(features.matrix.rows).toBe(3);
    expect(features.matrix.cols).toBe(4);
    expect(rowNames(features, 0)).toEqual(['category=y', 'tag=t']);
    expect(rowNames(features, 1)).toEqual(['category=x', 'category=y', 'price=[8,16)']);
    expect(rowNames(features, 2)).toEqual([]);
    expect(Array.from(features.matrix.data)).toEqual([1, 1, 1, 1, 1]);
  });

  it('give the same index whatever order the catalog comes in', () => {
    const catalog = [
      item('a', { categories: ['p', 'q'] }),
      item('b', { tags: ['r'] }),
      item('c', { price: 3 }),
    ];
    const forward = buildItemFeatures(['a', 'b', 'c'], catalog);
    const backward = buildItemFeatures(['a', 'b', 'c'], [...catalog].reverse());
    expect(backward).toEqual(forward);
  });
});

describe('user features', () => {
  it('turn traits into key=value names and drop rare ones on request', () => {
    const users = [
      user('u1', { gender: 'F', plan: 'pro', age: null }),
      user('u2', { gender: 'M', plan: 'pro' }),
      user('u3', { gender: 'F' }),
    ];
    const all = buildUserFeatures(['u1', 'u2', 'u3', 'u4'], users);
    expect(all.names).toEqual(['gender=F', 'gender=M', 'plan=pro']);
    expect(rowNames(all, 0)).toEqual(['gender=F', 'plan=pro']);
    expect(rowNames(all, 3)).toEqual([]);
    const common = buildUserFeatures(['u1', 'u2', 'u3'], users, { minCount: 2 });
    expect(common.names).toEqual(['gender=F', 'plan=pro']);
    expect(rowNames(common, 1)).toEqual(['plan=pro']);
  });

  it('count a name repeated within one row once', () => {
    const features = buildFeatures([['a', 'a', 'b'], []]);
    expect(Array.from(features.matrix.indptr)).toEqual([0, 2, 2]);
    expect(Array.from(features.matrix.data)).toEqual([1, 1]);
  });
});

describe('balanced feature groups', () => {
  it('weighs each group of a row equally when asked, and every token 1 otherwise', () => {
    const rows = [
      ['category=a', 'tag=x', 'tag=y', 'tag=z', 'price=[8,16)'],
      ['tag=x', 'category=a'],
    ];
    const balanced = buildFeatures(rows, { balanceGroups: true });
    const weight = (f: typeof balanced, r: number, name: string): number => {
      const c = f.names.indexOf(name);
      for (let k = f.matrix.indptr[r]!; k < f.matrix.indptr[r + 1]!; k++)
        if (f.matrix.indices[k] === c) return f.matrix.data[k]!;
      return 0;
    };
    expect(weight(balanced, 0, 'category=a')).toBe(1);
    expect(weight(balanced, 0, 'tag=y')).toBeCloseTo(1 / 3, 6);
    expect(weight(balanced, 0, 'price=[8,16)')).toBe(1);
    expect(weight(balanced, 1, 'tag=x')).toBe(1);
    const plain = buildFeatures(rows);
    expect(weight(plain, 0, 'tag=y')).toBe(1);
  });
});
