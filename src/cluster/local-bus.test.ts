import { describe, expect, it } from 'vitest';

import { LocalClusterBus, LocalClusterHub, type ClusterNotice } from './bus.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('LocalClusterBus', () => {
  it('alone, publishes to no one and keeps counting', async () => {
    const bus = new LocalClusterBus({ instance: 'solo' });
    const seen: ClusterNotice[] = [];
    bus.subscribe((notice) => seen.push(notice));
    bus.publish({ type: 'bundle', app: 'shop', version: 3 });
    await tick();
    expect(seen).toEqual([]);
    expect(bus.status()).toMatchObject({ backend: 'local', instance: 'solo', connected: true, published: 1 });
    await bus.close();
    bus.publish({ type: 'bundle', app: 'shop', version: 4 });
    expect(bus.status()).toMatchObject({ connected: false, published: 1, dropped: 1 });
  });

  it('on a hub, reaches the other buses in order and not itself; a throwing listener harms no other', async () => {
    const hub = new LocalClusterHub();
    const errors: unknown[] = [];
    const a = new LocalClusterBus({ hub, instance: 'a', onError: (error) => errors.push(error) });
    const b = new LocalClusterBus({ hub, instance: 'b' });
    const toA: ClusterNotice[] = [];
    const toB: ClusterNotice[] = [];
    a.subscribe(() => {
      throw new Error('listener bug');
    });
    a.subscribe((notice) => toA.push(notice));
    const stop = b.subscribe((notice) => toB.push(notice));
    a.publish({ type: 'erased', app: 'shop', user: 'u1' });
    a.publish({ type: 'merged', app: 'shop', from: 'anon', to: 'u1' });
    b.publish({ type: 'catalog', app: 'shop', items: ['i1'] });
    await tick();
    expect(toB).toEqual([
      { v: 1, sender: 'a', type: 'erased', app: 'shop', user: 'u1' },
      { v: 1, sender: 'a', type: 'merged', app: 'shop', from: 'anon', to: 'u1' },
    ]);
    expect(toA).toEqual([{ v: 1, sender: 'b', type: 'catalog', app: 'shop', items: ['i1'] }]);
    expect(a.status()).toMatchObject({ received: 1, listenerErrors: 1 });
    expect(errors).toHaveLength(1);
    stop();
    a.publish({ type: 'erased', app: 'shop', user: 'u2' });
    await tick();
    expect(toB).toHaveLength(2);
    expect(b.status().received).toBe(3);
    await Promise.all([a.close(), b.close()]);
  });
});
