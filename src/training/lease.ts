import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import type { Lease, Store } from '../store/index.js';

/** The store lease every trainer takes for a whole run: the schedule, `POST /v1/admin/train`, `attune train`. */
export const TRAINING_LEASE = 'training';

/** Another trainer (this or another process) holds the training lease. */
export class TrainingLeaseHeldError extends Error {
  override readonly name = 'TrainingLeaseHeldError';
  constructor(readonly held: Lease) {
    super(
      `another training run is under way: ${held.holder} has held the training lease since ` +
        `${new Date(held.acquiredAt).toISOString()}; try again when it has finished (a holder that ` +
        `stops renewing loses the lease at ${new Date(held.expiresAt).toISOString()})`,
    );
  }
}

/**
 * A trainer's name in the lease, for the message another trainer gets: what it is, which process on which
 * machine, and a random tag so that two engines in one process (tests) are two holders.
 */
export function trainerId(name: string): string {
  return `${name} (pid ${process.pid} on ${hostname()}, ${randomUUID().slice(0, 8)})`;
}

/**
 * Whether the lease's holder is a process on this machine that no longer exists (killed mid-run): its
 * lease would otherwise block every trainer until it expired. Unknown holders, other machines' and live
 * processes (a reused pid included) count as alive, which only means waiting for the expiry.
 */
function holderIsGone(holder: string): boolean {
  const match = / \(pid (\d+) on (.+), [0-9a-f]{8}\)$/.exec(holder);
  if (match === null || match[2] !== hostname()) return false;
  const pid = Number(match[1]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface LeaseListener {
  /** The lease expired and another trainer took it (this process stalled past the lease's ttl). */
  readonly onLost: () => void;
  /** Renewing or releasing failed (the store was busy or closed); renewal goes on trying. */
  readonly onError: (error: unknown, action: 'renew' | 'release') => void;
}

/**
 * The training lease while a run holds it: renewed every third of its ttl, so it only expires when the
 * holder stops (crashes, hangs), and released once when the run ends. Losing it does not stop the run:
 * its bundle is still saved under its own version and only serves if it is the newest by position.
 */
export class TrainingLease {
  #timer: NodeJS.Timeout | null;
  #released = false;

  private constructor(
    private readonly store: Store,
    readonly lease: Lease,
    ttlMs: number,
    private readonly listener: LeaseListener,
  ) {
    this.#timer = setInterval(
      () => {
        store.renewLease(TRAINING_LEASE, lease.holder, ttlMs).then(
          (renewed) => {
            if (renewed !== null || this.#released) return;
            this.#stop();
            listener.onLost();
          },
          (error: unknown) => listener.onError(error, 'renew'),
        );
      },
      Math.max(1, Math.floor(ttlMs / 3)),
    );
    // Renewal must not keep a finished CLI process alive; the run it guards does.
    this.#timer.unref();
  }

  /** Takes the lease for `holder` or throws `TrainingLeaseHeldError` naming who holds it. */
  static async acquire(
    store: Store,
    holder: string,
    ttlMs: number,
    listener: LeaseListener,
  ): Promise<TrainingLease> {
    let attempt = await store.acquireLease(TRAINING_LEASE, holder, ttlMs);
    if (!attempt.acquired && holderIsGone(attempt.held.holder)) {
      // Freed only if that holder still holds it: of two trainers taking over at once, one gets it.
      await store.releaseLease(TRAINING_LEASE, attempt.held.holder);
      attempt = await store.acquireLease(TRAINING_LEASE, holder, ttlMs);
    }
    if (!attempt.acquired) throw new TrainingLeaseHeldError(attempt.held);
    return new TrainingLease(store, attempt.lease, ttlMs, listener);
  }

  /** Stops renewing and frees the lease; only the first call does anything. Never throws. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#stop();
    try {
      await this.store.releaseLease(TRAINING_LEASE, this.lease.holder);
    } catch (error) {
      // The lease then expires by itself within its ttl.
      this.listener.onError(error, 'release');
    }
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
