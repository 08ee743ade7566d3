/**
 * `derive(key)`, kept per key when `key` is frozen and made afresh otherwise. A frozen array cannot change, so
 * what is derived from it (a served list's JSON) stays right as long as the array lives, and the weak map lets
 * both go together. Only frozen keys are kept: one-off entries for arrays used once would cost the garbage
 * collector's scavenges more than the work they save (the result cache freezes the lists it keeps, so a
 * server with the cache off keeps nothing here).
 */
export function derivedOnce<K extends object, V>(memo: WeakMap<K, V>, key: K, derive: (key: K) => V): V {
  if (!Object.isFrozen(key)) return derive(key);
  let value = memo.get(key);
  if (value === undefined) {
    value = derive(key);
    memo.set(key, value);
  }
  return value;
}
