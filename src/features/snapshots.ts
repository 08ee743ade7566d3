import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/index.js';
import { FeatureAccumulator, foldNewestFirst, type AccumulatorSnapshot } from './accumulator.js';
import type { EventReader } from './feature-event.js';
import type { AccumulatorPlan } from './feature-set.js';

/*
 * Users' feature accumulators shared by the instances of a deployment (Redis:
 * `cluster/redis-feature-snapshots.ts`), so that an instance meeting a user for the first time reads the
 * events since a snapshot instead of the user's whole history; a heavy user's history is thousands of rows
 * on a networked store.
 *
 * What a snapshot means is fixed by its position: it folds exactly the user's events with a log position
 * (seq) ≤ `through`, where `through` was a prefix of the log when it was taken (`Store.lastEventSeq`: every
 * position up to it committed). A load folds the snapshot and then the user's events after `through`, so
 * it holds the same events as a load of the whole history; nothing about the snapshot depends on who took
 * it or when, and a snapshot never needs invalidating when events arrive, only replacing by a later one.
 * Erasure and merges rewrite a user's events below `through`: those drop the user's snapshot.
 */

/** The snapshots' keeper (Redis) did not answer a change that must reach it (an erasure, a merge). */
export class FeatureSnapshotsUnavailableError extends Error {
  override readonly name = 'FeatureSnapshotsUnavailableError';
  constructor(
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `Redis, which holds users' shared feature snapshots, is unavailable (${detail}); try again shortly`,
      options,
    );
  }
}

/** A user's snapshot and the prefix of the log it folds. */
export interface UserSnapshot {
  readonly snapshot: AccumulatorSnapshot;
  readonly through: number;
  /** When it was first built from the user's whole history (epoch ms); later ones build on it. */
  readonly builtAt: number;
}

/** Where snapshots are kept. Reads never throw: no answer in time, or an unreadable one, is null. */
export interface FeatureSnapshots {
  get(userId: string): Promise<UserSnapshot | null>;
  /** Keeps the snapshot unless one through a later position is kept already. */
  put(userId: string, snapshot: UserSnapshot): Promise<void>;
  /** Drops the user's snapshots (erasure, merge); throws `FeatureSnapshotsUnavailableError` when it cannot. */
  forget(userId: string): Promise<void>;
}

/** Every event a read returns: `userEvents` takes a limit, and a load wants them all. */
const ALL = Number.MAX_SAFE_INTEGER;

/**
 * A load that read at least this many events from the store asks for a new snapshot: below it, the store
 * read is as cheap as the snapshot's.
 */
export const SNAPSHOT_AFTER_EVENTS = 100;

/**
 * Snapshots are advanced this far behind the taker's clock, so an instance whose clock runs behind can
 * still read every value it asks for (an accumulator cannot be read before what it retired).
 */
const CLOCK_MARGIN_MS = 10 * 60_000;

/** What a loader reports to metrics. */
export type SnapshotActivity = 'loaded_from_snapshot' | 'loaded_from_store' | 'taken';

/** Users waiting for a snapshot, at most: a burst of heavy users is not a backlog. */
const MAX_WAITING = 1_000;

/**
 * A snapshot is rebuilt from the user's whole history once this old, rather than built on: whatever it
 * missed (a merge whose drop could not reach Redis; events retention has since deleted) lasts a day at most.
 */
export const REBUILD_AFTER_MS = 86_400_000;

/** Merged users whose snapshot drop has not reached Redis yet, at most; each retried every second. */
const MAX_UNDROPPED = 10_000;
const RETRY_MS = 1_000;

/**
 * Loads users' accumulators through the shared snapshots and takes new snapshots in the background, one
 * user at a time, off the request path.
 */
export class SnapshotLoader {
  readonly #waiting = new Set<string>();
  #running = false;
  /** Users forgotten while a snapshot of theirs was being taken: it may fold what was erased. */
  readonly #forgottenDuringTake = new Set<string>();
  #taking: string | null = null;
  /** Users whose snapshot must go but could not be dropped yet: loads skip their snapshot meanwhile. */
  readonly #undropped = new Set<string>();
  #retry: NodeJS.Timeout | null = null;

  constructor(
    readonly snapshots: FeatureSnapshots,
    private readonly store: Store,
    private readonly plan: AccumulatorPlan,
    private readonly reader: EventReader,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
    /** Told of each load (from a snapshot or the whole history) and each snapshot taken: for /metrics. */
    private readonly observe: (what: SnapshotActivity) => void = () => undefined,
  ) {}

  /**
   * The user's accumulator: the shared snapshot (when there is one) with the events after it, else every
   * event of the user; the events it read are returned too (the caller skips them among those committed
   * meanwhile).
   */
  async load(
    userId: string,
  ): Promise<{ readonly accumulator: FeatureAccumulator; readonly eventIds: Set<string> }> {
    const kept = this.#undropped.has(userId) ? null : await this.snapshots.get(userId);
    let accumulator: FeatureAccumulator | null = null;
    if (kept !== null) {
      try {
        accumulator = FeatureAccumulator.restore(this.plan, kept.snapshot, kept.through);
      } catch (error) {
        this.onError(error);
      }
    }
    const after = accumulator === null ? 0 : kept!.through;
    const events = await this.store.userEvents(userId, { afterSeq: after, limit: ALL });
    this.observe(accumulator === null ? 'loaded_from_store' : 'loaded_from_snapshot');
    accumulator ??= new FeatureAccumulator(this.plan);
    foldNewestFirst(accumulator, this.reader, events);
    if (events.length >= SNAPSHOT_AFTER_EVENTS) this.#request(userId);
    return { accumulator, eventIds: new Set(events.map((e) => e.eventId)) };
  }

  forget(userId: string): Promise<void> {
    this.#waiting.delete(userId);
    if (this.#taking === userId) this.#forgottenDuringTake.add(userId);
    return this.snapshots.forget(userId);
  }

  /**
   * Drops the user's snapshot without failing the caller (a merge: it must not stop ingestion while Redis
   * is down). Until the drop succeeds — retried every second — this instance does not load the snapshot.
   */
  async forgetSoon(userId: string): Promise<void> {
    try {
      await this.forget(userId);
      this.#undropped.delete(userId);
    } catch (error) {
      this.onError(error);
      if (this.#undropped.size < MAX_UNDROPPED) this.#undropped.add(userId);
      this.#retry ??= setTimeout(() => {
        this.#retry = null;
        for (const id of this.#undropped) void this.forgetSoon(id);
      }, RETRY_MS).unref();
    }
  }

  close(): void {
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
  }

  /** Waits until the snapshots asked for so far are taken (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#running || this.#waiting.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  #request(userId: string): void {
    if (this.#waiting.size >= MAX_WAITING) return;
    this.#waiting.add(userId);
    if (!this.#running) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      for (const userId of this.#waiting) {
        this.#waiting.delete(userId);
        this.#taking = userId;
        try {
          if (await this.#take(userId)) this.observe('taken');
          // Forgotten meanwhile (an erasure, a merge): what was just kept may hold it, so it goes too.
          if (this.#forgottenDuringTake.delete(userId)) await this.snapshots.forget(userId);
        } catch (error) {
          this.onError(error);
        } finally {
          this.#taking = null;
          this.#forgottenDuringTake.delete(userId);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** A snapshot through a prefix of the log, built on the one kept (if any) with the events since. */
  async #take(userId: string): Promise<boolean> {
    const through = await this.store.lastEventSeq();
    const now = this.clock();
    let kept = this.#undropped.has(userId) ? null : await this.snapshots.get(userId);
    if (kept !== null && kept.through >= through) return false;
    if (kept !== null && now - kept.builtAt >= REBUILD_AFTER_MS) kept = null;
    const accumulator =
      kept === null
        ? new FeatureAccumulator(this.plan)
        : FeatureAccumulator.restore(this.plan, kept.snapshot);
    const events = await this.store.userEvents(userId, {
      afterSeq: kept?.through ?? 0,
      throughSeq: through,
      limit: ALL,
    });
    foldNewestFirst(accumulator, this.reader, events);
    accumulator.advance(now - CLOCK_MARGIN_MS);
    await this.snapshots.put(userId, {
      snapshot: accumulator.snapshot(),
      through,
      builtAt: kept?.builtAt ?? now,
    });
    return true;
  }
}
