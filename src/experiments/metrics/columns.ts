/**
 * Append-only columns of numbers in fixed-size chunks of typed arrays, `settleHeap` and
 * `collectYoungGeneration`: how a thread that reads the store's batches allocates memory and starts a read
 * without making V8 pretenure the store's objects.
 *
 * V8 decides to allocate the objects of an allocation site (say, where the store builds an event) directly
 * in the old generation ("pretenuring") when, at a garbage collection, 85% or more of the objects made there
 * since the previous collection are still alive. A batch being read is entirely alive, so a collection that
 * comes within about one batch of the previous one, the first collection during a read of batches included,
 * makes that decision; from then on every event read is an old-generation object that only a major
 * collection frees, and it keeps the strings it points to alive through minor ones. Measured over ten
 * million events: 1.2 GB promoted instead of 0.15 GB, and minor collections taking 2.4–3.5 s instead of 0.9 s.
 *
 * Collections in quick succession come from typed-array allocations, which V8 counts as external memory:
 * a buffer that doubles allocates a large block at once (several columns doubling together, several), and
 * V8 runs a minor collection before allocating any ArrayBuffer while young ArrayBuffers own 32 MiB or more
 * (`Heap::AllocateExternalBackingStore`). Chunks grow external memory in small steps, never copy, and give
 * V8 time to promote each chunk before the young ones add up to that.
 *
 * The first collection of a read is the other hazard: V8 pretenures a site for good at once when the young
 * generation is at its largest, and a first collection that falls in the first batch finds all the site's
 * objects alive — a chance of one batch in a young generation's worth of allocation (about one run in
 * fifteen for the events of a reader thread whose young generation had grown reading the served lists).
 * A collection just before the first batch (`collectYoungGeneration`) puts the next one a young
 * generation's worth of allocation later: many batches, most of them dead.
 */

/** Entries per chunk (a power of two): 64 Ki, at most half a MiB per chunk of doubles. */
export const CHUNK_BITS = 16;
export const CHUNK_SIZE = 1 << CHUNK_BITS;
export const CHUNK_MASK = CHUNK_SIZE - 1;

/** A column of one typed-array kind; `Int32Column` and `Float64Column` name the two the analysis uses. */
class Column<A extends Int32Array | Float64Array> {
  readonly chunks: A[] = [];
  private current: A;
  private fill = CHUNK_SIZE;
  length = 0;

  constructor(private readonly allocate: (length: number) => A) {
    this.current = allocate(0);
  }

  push(value: number): void {
    if (this.fill === CHUNK_SIZE) {
      this.current = this.allocate(CHUNK_SIZE);
      this.chunks.push(this.current);
      this.fill = 0;
    }
    this.current[this.fill++] = value;
    this.length++;
  }

  /** `values[from]` to `values[to − 1]`, in order: `push` of each, without a call per value. */
  pushRange(values: ArrayLike<number>, from: number, to: number): void {
    while (from < to) {
      if (this.fill === CHUNK_SIZE) {
        this.current = this.allocate(CHUNK_SIZE);
        this.chunks.push(this.current);
        this.fill = 0;
      }
      const n = Math.min(to - from, CHUNK_SIZE - this.fill);
      const current = this.current;
      const fill = this.fill;
      for (let i = 0; i < n; i++) current[fill + i] = values[from + i]!;
      this.fill += n;
      this.length += n;
      from += n;
    }
  }

  get(index: number): number {
    return this.chunks[index >>> CHUNK_BITS]![index & CHUNK_MASK]!;
  }

  /** The values in one array (allocated once the appending is over). */
  toArray(): A {
    const out = this.allocate(this.length);
    this.chunks.forEach((chunk, c) =>
      out.set(chunk.subarray(0, Math.min(CHUNK_SIZE, this.length - c * CHUNK_SIZE)), c * CHUNK_SIZE),
    );
    return out;
  }
}

export class Int32Column extends Column<Int32Array> {
  constructor() {
    super((length) => new Int32Array(length));
  }
}

export class Float64Column extends Column<Float64Array> {
  constructor() {
    super((length) => new Float64Array(length));
  }
}

/**
 * Call after allocating large typed arrays and before reading batches (see the top of this file). While
 * young ArrayBuffers own 32 MiB or more, the first buffers allocated during the first batch would each cost
 * a minor collection; two tiny allocations here take those collections (which promote the new arrays) while
 * no batch is alive, and cost nothing otherwise. Then a few turns of the event loop let V8 finish a major
 * collection that the new external memory may have started, on its own task rather than during the batch.
 */
export async function settleHeap(): Promise<void> {
  for (let i = 0; i < 2; i++) settled.push(new ArrayBuffer(8));
  settled.length = 0;
  for (let i = 0; i < 8; i++) await new Promise((resolve) => setImmediate(resolve));
}

const settled: ArrayBuffer[] = [];

/**
 * Call just before reading batches from allocation sites the thread has not read from yet (see the top of
 * this file): runs a minor collection now, while no batch is alive, then lets a major collection that it
 * may start finish (`settleHeap`). V8 runs a minor collection before allocating an ArrayBuffer while young
 * ArrayBuffers own 32 MiB or more: a buffer of that size dropped at once makes `settleHeap`'s tiny ones run
 * it (the large one costs an address-space reservation: it is never written).
 */
export async function collectYoungGeneration(): Promise<void> {
  settled.push(new ArrayBuffer(YOUNG_BUFFERS_LIMIT));
  settled.length = 0;
  await settleHeap();
}

/** `2 × DefaultMaxSemiSpaceSize` on 64-bit V8, whatever the thread's own limits. */
const YOUNG_BUFFERS_LIMIT = 32 << 20;
