import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Fingerprint, SetFingerprint } from './content-hash.js';

describe('Fingerprint', () => {
  it('gives fixed values: instances of one deployment compare them', () => {
    // Fixed answers: a change here means instances of two releases no longer agree.
    expect(new Fingerprint().hex()).toBe('4ebf502d54ad1c86');
    expect(new Fingerprint().text('item-1').number(0.5).word(7).hex()).toBe('a7205474d2bb1f17');
  });

  it('tells apart what differs by one bit, by order, or by where text ends', () => {
    expect(new Fingerprint().number(0.1 + 0.2).hex()).not.toBe(new Fingerprint().number(0.3).hex());
    expect(new Fingerprint().word(1).word(2).hex()).not.toBe(new Fingerprint().word(2).word(1).hex());
    expect(new Fingerprint().text('ab').text('c').hex()).not.toBe(
      new Fingerprint().text('a').text('bc').hex(),
    );
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(new Fingerprint().word(i).hex());
    expect(seen.size).toBe(10_000);
  });
});

describe('SetFingerprint', () => {
  const member = (text: string) => new Fingerprint().text(text).lanes();

  it('is the same whatever order members come in, and remove undoes add', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { maxLength: 30 }), fc.integer(), (members, seed) => {
        const forward = new SetFingerprint();
        for (const m of members) forward.add(member(m));
        const shuffled = [...members].sort(() => ((seed = (seed * 16807) % 2147483647) % 3) - 1);
        const backward = new SetFingerprint();
        for (const m of shuffled.reverse()) backward.add(member(m));
        backward.add(member('extra'));
        backward.remove(member('extra'));
        expect(backward.hex()).toBe(forward.hex());
      }),
    );
  });

  it('changes when a member is added, removed or replaced', () => {
    const set = new SetFingerprint();
    set.add(member('a'));
    const one = set.hex();
    set.add(member('b'));
    expect(set.hex()).not.toBe(one);
    set.remove(member('b'));
    set.add(member('c'));
    expect(set.hex()).not.toBe(one);
    set.remove(member('c'));
    expect(set.hex()).toBe(one);
    expect(new SetFingerprint().hex()).not.toBe(one);
  });
});
