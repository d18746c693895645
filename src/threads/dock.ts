/**
 * Docks: a start handed straight to an idle worker, without the hub and without a message.
 *
 * A start through the hub wakes two sleeping threads one after the other (the hub, then an idle
 * worker, each through its event loop), and the worker's return to the hub is one more message.
 * A dock is a place in shared memory (G64 and the dock bytes, shared/runtime.ts) where the hub parks
 * an idle worker that has run a thread; the worker then sleeps in Atomics.wait() on the dock's
 * state word (park()), its event loop stopped. A thread that starts a plain thread (no
 * transferList, not a subclass, not isolated, no resourceLimits, arguments without shared memory,
 * a request of at most DOCK_BYTES) claims the warmest parked worker itself, writes the request
 * into the dock (dock-request.ts) and wakes it. The worker runs the thread and, when it ends clean,
 * parks itself again in the same dock: the next start finds it there, and neither the start nor
 * the return wakes the hub.
 *
 * A dock is two 64-bit words, its state word and the last thread it took (slot | ident << 12; 0 =
 * none), and DOCK_BYTES of request (a 4-byte length, then the bytes). The state word is
 * generation (18 bits) | payload (42 bits) | state (3 bits); every transition bumps the generation
 * except a starter's two steps, which keep the one it saw. States:
 *   EMPTY              no worker.
 *   IDLE(stamp)        its worker is idle and may be claimed; `stamp` (G64[PARK_STAMP64]) orders
 *                      parkings, the highest is the warmest worker (0: a spare that never ran a thread).
 *   CLAIMED(slot, ident) a starter owns the dock and writes the request of thread `ident` (slot `slot`).
 *   BUSY(slot, ident)  the request is written: only the worker moves the dock on (or the hub once
 *                      the worker has exited).
 *   GONE               its worker has left the dock after a thread that left something behind (it
 *                      settles, or exits); the hub empties the dock when it hears so, or at the exit.
 * Transitions:
 *   hub      EMPTY -> IDLE            parkIn(): a worker came back idle (then told its dock)
 *   worker   EMPTY(0) -> IDLE         parkFirst(): the first worker, booted by the main thread, parks
 *                                     itself in the dock the hub keeps for it (generation 0: untouched)
 *   starter  EMPTY(0) -> CLAIMED(0)   preHand(), a CAS: the main thread's first start() hands its thread
 *                                     to the first worker still booting (then writes the request, and
 *                                     CLAIMED(0) -> BUSY(0) as handToDock() does); parkFirst() then finds
 *                                     the start waiting and the worker takes it as park() does
 *   starter  IDLE(g) -> CLAIMED(g)    handToDock(), a CAS; then it writes the request
 *   starter  CLAIMED(g) -> BUSY(g)    handToDock(), a CAS, then a notify
 *   worker   CLAIMED(g) -> IDLE(g+1)  park(): the request was not written within PATIENCE_MS
 *   hub      IDLE -> EMPTY            take(): the worker runs a start through the hub, or is let go
 *                                     (notified: the parked worker goes back to its event loop)
 *   worker   BUSY -> IDLE             repark(): its thread ended clean (before it is marked ENDED)
 *   worker   BUSY -> GONE             leave(): its thread left something (before it tells the hub)
 *   hub      any -> EMPTY             clear(): the worker exited, or said it settles or exits
 * Invariants: only a CLAIMED dock's starter writes its bytes, and only while its word is CLAIMED
 * with its generation; the worker reads them only once the word is BUSY (the Atomics on the word
 * order the bytes). A worker sleeps in a dock only while the dock's generation is that of its own
 * parking (the hub tells it the generation with the dock; repark() and a take-back give the next
 * one), so a worker told of a dock the hub has taken back since never sleeps there, and no two
 * workers ever wait on one dock.
 * What a dying party leaves:
 *   - a starter, between its claim and BUSY: the worker waits PATIENCE_MS, then takes the dock back
 *     to IDLE with a new generation, so the starter's second CAS fails (it then starts elsewhere).
 *     (A first worker that finds its dock CLAIMED(0) as it parks waits so too.)
 *   - the first worker before it has taken a start handed to it by preHand(): its starter (the main
 *     thread, waiting in that start) fails the start as START_LOST once FIRST_PATIENCE_MS have
 *     passed (first-worker.ts), and starts it again through the hub: a worker that died before the
 *     hub adopted its ports is never seen to exit. Its dock stays BUSY(0) for good then; a first
 *     worker that was only slow finds the start failed, and parks (its BUSY -> IDLE, repark()).
 *   - a worker, at any instruction: the hub (its parent) sees it exit and clears its dock. CLAIMED
 *     or BUSY with a thread that has not run yet is failed as START_LOST (nothing was transferred:
 *     its start() starts it again through the hub); BUSY with a running thread is ended; and the
 *     thread in the last word is ended (a worker parks itself before it marks its thread ENDED).
 *   - the hub: every worker dies with it; markHubDead (table.ts) empties the docks and ends every
 *     thread; a claim that raced it leaves a STARTING thread, which its start() fails once it sees
 *     the hub dead.
 */
import {
  DOCK_WORDS,
  DOCK64,
  dockBytes,
  G,
  G64,
  isIdentAlive,
  lowHalfInG,
  MAX_DOCKS,
  PARK_STAMP64,
} from "../shared/runtime.js";
import { readRequest, requestBytes } from "./dock-request.js";
import type { RunRequest } from "./thread.js";

export { docksWork } from "./dock-request.js";

export const EMPTY = 0n;
export const IDLE = 1n;
export const CLAIMED = 2n;
export const BUSY = 3n;
export const GONE = 4n;
const STATE = 7n;
/** The same states as 32-bit numbers, read from a dock word's low half (lowHalfInG). */
const STATE_BITS = 7;
const IDLE_BITS = Number(IDLE);
const CLAIMED_BITS = Number(CLAIMED);
const BUSY_BITS = Number(BUSY);
/** Each dock's state word's low half, as an index in G. */
const lows = Array.from({ length: MAX_DOCKS }, (_, d) => lowHalfInG(wordAt(d)));
const PAYLOAD_SHIFT = 3n;
const PAYLOAD = (1n << 42n) - 1n;
const GEN_SHIFT = 45n;
const GEN = (1n << 18n) - 1n;

/** How long a parked worker waits for the request of a claim before it takes its dock back (ms). */
const PATIENCE_MS = 250;

export function dockState(word: bigint): bigint {
  return word & STATE;
}
function payload(word: bigint): bigint {
  return (word >> PAYLOAD_SHIFT) & PAYLOAD;
}
function make(gen: bigint, data: bigint, state: bigint): bigint {
  return ((gen & GEN) << GEN_SHIFT) | ((data & PAYLOAD) << PAYLOAD_SHIFT) | state;
}
/** `word`'s successor: the next generation, in `state` with `data`. */
function next(word: bigint, data: bigint, state: bigint): bigint {
  return make(((word >> GEN_SHIFT) & GEN) + 1n, data, state);
}
/** `word`'s generation, in `state` with `data`. */
function same(word: bigint, data: bigint, state: bigint): bigint {
  return make((word >> GEN_SHIFT) & GEN, data, state);
}
function threadBits(slot: number, ident: number): bigint {
  return BigInt(slot) | (BigInt(ident) << 12n);
}
function threadOf(bits: bigint): [number, number] {
  return [Number(bits & 0xfffn), Number(bits >> 12n)];
}
function wordAt(dock: number): number {
  return DOCK64 + dock * DOCK_WORDS;
}

const areas: Uint8Array[] = [];
function area(dock: number): Uint8Array {
  let a = areas[dock];
  if (a === undefined) {
    a = dockBytes(dock);
    areas[dock] = a;
  }
  return a;
}

/** @internal Test hooks: run by a starter between its claim and its BUSY (test/threads/dock.test.ts). */
export const dockTestHooks: { afterClaim?: (dock: number) => void } = {};

/**
 * How long a start waits for a worker busy with a thread handed over in a dock to park again, when
 * no dock holds an idle one, before it goes through the hub (which may boot a Worker: tens of
 * milliseconds of a core, against a fraction of one for a worker whose short thread ends now).
 */
const BUSY_PATIENCE_MS = 5;

/**
 * The park stamp (G64[PARK_STAMP64]) when this thread last waited BUSY_PATIENCE_MS in vain: until
 * a worker parks again, its starts do not wait again (the busy workers run long threads, or
 * threads that wait for this one).
 */
let stalledAt = -1n;

/**
 * In a starting thread: hands `request` (slot and ident set) to the warmest parked worker. When no
 * dock holds an idle worker but some worker runs a thread handed over in a dock, waits for one to
 * park again (any repark bumps and notifies the park stamp), at most BUSY_PATIENCE_MS, and not at
 * all when `patient` is false (startAsync) or a wait has already been in vain since the last
 * parking. False when it cannot go through a dock or no worker took it (none parked, or each one
 * tried was claimed first): the hub runs it then.
 */
export function handToDock(request: RunRequest, patient = true): boolean {
  let until = -1;
  /** Whether the request fits a dock, once asked (the wait below is only for one that does). */
  let fits: boolean | undefined;
  for (let attempt = 0; attempt < 3; ) {
    const parkings = Atomics.load(G64, PARK_STAMP64);
    let dock = -1;
    let word = 0n;
    let stamp = -1n;
    let busy = false;
    for (let d = 0; d < MAX_DOCKS; d++) {
      // The state bits from the word's low half (a 32-bit load makes no BigInt: this scan runs at
      // every start, mostly before V8 has optimized it); the whole word only for an idle dock.
      const state = Atomics.load(G, lows[d] as number) & STATE_BITS;
      if (state === IDLE_BITS) {
        const w = Atomics.load(G64, wordAt(d));
        if ((w & STATE) === IDLE && payload(w) > stamp) {
          dock = d;
          word = w;
          stamp = payload(w);
        }
      } else if (state === BUSY_BITS || state === CLAIMED_BITS) busy = true;
    }
    if (dock < 0) {
      if (!patient || !busy || parkings === stalledAt) return false;
      fits ??= requestBytes(request) !== null;
      if (!fits) return false;
      if (until < 0) until = performance.now() + BUSY_PATIENCE_MS;
      const left = until - performance.now();
      if (left <= 0 || Atomics.wait(G64, PARK_STAMP64, parkings, left) === "timed-out") {
        stalledAt = parkings;
        return false;
      }
      continue; // a worker parked: look again
    }
    attempt++;
    // (written again at each attempt: its bytes are a view that a start nested in the test hook below overwrites)
    const bytes = requestBytes(request);
    if (bytes === null) return false;
    const i = wordAt(dock);
    const bits = threadBits(request.slot, request.ident);
    const claimed = same(word, bits, CLAIMED);
    if (Atomics.compareExchange(G64, i, word, claimed) !== word) continue;
    const a = area(dock);
    new DataView(a.buffer, a.byteOffset, 4).setUint32(0, bytes.length);
    a.set(bytes, 4);
    dockTestHooks.afterClaim?.(dock);
    if (Atomics.compareExchange(G64, i, claimed, same(word, bits, BUSY)) === claimed) {
      handWoke = Atomics.notify(G64, i) > 0;
      return true;
    }
    // The dock was taken back (the worker gave up waiting, or exited): unless the thread was
    // failed meanwhile (its start() then sees why), try another one.
    if (!isIdentAlive(request.slot, request.ident)) return true;
  }
  return false;
}

/** Whether the last handToDock() that handed its start over woke its worker from a sleep (see handWokeWorker()). */
let handWoke = true;

/**
 * Whether the last start this thread handed over in a dock found its worker asleep (its notify woke
 * it), rather than awake (watching its dock: park(), or on its way there): a start whose worker was
 * awake is RUNNING within microseconds, one that had to be woken takes a wake-up.
 */
export function handWokeWorker(): boolean {
  return handWoke;
}

/** The generation of a dock word: a worker's dock is its own while the generation is the one it parked with. */
export function genOf(word: bigint): bigint {
  return (word >> GEN_SHIFT) & GEN;
}

/** Where a worker is parked: its dock, and the generation of its parking there (see park()). */
export interface Parking {
  dock: number;
  gen: bigint;
}

/**
 * In a worker parked at `place`: sleeps until a starter hands it a start, and returns its thread
 * and the dock's BUSY word (which the worker hands back to repark() or leave()), after recording
 * the thread as the dock's last (the worker marks it RUNNING before it reads the request:
 * handedRequest()); or returns null once the dock is no longer its own (another
 * generation: the hub took it out, its message waits in the event loop; or the worker was told of a
 * dock that the hub had taken back already).
 */
export function park(place: Parking): Handed | null {
  const { dock } = place;
  const i = wordAt(dock);
  for (;;) {
    const w = Atomics.load(G64, i);
    const state = w & STATE;
    if (genOf(w) !== place.gen) return null;
    if (state === IDLE) {
      Atomics.wait(G64, i, w);
    } else if (state === CLAIMED) {
      // Its starter writes the request; should it not finish, the dock is taken back (its second CAS fails).
      if (Atomics.wait(G64, i, w, PATIENCE_MS) === "timed-out") {
        const back = next(w, Atomics.load(G64, PARK_STAMP64), IDLE);
        if (Atomics.compareExchange(G64, i, w, back) === w) place.gen = genOf(back);
      }
    } else if (state === BUSY) {
      const bits = payload(w);
      Atomics.store(G64, i + 1, bits);
      const [slot, ident] = threadOf(bits);
      return { busy: w, slot, ident };
    } else {
      return null;
    }
  }
}

/**
 * In a worker parked at `place`, before it sleeps there: waits, at most `ms`, for the dock's word to
 * leave the IDLE of its parking (a starter claimed it, or the hub took the dock or gave it a new
 * generation). True if it did (park() then sees what came), false if the worker is still idle there
 * after `ms`, or as soon as `stop()` says so (checked at each wake: whoever makes it true notifies
 * the dock's word). It changes nothing.
 */
export function awaitClaim(place: Parking, ms: number, stop?: () => boolean): boolean {
  const i = wordAt(place.dock);
  const until = performance.now() + ms;
  for (;;) {
    const w = Atomics.load(G64, i);
    if (genOf(w) !== place.gen || (w & STATE) !== IDLE) return true;
    const left = until - performance.now();
    if (left <= 0 || stop?.()) return false;
    Atomics.wait(G64, i, w, left);
  }
}

/** Wakes whoever waits on `dock`'s word (awaitClaim(): its `stop` may have changed). */
export function notifyDock(dock: number): void {
  Atomics.notify(G64, wordAt(dock));
}

/** A start handed over in a dock: the dock's BUSY word, and its thread (the request: handedRequest()). */
export interface Handed {
  busy: bigint;
  slot: number;
  ident: number;
}

/**
 * In a worker that park() returned `handed` to: the request written in `dock` (readable while the
 * dock is BUSY, until the worker itself moves it on: repark() or leave()).
 */
export function handedRequest(dock: number, handed: Handed): RunRequest {
  const a = area(dock);
  const length = new DataView(a.buffer, a.byteOffset, 4).getUint32(0);
  return readRequest(a.subarray(4, 4 + length), handed.slot, handed.ident);
}

/**
 * In the worker whose handed-over thread (`busy`, the dock's word) ended clean: parks it again.
 * Returns the generation of the new parking (null if the dock is no longer the worker's).
 */
export function repark(dock: number, busy: bigint): bigint | null {
  const stamp = Atomics.add(G64, PARK_STAMP64, 1n) + 1n;
  const i = wordAt(dock);
  const idle = next(busy, stamp, IDLE);
  if (Atomics.compareExchange(G64, i, busy, idle) !== busy) return null;
  Atomics.notify(G64, i);
  Atomics.notify(G64, PARK_STAMP64); // a start waiting for a busy worker (handToDock)
  return genOf(idle);
}

/** In the worker whose handed-over thread left something behind: leaves the dock (the hub empties it). */
export function leave(dock: number, busy: bigint): void {
  const i = wordAt(dock);
  if (Atomics.compareExchange(G64, i, busy, next(busy, 0n, GONE)) === busy) Atomics.notify(G64, i);
}

/**
 * In the first thread worker (booted by the main thread beside the hub, hub-client.ts): parks
 * itself in `dock`, which the hub keeps for it, if the dock is still as the process began (EMPTY,
 * generation 0; the hub has died meanwhile otherwise). Returns the generation of the parking, or
 * null. A dock the main thread's first start() has claimed meanwhile (preHand(): CLAIMED or BUSY,
 * generation 0) is the worker's too: generation 0 is returned, and park() takes that start.
 */
export function parkFirst(dock: number): bigint | null {
  const i = wordAt(dock);
  const stamp = Atomics.add(G64, PARK_STAMP64, 1n) + 1n;
  const idle = next(0n, stamp, IDLE);
  const was = Atomics.compareExchange(G64, i, 0n, idle);
  if (was !== 0n) return preHanded(was) ? 0n : null;
  Atomics.notify(G64, i);
  Atomics.notify(G64, PARK_STAMP64);
  return genOf(idle);
}

/** Whether dock word `word` holds a start handed over by preHand() that no worker has taken back: CLAIMED or BUSY, generation 0. */
function preHanded(word: bigint): boolean {
  const state = word & STATE;
  return genOf(word) === 0n && (state === CLAIMED || state === BUSY);
}

/**
 * In the main thread, whose first worker is still on its way to `dock` (EMPTY, generation 0):
 * claims the dock for `request` (slot and ident set) and writes the request there, as handToDock()
 * does with a parked worker, so that the worker runs it as soon as it has booted (parkFirst(), then
 * park()), without waking this thread first and being woken by it again. False if the dock is no
 * longer as the process began (the worker parked, or its dock was cleared) or the request does not
 * fit a dock; true once the start is the worker's (or was failed meanwhile: its start() sees why).
 */
export function preHand(dock: number, request: RunRequest): boolean {
  const bytes = requestBytes(request);
  if (bytes === null) return false;
  const i = wordAt(dock);
  const bits = threadBits(request.slot, request.ident);
  const claimed = same(0n, bits, CLAIMED);
  if (Atomics.compareExchange(G64, i, 0n, claimed) !== 0n) return false;
  const a = area(dock);
  new DataView(a.buffer, a.byteOffset, 4).setUint32(0, bytes.length);
  a.set(bytes, 4);
  dockTestHooks.afterClaim?.(dock);
  if (Atomics.compareExchange(G64, i, claimed, same(0n, bits, BUSY)) === claimed) {
    Atomics.notify(G64, i);
    return true;
  }
  // Taken back (the worker parked and waited PATIENCE_MS for the bytes, or the dock was cleared):
  // unless the thread was failed meanwhile, it starts elsewhere.
  return !isIdentAlive(request.slot, request.ident);
}

/**
 * The main thread: whether its first start() handed a thread to the first worker in `dock`
 * (preHand()) that the worker has not taken yet: the dock is CLAIMED or BUSY in generation 0 and
 * names no thread taken (park() records the thread it takes as the dock's last).
 */
export function preHandPending(dock: number): boolean {
  const i = wordAt(dock);
  return preHanded(Atomics.load(G64, i)) && Atomics.load(G64, i + 1) === 0n;
}

/**
 * In the main thread, whose first worker is on its way to `dock`: waits until the dock's word
 * changes from the one the process began with (the worker parked there, or the hub cleared the dock
 * as the worker died, or the hub died), at most `ms`. True if it changed.
 */
export function awaitFirstParking(dock: number, ms: number, gaveUp: () => boolean): boolean {
  const i = wordAt(dock);
  const until = performance.now() + ms;
  for (;;) {
    if (Atomics.load(G64, i) !== 0n) return true;
    const left = until - performance.now();
    if (left <= 0 || gaveUp()) return false;
    Atomics.wait(G64, i, 0n, Math.min(left, 50));
  }
}

/**
 * In the hub: parks the idle worker in the empty `dock`; returns the generation of the parking,
 * which the hub tells the worker (it sleeps there while the dock has that generation). A worker
 * that has run a thread (`warm`) gets a new stamp, so a start takes it before older ones; a spare
 * that never ran one gets stamp 0, so a start takes it only when no warm worker is parked (the
 * warm one has the start's compiled targets and V8's optimized code, as hub.ts's `ready` prefers).
 */
export function parkIn(dock: number, warm: boolean): bigint {
  const i = wordAt(dock);
  Atomics.store(G64, i + 1, 0n);
  const stamp = Atomics.add(G64, PARK_STAMP64, 1n) + 1n;
  const idle = next(Atomics.load(G64, i), warm ? stamp : 0n, IDLE);
  Atomics.store(G64, i, idle);
  Atomics.notify(G64, PARK_STAMP64);
  return genOf(idle);
}

/** The state word of `dock` now. */
export function dockWord(dock: number): bigint {
  return Atomics.load(G64, wordAt(dock));
}

/** The last thread handed over in `dock` (slot | ident << 12; 0: none since its worker was parked there). */
export function dockLast(dock: number): bigint {
  return Atomics.load(G64, wordAt(dock) + 1);
}

/** The stamp of an IDLE word (higher: parked more recently). */
export function stampOf(word: bigint): bigint {
  return payload(word);
}

/**
 * In the hub: takes the worker parked in `dock` out of it (IDLE -> EMPTY, and wakes it) if no
 * starter claimed it first. Returns the last thread it took ([slot, ident], or null), or false if
 * it was not IDLE.
 */
export function take(dock: number): [number, number] | null | false {
  const i = wordAt(dock);
  const w = Atomics.load(G64, i);
  if ((w & STATE) !== IDLE || Atomics.compareExchange(G64, i, w, next(w, 0n, EMPTY)) !== w) return false;
  Atomics.notify(G64, i);
  const last = Atomics.load(G64, i + 1);
  return last === 0n ? null : threadOf(last);
}

/**
 * In the hub, once the worker of `dock` has exited or said it leaves: empties the dock whatever its
 * state. Returns the word it had, the thread of a CLAIMED or BUSY word, and the last thread the
 * worker took (each [slot, ident] or null).
 */
export function clear(dock: number): {
  word: bigint;
  claim: [number, number] | null;
  last: [number, number] | null;
} {
  const i = wordAt(dock);
  for (;;) {
    const w = Atomics.load(G64, i);
    if (Atomics.compareExchange(G64, i, w, next(w, 0n, EMPTY)) === w) {
      Atomics.notify(G64, i);
      const last = Atomics.load(G64, i + 1);
      const state = w & STATE;
      return {
        word: w,
        claim: state === CLAIMED || state === BUSY ? threadOf(payload(w)) : null,
        last: last === 0n ? null : threadOf(last),
      };
    }
  }
}

/** When the hub has died: empties every dock, so that no start is handed to a dead worker. */
export function clearAllDocks(): void {
  for (let d = 0; d < MAX_DOCKS; d++) clear(d);
}
