import { describe, expect, it } from 'vitest';

import { encodeClusterWire, parseClusterWire, type ClusterMessage } from './messages.js';

const base = { v: 1 as const, sender: 'a-1', app: 'shop' };

describe('cluster messages', () => {
  it('reads back every kind of change it writes', () => {
    const messages: ClusterMessage[] = [
      { ...base, type: 'events', users: ['u1', 'u2'], items: ['i1'] },
      { ...base, type: 'bundle', version: 7 },
      { ...base, type: 'catalog', items: [] },
      { ...base, type: 'erased', user: 'u1' },
      { ...base, type: 'consent', user: 'u1' },
      { ...base, type: 'user', user: 'u1' },
      { ...base, type: 'merged', from: 'anon-1', to: 'u1' },
    ];
    for (const message of messages) {
      expect(parseClusterWire(encodeClusterWire(message)), message.type).toEqual({ ok: true, wire: message });
    }
    expect(parseClusterWire('{"v":1,"type":"resync","sender":"b"}')).toEqual({
      ok: true,
      wire: { v: 1, type: 'resync', sender: 'b' },
    });
  });

  it('drops fields it does not know, so version 1 can grow', () => {
    const parsed = parseClusterWire(
      JSON.stringify({ ...base, type: 'erased', user: 'u1', reason: 'request' }),
    );
    expect(parsed).toEqual({ ok: true, wire: { ...base, type: 'erased', user: 'u1' } });
  });

  it('says why it cannot read a message, never throws', () => {
    const cases: [string, RegExp][] = [
      ['not json', /not JSON/],
      ['[1]', /not an object/],
      ['null', /not an object/],
      [JSON.stringify({ ...base, v: 2, type: 'erased', user: 'u' }), /unknown version 2/],
      [JSON.stringify({ ...base, sender: '', type: 'erased', user: 'u' }), /sender/],
      [JSON.stringify({ ...base, app: 3, type: 'erased', user: 'u' }), /app/],
      [JSON.stringify({ ...base, type: 'nope' }), /unknown type "nope"/],
      [JSON.stringify({ ...base }), /unknown type undefined/],
      [JSON.stringify({ ...base, type: 'events', users: [1], items: [] }), /events: users/],
      [JSON.stringify({ ...base, type: 'events', users: ['u'], items: 'i' }), /events: items/],
      [JSON.stringify({ ...base, type: 'bundle', version: 1.5 }), /bundle: version/],
      [JSON.stringify({ ...base, type: 'bundle', version: 0 }), /bundle: version/],
      [JSON.stringify({ ...base, type: 'catalog', items: [''] }), /catalog: items/],
      [JSON.stringify({ ...base, type: 'consent' }), /consent: user/],
      [JSON.stringify({ ...base, type: 'merged', from: 'a' }), /merged: to/],
    ];
    for (const [text, reason] of cases) {
      const parsed = parseClusterWire(text);
      expect(parsed.ok, text).toBe(false);
      if (!parsed.ok) expect(parsed.reason, text).toMatch(reason);
    }
  });
});
