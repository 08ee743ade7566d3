const integerPattern = /^[+-]?\d+$/;

export type IdComparator = (a: string, b: string) => number;

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The protocol's id order for one set of ids: numeric when every id is an integer, else by string.
 * Distinct strings of equal value ("7", "07") fall back to string order so the order stays total.
 * BigInt keeps integers beyond 2^53 exact.
 */
export function idComparator(ids: Iterable<string>): IdComparator {
  let allIntegers = true;
  let allSafe = true;
  for (const id of ids) {
    if (!integerPattern.test(id)) {
      allIntegers = false;
      break;
    }
    if (allSafe && !Number.isSafeInteger(Number(id))) allSafe = false;
  }
  if (!allIntegers) return byCodeUnit;
  if (allSafe) return (a, b) => Number(a) - Number(b) || byCodeUnit(a, b);
  return (a, b) => {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : byCodeUnit(a, b);
  };
}

/**
 * Positions of `ids` in the protocol's order: `order[rank]` is the position of the rank-th smallest id.
 * Numeric ids are parsed once up front rather than on every comparison, which matters for millions of ids.
 */
export function idOrder(ids: readonly string[]): number[] {
  const order = Array.from(ids.keys());
  const compare = idComparator(ids);
  const numbers = ids.map(Number);
  if (numbers.every(Number.isSafeInteger) && ids.every((id) => integerPattern.test(id))) {
    return order.sort((a, b) => numbers[a]! - numbers[b]! || byCodeUnit(ids[a]!, ids[b]!));
  }
  return order.sort((a, b) => compare(ids[a]!, ids[b]!));
}

/** The ids sorted in the protocol's order (a new array). */
export function sortIds(ids: readonly string[]): string[] {
  return idOrder(ids).map((position) => ids[position]!);
}
