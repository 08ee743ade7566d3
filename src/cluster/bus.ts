import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import {
  CLUSTER_MESSAGE_VERSION,
  encodeClusterWire,
  parseClusterWire,
  type ClusterChange,
  type ClusterMessage,
} from './messages.js';

/**
 * Messages may have been missed: drop every cache that other instances' changes could make stale.
 * `resubscribed`: this instance's subscription came back after a loss (pub/sub keeps nothing for an absent
 * subscriber). `peer-dropped`: another instance (`sender`) could not publish for a while and is back.
 */
export interface ClusterResync {
  readonly type: 'resync';
  readonly reason: 'resubscribed' | 'peer-dropped';
  /** The instance whose messages may be missing (this instance's own id for `resubscribed`). */
  readonly sender: string;
}

/** What a listener is told: another instance's change, or that changes may have been missed. */
export type ClusterNotice = ClusterMessage | ClusterResync;

/** Called synchronously, in order, for each notice; an exception is counted, never passed to the bus. */
export type ClusterListener = (notice: ClusterNotice) => void;

/** The bus's state for /health and metrics; counts since the bus was made. */
export interface ClusterBusStatus {
  readonly backend: 'redis' | 'local';
  /** This instance's id, carried by everything it publishes. */
  readonly instance: string;
  /** Whether it can publish and is subscribed (a local bus: until it is closed). */
  readonly connected: boolean;
  /** Messages the channel accepted. */
  readonly published: number;
  /** Other instances' messages delivered to listeners (resyncs included). */
  readonly received: number;
  /** Messages not sent: no connection, too many in flight, a failed or timed-out publish, or after close. */
  readonly dropped: number;
  /** Messages on the channel that were not readable (malformed, unknown type or version): ignored. */
  readonly invalid: number;
  /** Resync notices given to listeners. */
  readonly resyncs: number;
  /** Exceptions thrown by listeners. */
  readonly listenerErrors: number;
  /** The last connection or publish error, for an operator; null when none happened yet. */
  readonly lastError: string | null;
}

/**
 * How instances of one deployment learn of each other's changes. Publishing is fire-and-forget: it never
 * throws and never waits, and while the channel is unreachable messages are dropped and counted, so the
 * instance keeps serving. Delivery is at most once; every gap a bus can detect is reported as a resync.
 */
export interface ClusterBus {
  /** This instance's id. */
  readonly instance: string;
  /** Sends a change to every other instance; returns at once. */
  publish(change: ClusterChange): void;
  /** Adds a listener for other instances' messages and resyncs; returns its removal. */
  subscribe(listener: ClusterListener): () => void;
  status(): ClusterBusStatus;
  /** Sends what is in flight (bounded by the command timeout), then disconnects. Idempotent. */
  close(): Promise<void>;
}

/** A unique, readable instance id: host, process, and random bits (a restarted process gets a new id). */
export function newInstanceId(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Counters and listeners every bus keeps the same way. */
export class BusState {
  readonly #listeners = new Set<ClusterListener>();
  published = 0;
  received = 0;
  dropped = 0;
  invalid = 0;
  resyncs = 0;
  listenerErrors = 0;
  lastError: string | null = null;

  constructor(
    readonly instance: string,
    private readonly onError: ((error: unknown) => void) | undefined,
  ) {}

  subscribe(listener: ClusterListener): () => void {
    // A wrapper, so the same function added twice is two listeners and each removal removes one.
    const entry: ClusterListener = (notice) => listener(notice);
    this.#listeners.add(entry);
    return () => void this.#listeners.delete(entry);
  }

  /** Stamps a change for the wire. */
  stamp(change: ClusterChange): ClusterMessage {
    return { ...change, v: CLUSTER_MESSAGE_VERSION, sender: this.instance };
  }

  /** Reads a channel's text and tells the listeners, unless it is unreadable or this instance's own. */
  receive(text: string): void {
    const parsed = parseClusterWire(text);
    if (!parsed.ok) {
      this.invalid++;
      return;
    }
    const wire = parsed.wire;
    if (wire.sender === this.instance) return;
    this.received++;
    if (wire.type === 'resync') this.resync('peer-dropped', wire.sender);
    else this.#deliver(wire);
  }

  resync(reason: ClusterResync['reason'], sender: string): void {
    this.resyncs++;
    this.#deliver({ type: 'resync', reason, sender });
  }

  #deliver(notice: ClusterNotice): void {
    for (const listener of this.#listeners) {
      try {
        listener(notice);
      } catch (error) {
        this.listenerErrors++;
        this.onError?.(error);
      }
    }
  }

  snapshot(backend: ClusterBusStatus['backend'], connected: boolean): ClusterBusStatus {
    return {
      backend,
      instance: this.instance,
      connected,
      published: this.published,
      received: this.received,
      dropped: this.dropped,
      invalid: this.invalid,
      resyncs: this.resyncs,
      listenerErrors: this.listenerErrors,
      lastError: this.lastError,
    };
  }
}

/**
 * Buses in one process that see each other's messages, as instances on one Redis would: for tests of
 * several engines in one process without Redis. Delivery is asynchronous and in order, through the same
 * encoding and validation as the wire.
 */
export class LocalClusterHub {
  readonly #buses = new Set<BusState>();

  /** @internal */
  join(state: BusState): () => void {
    this.#buses.add(state);
    return () => void this.#buses.delete(state);
  }

  /** @internal */
  send(text: string): void {
    setImmediate(() => {
      for (const bus of this.#buses) bus.receive(text);
    });
  }
}

export interface LocalClusterBusOptions {
  readonly instance?: string;
  /** Other buses to reach; without one, nothing is delivered anywhere (a single embedded instance). */
  readonly hub?: LocalClusterHub;
  /** Told of exceptions thrown by listeners (which are counted either way). */
  readonly onError?: (error: unknown) => void;
}

/**
 * The bus of a single embedded instance: there is no one to tell, so publishing only counts. With a hub,
 * the buses on it reach each other.
 */
export class LocalClusterBus implements ClusterBus {
  readonly instance: string;
  readonly #state: BusState;
  readonly #hub: LocalClusterHub | undefined;
  readonly #leave: () => void;
  #closed = false;

  constructor(options: LocalClusterBusOptions = {}) {
    this.instance = options.instance ?? newInstanceId();
    this.#state = new BusState(this.instance, options.onError);
    this.#hub = options.hub;
    this.#leave = this.#hub?.join(this.#state) ?? (() => undefined);
  }

  publish(change: ClusterChange): void {
    if (this.#closed) {
      this.#state.dropped++;
      return;
    }
    this.#hub?.send(encodeClusterWire(this.#state.stamp(change)));
    this.#state.published++;
  }

  subscribe(listener: ClusterListener): () => void {
    return this.#state.subscribe(listener);
  }

  status(): ClusterBusStatus {
    return this.#state.snapshot('local', !this.#closed);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#leave();
    return Promise.resolve();
  }
}
