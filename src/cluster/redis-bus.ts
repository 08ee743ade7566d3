import type { Redis } from 'ioredis';

import {
  BusState,
  newInstanceId,
  type ClusterBus,
  type ClusterBusStatus,
  type ClusterListener,
} from './bus.js';
import {
  CLUSTER_MESSAGE_VERSION,
  encodeClusterWire,
  type ClusterChange,
  type PeerResyncWire,
} from './messages.js';
import { closeRedis, describeError, openRedis } from './redis.js';

export interface RedisClusterBusOptions {
  /** `redis://` or `rediss://` URL (REDIS_URL). */
  readonly redisUrl: string;
  /** Key prefix of the deployment (ATTUNE_REDIS_PREFIX, e.g. `attune:`); the channel is `${prefix}bus`. */
  readonly prefix: string;
  /** This instance's id (default: host, pid and random bits). */
  readonly instance?: string;
  /** Publishes awaiting Redis's reply beyond which new ones are dropped (default 10,000). */
  readonly maxInFlight?: number;
  /** Per-command reply timeout (default 1,000 ms). */
  readonly commandTimeoutMs?: number;
  /** TCP connect timeout (default 2,000 ms). */
  readonly connectTimeoutMs?: number;
  /** Told of exceptions thrown by listeners (which are counted either way). */
  readonly onError?: (error: unknown) => void;
}

/**
 * The bus over Redis pub/sub, on the channel `${prefix}bus`: one connection publishes, one subscribes (a
 * subscribed Redis connection can do nothing else). Both reconnect by themselves.
 *
 * Pub/sub keeps nothing for a subscriber that is away, so every way a message can be missed ends in a
 * resync notice: the subscription coming back after any loss (including a first connection that failed),
 * and another instance announcing, once it can publish again, that it dropped messages meanwhile.
 */
export class RedisClusterBus implements ClusterBus {
  readonly instance: string;
  readonly channel: string;
  /** The CLIENT LIST names of the two connections. */
  readonly connectionNames: { readonly publisher: string; readonly subscriber: string };
  readonly #state: BusState;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #maxInFlight: number;
  readonly #inFlight = new Set<Promise<void>>();
  #subscribed = false;
  /** Whether the subscription was lost (or never came up) since it was last established. */
  #lost = false;
  /** Whether this bus dropped messages that no resync announcement has covered yet. */
  #owesResync = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RedisClusterBusOptions) {
    this.instance = options.instance ?? newInstanceId();
    this.channel = `${options.prefix}bus`;
    this.#state = new BusState(this.instance, options.onError);
    this.#maxInFlight = options.maxInFlight ?? 10_000;
    this.connectionNames = {
      publisher: `${options.prefix}bus-pub:${this.instance}`,
      subscriber: `${options.prefix}bus-sub:${this.instance}`,
    };
    const timeouts = {
      connectTimeoutMs: options.connectTimeoutMs,
      commandTimeoutMs: options.commandTimeoutMs,
    };
    this.#publisher = openRedis(
      options.redisUrl,
      { name: this.connectionNames.publisher, ...timeouts },
      {
        // Publishes issued in the same tick go out in one write.
        enableAutoPipelining: true,
      },
    );
    this.#subscriber = openRedis(options.redisUrl, { name: this.connectionNames.subscriber, ...timeouts });

    const noteError = (error: unknown) => void (this.#state.lastError = describeError(error));
    this.#publisher.on('error', noteError);
    this.#publisher.on('ready', () => this.#announceResync());
    this.#subscriber.on('error', noteError);
    const lose = () => {
      this.#subscribed = false;
      this.#lost = true;
    };
    // A first connection that fails counts as a loss too: messages sent meanwhile were missed.
    this.#subscriber.on('close', lose);
    this.#subscriber.on('reconnecting', lose);
    this.#subscriber.on('ready', () => void this.#subscribe());
    this.#subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.#state.receive(text);
    });
  }

  publish(change: ClusterChange): void {
    // Checked before encoding too, so a bus without Redis costs its callers next to nothing.
    if (!this.#canSend()) {
      this.#drop(null);
      return;
    }
    let text: string;
    try {
      text = encodeClusterWire(this.#state.stamp(change));
    } catch (error) {
      this.#drop(error);
      return;
    }
    const sending = this.#send(text, (error) => {
      if (error !== null) {
        this.#drop(error);
        return;
      }
      this.#state.published++;
      this.#announceResync();
    });
    if (!sending) this.#drop(null);
  }

  subscribe(listener: ClusterListener): () => void {
    return this.#state.subscribe(listener);
  }

  status(): ClusterBusStatus {
    return this.#state.snapshot('redis', this.#connected());
  }

  /**
   * Whether the bus came up within `timeoutMs`, for start-up (which may choose to go on without it) and
   * tests. It never rejects.
   */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#connected()) {
      if (this.#closed || Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      await Promise.allSettled([...this.#inFlight]);
      await Promise.all([closeRedis(this.#publisher), closeRedis(this.#subscriber)]);
    })();
    return this.#closing;
  }

  #canSend(): boolean {
    return !this.#closed && this.#publisher.status === 'ready' && this.#inFlight.size < this.#maxInFlight;
  }

  #connected(): boolean {
    return !this.#closed && this.#subscribed && this.#publisher.status === 'ready';
  }

  /** Publishes `text` unless that would wait or queue; on a settled publish, `done(error or null)`. */
  #send(text: string, done: (error: unknown) => void): boolean {
    if (!this.#canSend()) return false;
    const sent: Promise<void> = this.#publisher.publish(this.channel, text).then(
      () => {
        this.#inFlight.delete(sent);
        done(null);
      },
      (error: unknown) => {
        this.#inFlight.delete(sent);
        done(error ?? new Error('publish failed'));
      },
    );
    this.#inFlight.add(sent);
    return true;
  }

  #drop(error: unknown): void {
    this.#state.dropped++;
    this.#owesResync = true;
    if (error !== null) this.#state.lastError = describeError(error);
  }

  /**
   * Tells the others that this instance dropped messages. Cleared when sent, so a drop after that asks for
   * another announcement; a failed announcement asks again at the next successful publish or reconnect.
   */
  #announceResync(): void {
    if (!this.#owesResync) return;
    const wire: PeerResyncWire = { v: CLUSTER_MESSAGE_VERSION, type: 'resync', sender: this.instance };
    this.#owesResync = false;
    const sending = this.#send(encodeClusterWire(wire), (error) => {
      if (error !== null) this.#owesResync = true;
    });
    if (!sending) this.#owesResync = true;
  }

  async #subscribe(): Promise<void> {
    try {
      await this.#subscriber.subscribe(this.channel);
    } catch (error) {
      // The connection is going down; its next 'ready' tries again.
      this.#state.lastError = describeError(error);
      return;
    }
    if (this.#closed) return;
    this.#subscribed = true;
    if (this.#lost) {
      this.#lost = false;
      this.#state.resync('resubscribed', this.instance);
    }
  }
}
