/**
 * Slot words: the shared state of a Future bound to an executor (future.ts). Each is one Int32 of a
 * slab of SLAB words that the executor shares with the threads that run its tasks (pool threads,
 * the RedisExecutor's client thread). This file is the one place the word is encoded and decoded:
 *
 *   word = gen * 4 + state        state: PENDING 0 | RUNNING 1 | CANCELLED 2 | FINISHED 3
 *
 * A word is reused for a new future by opening its next generation (gen + 1 modulo 2^29), so a
 * late CAS of a thread still acting for the old future fails, and a reader of another
 * generation's word knows it is not about its future. Every transition is a CAS on the whole word:
 *   PENDING -> RUNNING      the task starts (start())
 *   PENDING -> CANCELLED    cancel() in the thread that owns the future (cancel())
 *   PENDING|RUNNING -> FINISHED  after the outcome is posted (finish())
 *   PENDING(gen) -> PENDING(gen + 1)  a task not yet started moves to another pool thread (Slots.renew())
 * A thread that dies leaves its words PENDING or RUNNING; the owner reads them (stateOf()) to tell
 * a task that never started from one that was running.
 */

export const PENDING = 0;
export const RUNNING = 1;
export const CANCELLED = 2;
export const FINISHED = 3;

const GEN_MASK = 0x1fffffff;
const SLAB_BITS = 10;
const SLAB = 1 << SLAB_BITS;

/** Where a future's word is (its slab and index as one number: slabOf(), indexOf()), and the generation it has there. */
export interface Slot {
  handle: number;
  gen: number;
}

/** A slot with its slab and index apart (take()). */
export interface PlacedSlot extends Slot {
  slab: number;
  index: number;
}

/** The slab of a handle. */
export function slabOf(handle: number): number {
  return handle >> SLAB_BITS;
}

/** The index in its slab of a handle. */
export function indexOf(handle: number): number {
  return handle & (SLAB - 1);
}

/** The word of generation `gen` in `state`. */
function wordOf(gen: number, state: number): number {
  return gen * 4 + state;
}

/** The state in a word, whatever its generation. */
export function stateOf(word: number): number {
  return word & 3;
}

/** The state of generation `gen` at `words[index]`, or -1 if the word has moved on to another generation. */
export function stateAt(words: Int32Array, index: number, gen: number): number {
  const v = Atomics.load(words, index);
  return v >> 2 === gen ? v & 3 : -1;
}

/** The task starts: PENDING -> RUNNING. False if it was cancelled or moved to another thread. */
export function start(words: Int32Array, index: number, gen: number): boolean {
  const pending = wordOf(gen, PENDING);
  return Atomics.compareExchange(words, index, pending, wordOf(gen, RUNNING)) === pending;
}

/** cancel(): PENDING -> CANCELLED. False if the task has started (or the word is another generation's). */
export function cancel(words: Int32Array, index: number, gen: number): boolean {
  const pending = wordOf(gen, PENDING);
  return Atomics.compareExchange(words, index, pending, wordOf(gen, CANCELLED)) === pending;
}

/**
 * The outcome has been posted: PENDING or RUNNING of `gen` -> FINISHED. A CAS, never a store: once
 * the outcome is posted, the owner may already have taken it and reused the word for a new future
 * (a new generation), which must not be overwritten.
 */
export function finish(words: Int32Array, index: number, gen: number): void {
  const v = Atomics.load(words, index);
  if (v >> 2 === gen && (v & 3) <= RUNNING) Atomics.compareExchange(words, index, v, wordOf(gen, FINISHED));
}

/** The slabs of one executor: words handed to its futures, and taken back once they settle. */
export class Slots {
  /** Every slab made so far, by number; a thread that runs tasks is sent each one once. */
  readonly slabs: Int32Array[] = [];
  #free: number[] = [];
  #fresh = SLAB;

  /** A word for a new future, at the next generation of that word, PENDING. */
  take(): PlacedSlot {
    const handle = this.open();
    return { slab: slabOf(handle), index: indexOf(handle), handle, gen: this.gen };
  }

  /** The generation of the word the last open() took. */
  gen = 0;

  /** take() without an object: returns the word's handle; its generation is `gen` after the call. */
  open(): number {
    let handle: number;
    if (this.#free.length > 0) handle = this.#free.pop() as number;
    else {
      if (this.#fresh === SLAB) {
        this.slabs.push(new Int32Array(new SharedArrayBuffer(SLAB * 4)));
        this.#fresh = 0;
      }
      handle = ((this.slabs.length - 1) << SLAB_BITS) | this.#fresh++;
    }
    const slab = handle >> SLAB_BITS;
    const index = handle & (SLAB - 1);
    const words = this.slabs[slab] as Int32Array;
    const gen = ((Atomics.load(words, index) >> 2) + 1) & GEN_MASK;
    Atomics.store(words, index, wordOf(gen, PENDING));
    this.gen = gen;
    return handle;
  }

  /** The word of a settled future goes back, to be reused (at a new generation). */
  give(slot: Slot): void {
    this.#free.push(slot.handle);
  }

  /** give() by handle. */
  giveHandle(handle: number): void {
    this.#free.push(handle);
  }

  /** The slab that holds the word of `handle`. */
  wordsOf(handle: number): Int32Array {
    return this.slabs[slabOf(handle)] as Int32Array;
  }

  /** The state in the word of `handle` now, whatever its generation. */
  stateOfHandle(handle: number): number {
    return stateOf(Atomics.load(this.wordsOf(handle), indexOf(handle)));
  }

  /** renew() by handle and generation: the new generation, or -1 (nothing changed). */
  renewHandle(handle: number, gen: number): number {
    const next = (gen + 1) & GEN_MASK;
    const pending = wordOf(gen, PENDING);
    const words = this.wordsOf(handle);
    if (Atomics.compareExchange(words, indexOf(handle), pending, wordOf(next, PENDING)) !== pending) return -1;
    return next;
  }

  /** The slab that holds `slot`'s word. */
  words(slot: Slot): Int32Array {
    return this.slabs[slabOf(slot.handle)] as Int32Array;
  }

  /** The state in `slot`'s word now (PENDING...FINISHED), whatever its generation. */
  state(slot: Slot): number {
    return stateOf(Atomics.load(this.words(slot), indexOf(slot.handle)));
  }

  /**
   * A task not yet started moves to another thread: PENDING(gen) -> PENDING(gen + 1), and `slot.gen`
   * becomes the new generation. The old thread's copy then fails its start() and is skipped. False
   * (nothing changed) if the task has started or was cancelled.
   */
  renew(slot: Slot): boolean {
    const gen = this.renewHandle(slot.handle, slot.gen);
    if (gen < 0) return false;
    slot.gen = gen;
    return true;
  }
}
