/**
 * What a queue class drives (the Engine interface), and what both engines share: the one-lock
 * engine's taskDone on UNFINISHED (layout.ts; its join is core.ts's; the ring counts tasks its own
 * way, fifo.ts), the dead-holder check (identAlive, CHECK_MS, IDLE_CHECK_MS), the one slow path of every put and get
 * (waitTurn, for both engines, blocking and async), and the way waiters sleep on a sequence word
 * and are woken (sleeperHow/wakeOne). One copy of its first turn exists outside it: the first
 * sleep of a blocking Queue/SimpleQueue get() (fifo.ts RingEngine.get), the same steps in the same
 * order, which hands anything but its common end (an item, nobody out of place) back to waitTurn
 * (TurnState): the hand-off to a sleeping getter then runs no generator between the wake and the item.
 *
 * Two engines implement Engine, each over its own control block layout:
 *   - the two-lock FIFO ring (fifo.ts, fifo-layout.ts): Queue and SimpleQueue;
 *   - the one-lock engine (core.ts, locked-layout.ts) over a Store (storage.ts), CPython's
 *     `_init/_qsize/_put/_get` hooks in shared memory: LifoQueue's stack, PriorityQueue's heap.
 * A queue class chooses its engine in one hook, `_makeEngine()` (queue.ts), as CPython's queue
 * classes choose their storage in `_init()`.
 */
import {
  deadlineOf,
  expired,
  guardDuties,
  remaining,
  secondsText,
  Sleep,
  type SleepHow,
  type Steps,
  sleepHow,
  sliceMs,
  spinWhile,
} from "../shared/wait.js";
import {
  G,
  identHolds,
  lockOwner,
  MAX_THREADS,
  QTURN,
  QTURN_DISORDERED,
  QTURN_DUTIES,
  QTURN_IDENT,
  QTURN_KEY_HI,
  QTURN_KEY_LO,
  QTURN_TICKET,
  QTURN_WORDS,
  slotHolds,
} from "../shared/runtime.js";
import type { Staged } from "./codec.js";
import { QID_HI, QID_LO, UNFINISHED } from "./layout.js";

/** A queue's state machine in this thread: the put/get/shutdown of one control block and its storage. */
export interface Engine {
  /** Stores a staged record once there is room (ShutDown / Full otherwise). `what` names the call in errors. */
  put(st: Staged, block: boolean, ms: number, what: string): void;
  /** The async twin of put(). */
  putAsync(st: Staged, ms: number, what: string): Promise<void>;
  /** Takes one item (ShutDown / Empty when there is none). */
  get(block: boolean, ms: number, what: string): unknown;
  /** The async twin of get(). */
  getAsync(ms: number, what: string): Promise<unknown>;
  /** Items in the queue (a hint: other threads may change it at any moment). */
  qsize(): number;
  /** Python 3.13's shutdown(immediate). */
  shutdown(immediate: boolean): void;
  /**
   * Sets the bound (0 = none) and, under the same lock, the value `maxsize` reports (`given[0] =
   * value`: layout.ts GIVEN_MAXSIZE), then lets waiting putters re-check.
   */
  setMaxsize(maxsize: number, given: Float64Array, value: number): void;
  /** Python's task_done() (RangeError when called more times than items were put). */
  taskDone(): void;
  /** Python's `unfinished_tasks`: items put and not yet matched by a taskDone() or discarded (a hint). */
  unfinishedTasks(): number;
  /** Python's join(): until every item put is matched by a taskDone() or discarded. */
  join(): void;
  /** The async twin of join(). */
  joinAsync(): Promise<void>;
  /** The buffers after the control block, for the share record. */
  buffers(): SharedArrayBuffer[];
  /**
   * For the hang report (shared/waiting.ts describe): the control block's lock words, each with the
   * word that names its holder, and whether that word is an owned mutex's value (sync/mutex.ts).
   */
  readonly lockOwners: ReadonlyMap<number, number>;
  readonly ownersCoded: boolean;
}

/** Iterations a waiter spins (watching its sequence word) before it sleeps: hand-offs without a syscall. */
export const SPIN = Number(process.env.THREADING_QUEUE_SPIN ?? 400);

/**
 * How a queue waiter sleeps on its sequence word (shared/wait.ts's Sleep), given its sleepers word
 * (the async sleepers word always follows it, in both control blocks): a blocking one spins first
 * (SPIN loads), then both count themselves in `sleepers`, an async one also in `sleepers + 1`.
 *
 * Counting: the waker bumps the sequence and then reads the sleepers count; the sleeper counts
 * itself and then sleeps only if the sequence is unchanged (both sequentially consistent): one of
 * them always sees the other. Who uncounts a sleeper: the notifier that woke it (Atomics.notify
 * returns how many it woke, and a sleeper is answered "ok" only when woken so; wakeOne() claims it
 * before its notify), else the sleeper itself (timed out, word already changed, or an exception).
 * So the count drops as soon as a sleeper is woken, not when the woken thread next runs — on a
 * busy machine that can be milliseconds, during which every put would otherwise notify again for a
 * sleeper already woken. The count is below the threads actually asleep only while a wakeOne()
 * claim is out, whose claimant answers for the wakes it stood in for (wakeOne). An async sleeper's callback runs only
 * when its thread's event loop turns, and that thread may be blocked, so a wake-one that lands on
 * it could leave an item (or room) with a blocking waiter asleep: wakeOne() therefore wakes every
 * sleeper while async ones are counted (issue 9, item 5).
 */
export function sleeperHow(sleepers: number): SleepHow {
  return sleepHow({ spinMs: Number.POSITIVE_INFINITY, spinTries: SPIN, sleepers, asyncSleepers: sleepers + 1 });
}

/** One side of a queue's waiting: getters on "not empty", putters on "not full". */
export interface Side {
  /** Takes the lock under which this side's state changes (blocking: the critical sections are short). */
  lock(h: Int32Array): void;
  unlock(h: Int32Array): void;
  /** The sequence word the waiters sleep on (bumped, under or after the lock, by whoever makes room or an item). */
  seq: number;
  /** The waiters word: waiters registered in the slow path (a waker bumps `seq` only when it is > 0). */
  waiters: number;
  /** How they sleep (sleeperHow). */
  how: SleepHow;
  /** The error of a wait that may not wait or ran out of time (Full, Empty) and what the queue is then. */
  Refusal: new (
    message: string,
  ) => Error;
  state: "full" | "empty";
  /**
   * After registering in `waiters` and reading `seq`, before re-checking `admit()` (under the lock):
   * the two-lock ring raises the flag that tells the other side's next publish to look at
   * `waiters` (fifo.ts). Absent: nothing.
   */
  registered?(h: Int32Array): void;
  /** After a woken waiter, back under the lock, unregistered and left `left` registered (fifo.ts). */
  unregistered?(h: Int32Array, left: number): void;
  /**
   * The waker that wakes a sleeper also takes it out of `waiters` (wakeOne / wakeAll given the
   * waiters word): a sleeper answered "ok" was, and does not unregister itself (fifo.ts). Absent:
   * every waiter unregisters itself once back under the lock.
   */
  wakerUnregisters?: boolean;
  /**
   * Called (with no lock held) each time a waiter has slept IDLE_CHECK_MS without being woken: the
   * engine recovers a lock left held by a dead thread, whose put (get) or wake would otherwise never
   * come (fifo.ts, "Death"); the waiter then re-checks as after any wake. Absent: sleeps until woken
   * or out of time.
   */
  idleCheck?(h: Int32Array): void;
  /**
   * The side's DISORDER and TICKETS words ("Turns"): the sleepers word + 2 and + 3 (wakeOne reads
   * DISORDER so); its WAKES word, bumped by every wake of all sleepers, is the sleepers word + 4;
   * its FIRST word, the sleepers word + 5.
   */
  disorder: number;
  tickets: number;
  /**
   * Under the side's lock, once `admit()` was true: how many waiters could be admitted now (the
   * items a getter could take, the room putters could fill; a bound of 0 = no bound: Infinity).
   * Read only by a woken waiter that finds older waiters ("Turns": it gives way to no more of them
   * than that).
   */
  count(h: Int32Array): number;
}

/** How long (ms) a queue waiter sleeps before it looks for a lock held by a dead thread (Side.idleCheck). */
export const IDLE_CHECK_MS = 1000;

/**
 * How long (ms) a thread waits on a queue lock whose owner has not changed before it checks that
 * the owner is alive (fifo.ts, core.ts: "Death").
 */
export const CHECK_MS = 50;

/** SHUTDOWN while shutdown(true) discards under the lock(s): a recovery finishes the discard (layout.ts). */
export const DISCARDING = 2;

/**
 * True while a lock holder recorded as `ident` can still run: its thread is starting or running,
 * or it ended and its worker still runs code it left, which holds locks under its ident
 * (shared/runtime.ts identHolds, lockOwner). Otherwise its worker is gone and it is dead.
 */
export function identAlive(ident: number): boolean {
  return identHolds(ident);
}

/*
 * Turns: waiters are served in arrival order, also across the idle checks (issue: a waiter blocked
 * over IDLE_CHECK_MS went to the back of the line). The runtime keeps one FIFO line of sleepers per
 * word (V8), and a wake-one wakes its head; but a sleeper that wakes for its idle check (or, as
 * below, to give way) and sleeps again joins that line at the back, behind the waiters that came
 * after it; and until it has slept again it is in no line at all. So a blocking waiter's place is
 * its ticket, taken once per wait, right before its first sleep, after its spin (a hand-off within
 * the spin takes none), and published in its thread's QTURN record (shared/runtime.ts: the queue's
 * id and side, the ticket, its ident) for the whole wait. The record is published before the
 * ticket is taken (takeTicket: it shows the next ticket, then the ticket taken, each a lower bound
 * of the ticket it ends up with), so a scan that finds TICKETS past a ticket finds its record too.
 *   DISORDER (a word per side, under its lock) counts the registered waiters that may sleep out of
 *     their place: one that sleeps again after an idle check (or a slice of a thread with duties,
 *     an excepthook's owner: shared/wait.ts sliceMs), after giving way, after a wake of
 *     every sleeper (WAKES, bumped by each before its notify, moved while it slept: they all went
 *     back to the line in any order), or while DISORDER > 0, counts itself (DISORDERED in its
 *     record) before it reads the sequence word, until its wait ends. A first sleep never
 *     disorders the line (arrival order), nor one after losing an item to a newly arrived caller
 *     after a wake-one (CPython's woken waiter that loses the item to a new get() also waits
 *     again at the back), nor a sleep that never began (its word changed first: the waiters then
 *     arrived at the same time): such a waiter gives its ticket back (endTurn) and takes a new one
 *     before it sleeps again, at the back of the line, where the new ticket puts it.
 *   FIRST (a word per side) is a lower bound of the tickets of the side's live blocking waiters:
 *     no live waiter holds a ticket before it. A waiter whose wait ends moves it from its own
 *     ticket to the next (compare-exchange: only when it was FIRST), and a scan (below) raises it
 *     to the oldest live ticket it finds (or to TICKETS, read before the records, when it finds
 *     none). While waiters are served in the order they came, each finds FIRST at its own ticket.
 *   While DISORDER is 0 nothing changes: wakeOne() wakes the head of the line. While it is > 0,
 *     wakeOne() wakes every sleeper (it reads DISORDER after its bump and the sleepers count: a
 *     waiter that counts itself after that read sees the bump and does not sleep). A woken
 *     blocking waiter that finds its admit() true (at the top of its loop, or at the re-check after
 *     it registered, which then goes back to the top) may have older waiters that are out of the
 *     runtime's line: woken with it by a wake of every sleeper and not yet running, counted
 *     DISORDERED and asleep behind it, or not counted anywhere yet — one whose sleep just ended for
 *     its idle check or a slice and which has not run since, one woken alone that has not run yet,
 *     one that took its ticket and has not begun its sleep (held in its duties there) —, while a
 *     put that came meanwhile woke this one. There are at most `ahead` = its ticket - FIRST of
 *     them; when the items (room: Side.count) are no more than that, it looks for them (a scan of
 *     the QTURN records, under the side's lock, which also lowers DISORDER to the live DISORDERED
 *     records when a dead waiter left it high, and raises FIRST). If there are older live ones, as
 *     many as the items or more, it gives way: bumps the sequence word, wakes every sleeper (so
 *     the older ones, asleep or about to sleep, re-check and take them) and registers and sleeps
 *     again without its re-check (the items are the older ones'); its time running out then
 *     refuses it as for any wait. With more items than older waiters it takes one (two items put
 *     at once may go to an older and a younger waiter in either order, as in CPython, whose
 *     notified waiters race for the lock; before, it gave way for both and slept beside the second
 *     until its idle check). While waiters are served in the order they came, FIRST is each one's
 *     own ticket when it is woken (ahead 0): the hand-off costs a load of FIRST and, at the end of
 *     the wait, its compare-exchange. A first call that finds an item (room) takes it, as in
 *     CPython.
 * No lost wake-up: giving way leaves the items (the room) to as many registered live waiters,
 * each asleep (woken by the giving way's bump and wakeAll), or awake and bound to re-check under
 * the lock before it sleeps (it reads the sequence after that bump, or its sleep ended and it
 * re-checks before it looks at its time); should one of them end instead with an exception out of
 * its sleep, it clears its record and then bumps and wakes every sleeper itself while DISORDER > 0
 * (the giver counted itself before it read the sequence word), and the giver, which looks again
 * for the waiters it gave way to after reading the sequence word, goes back to the top when one is
 * gone (so one of the two sees the other). One that dies leaves the giver to its next idle check.
 * Exact counts: DISORDER and the record change under the side's lock with the registration and
 * the end of the wait; a wait that ends with an exception out of its sleep (no lock held) uncounts
 * itself first and then clears its record, so a scan between the two counts it still (DISORDER is
 * only ever lowered to what the scan saw). Async waiters (a thread may have many) take no ticket
 * and are not in the scan: their order among themselves is the runtime's line, and with any async
 * sleeper a wake is a wake of every sleeper already (sleeperHow). What a dying waiter leaves: a
 * stale record (its ident no longer holds its slot: ignored), DISORDER one too high while it was
 * DISORDERED, and FIRST at its ticket while it was the oldest, both of which the next scan
 * corrects (meanwhile a wake wakes every sleeper, and a waiter woken alone scans).
 * Also covered so: a waiter whose deadline has just ended its sleep (out of the line, its record
 * still there: a younger one gives way to it, and its re-check looks at the queue before its
 * time), and two waiters whose first sleeps began at the same time, in the runtime's line in the
 * order they entered it rather than their tickets' (the younger one woken first gives way).
 * Blocking and async waiters on one side: no order between the two kinds is promised (an async
 * waiter is served when its thread's event loop turns, which a blocking call there holds back),
 * but neither waits on beside an item (room): a blocking waiter gives way only to older live
 * blocking ones, which the giving way woke or which re-check before they sleep, so the oldest
 * blocking waiter never gives way; an async waiter never gives way, and while one sleeps every
 * wake wakes every sleeper (test/queue/mixed-waiters). A waiter whose thread runs its duties'
 * user code inside its wait (an excepthook's owner: the hook runs at the start of a sleep once a
 * report came, shared/wait.ts setAsideWaits, its record marked QTURN_DUTIES meanwhile) is not
 * given way to while it runs: it competes once back, as a slow thread does (a hook that blocked
 * on something a younger waiter would bring after its get() held both before); a queue wait
 * inside the duties takes no ticket (one record a thread).
 */

/**
 * How many other live blocking waiters of `side` registered before `ticket` and run no duties
 * (file comment, "Turns"). Under the side's lock. Lowers DISORDER to the live DISORDERED records,
 * and raises FIRST to the oldest live ticket (TICKETS, read first, when there is none).
 */
function olderWaiting(h: Int32Array, side: Side, ticket: number): number {
  const lo = Atomics.load(h, QID_LO);
  const key = Atomics.load(h, QID_HI) * 256 + side.seq;
  const mine = lockOwner.slot;
  const firstAt = side.how.sleepers + 5;
  const first = Atomics.load(h, firstAt);
  // (read before the records: a ticket taken before this read was published before it)
  let oldest = (Atomics.load(h, side.tickets) - first) | 0;
  let older = 0;
  let disordered = 0;
  for (let slot = 0; slot < MAX_THREADS; slot++) {
    const at = QTURN + slot * QTURN_WORDS;
    const hi = Atomics.load(G, at + QTURN_KEY_HI);
    if ((hi & ~(QTURN_DISORDERED | QTURN_DUTIES)) !== key || Atomics.load(G, at + QTURN_KEY_LO) !== lo) continue;
    if (slot !== mine && !slotHolds(slot, Atomics.load(G, at + QTURN_IDENT))) continue;
    if ((hi & QTURN_DISORDERED) !== 0) disordered++;
    const t = Atomics.load(G, at + QTURN_TICKET);
    if (((t - first) | 0) < oldest) oldest = (t - first) | 0;
    // (not to a waiter running its duties: it competes once back, as a slow thread does)
    if (slot !== mine && (hi & QTURN_DUTIES) === 0 && ((t - ticket) | 0) < 0) older++;
  }
  const d = Atomics.load(h, side.disorder);
  if (disordered < d) Atomics.compareExchange(h, side.disorder, d, disordered);
  if (oldest > 0) Atomics.compareExchange(h, firstAt, first, (first + oldest) | 0);
  return older;
}

/**
 * Takes this thread's ticket in `side` and publishes its turn with it ("Turns"): the record first,
 * with the next ticket, then the ticket (a compare-exchange of TICKETS; the record follows each
 * retry), so that a scan which finds TICKETS past this ticket finds the record, and the record
 * never shows a ticket after the one taken. Outside the side's lock (after the spin). The record's
 * key is 0 before (every wait clears it at its end); it is stored last with an atomic store, so a
 * reader that loads it sees the words before it.
 */
export function takeTicket(h: Int32Array, side: Side): number {
  const at = QTURN + lockOwner.slot * QTURN_WORDS;
  let ticket = Atomics.load(h, side.tickets);
  G[at + QTURN_TICKET] = ticket;
  G[at + QTURN_IDENT] = lockOwner.ident;
  G[at + QTURN_KEY_LO] = h[QID_LO] as number;
  Atomics.store(G, at + QTURN_KEY_HI, (h[QID_HI] as number) * 256 + side.seq);
  for (;;) {
    const was = Atomics.compareExchange(h, side.tickets, ticket, (ticket + 1) | 0);
    if (was === ticket) return ticket;
    ticket = was;
    Atomics.store(G, at + QTURN_TICKET, ticket);
  }
}

/** Marks this thread's turn in `side` DISORDERED (counted in DISORDER). Under the side's lock. */
function markDisordered(h: Int32Array, side: Side): void {
  const at = QTURN + lockOwner.slot * QTURN_WORDS + QTURN_KEY_HI;
  Atomics.store(G, at, (h[QID_HI] as number) * 256 + side.seq + QTURN_DISORDERED);
}

/**
 * Ends this thread's turn of `ticket`: uncounts it from DISORDER (`disordered`), moves FIRST past
 * it when it was FIRST, then clears its record.
 */
export function endTurn(h: Int32Array, side: Side, disordered: boolean, ticket: number): void {
  if (disordered) Atomics.sub(h, side.disorder, 1);
  Atomics.compareExchange(h, side.how.sleepers + 5, ticket, (ticket + 1) | 0);
  Atomics.store(G, QTURN + lockOwner.slot * QTURN_WORDS + QTURN_KEY_HI, 0);
}

/** This thread runs its duties (inside a wait): its queue waits meanwhile take no ticket ("Turns"). */
let inDuties = 0;

/** Whether a blocking wait of this thread takes a turn ("Turns"): it has a slot and runs no duties. */
export function takesTurns(): boolean {
  return lockOwner.slot >= 0 && inDuties === 0;
}

// While this thread runs its duties' user code inside a blocking wait (shared/wait.ts
// setAsideWaits: an excepthook run at the start of a sleep), its record says so (QTURN_DUTIES): no younger waiter gives way to it
// meanwhile ("Turns"), and a queue wait of the duties takes no ticket (the thread has one record,
// the outer wait's).
guardDuties(() => {
  inDuties++;
  const at = QTURN + lockOwner.slot * QTURN_WORDS + QTURN_KEY_HI;
  const hi = lockOwner.slot >= 0 ? Atomics.load(G, at) : 0;
  if (hi !== 0) Atomics.store(G, at, hi | QTURN_DUTIES);
  return () => {
    if (hi !== 0) Atomics.store(G, at, hi);
    inDuties--;
  };
});

const noSpin = new Map<SleepHow, SleepHow>();

/** `how` without its spin (the waiter has spun already), made once per SleepHow. */
function afterSpin(how: SleepHow): SleepHow {
  let made = noSpin.get(how);
  if (made === undefined) noSpin.set(how, (made = { ...how, spinMs: 0 }));
  return made;
}

/** @internal Test hooks (this thread): `idleMs` replaces IDLE_CHECK_MS; `idle()` runs after each idle check. */
export const turnHooks: { idleMs?: number; idle?: () => void } = {};

/**
 * Where a blocking waiter's first sleep, run outside waitTurn() (fifo.ts RingEngine.get: "the
 * first sleep of a blocking get"), left off: back under the side's lock and unregistered, as
 * waitTurn() is at the end of its loop; waitTurn() given it goes on from the top of its loop.
 */
export interface TurnState {
  /** The wait's deadline (deadlineOf(ms)). */
  deadline: number;
  /** Its ticket, when it took one (`ticketed`). */
  ticket: number;
  ticketed: boolean;
  /** WAKES as read when the ticket was taken. */
  wakes: number;
  /** The sleep timed out for the idle check (done). */
  idle: boolean;
  /** Every sleeper was woken while it slept (WAKES moved). */
  allWoken: boolean;
}

/**
 * The one slow path of every put and get of both engines, blocking and async (shared/wait.ts
 * drives it; `isAsync` says which), run under `side`'s lock: once `admit()` is true, returns `then()` (which finds the
 * lock held: it stores or takes, and unlocks); unlocks and throws when it is an error (ShutDown), when the call may not wait (`block` false)
 * or its `ms` have passed. In between: register in `waiters`, read `seq`, re-check `admit()` (the
 * two-lock ring's waker reads `waiters` without the lock: fifo.ts), unlock, sleep while `seq` is
 * unchanged, lock, unregister. A woken waiter re-checks under the lock and goes on even if its
 * time has just run out (as CPython re-checks _qsize() first), so a wake-up is never wasted,
 * unless an older blocking waiter waits ("Turns" above): then it gives way. `resumed`: the wait's
 * first sleep ran outside (fifo.ts RingEngine.get, a copy of this first turn: keep the two alike);
 * it goes on from the top of the loop, under the lock, as after its own sleep (TurnState).
 */
export function* waitTurn<T>(
  h: Int32Array,
  side: Side,
  admit: () => boolean | Error,
  then: () => T,
  block: boolean,
  ms: number,
  what: string,
  isAsync = false,
  resumed?: TurnState,
): Steps<T> {
  let deadline = -1;
  // This wait's turn ("Turns"): a blocking waiter of a thread with a slot takes a ticket once.
  const turns = !isAsync && block && takesTurns();
  let ticket = 0;
  let ticketed = false;
  let disordered = false;
  // Back from a sleep; the sleep was cut short for the idle check; this waiter gave way; every
  // sleeper was woken while it slept (WAKES moved from `wakes`).
  let woken = false;
  let idle = false;
  let gaveWay = false;
  let allWoken = false;
  let wakes = 0;
  // The older waiters it gave way to (when gaveWay).
  let givenTo = 0;
  if (resumed !== undefined) {
    // (after a first sleep run outside: TurnState; a first sleep never disorders the line)
    ({ deadline, ticket, ticketed, wakes, idle, allWoken } = resumed);
    woken = true;
  }
  const wakesAt = side.how.sleepers + 4;
  const firstAt = side.how.sleepers + 5;
  for (;;) {
    let answer = admit();
    gaveWay = false;
    // (no live waiter holds a ticket before FIRST: at most `ahead` older ones, and with more items,
    // or room, than that, one is this waiter's whoever they are)
    const ahead = answer === true && woken && ticketed ? (ticket - Atomics.load(h, firstAt)) | 0 : 0;
    if (ahead > 0 && side.count(h) <= ahead) {
      // Older waiters may be out of the line: the items (the room) are theirs, as many as there are.
      givenTo = olderWaiting(h, side, ticket);
      if (givenTo > 0 && givenTo >= side.count(h)) {
        // They re-check (every sleeper woken), this one waits again.
        Atomics.add(h, side.seq, 1);
        wakeAll(h, side.seq, side.how.sleepers, side.wakerUnregisters === true ? side.waiters : -1);
        answer = false;
        gaveWay = true;
      }
    }
    if (answer === true) {
      if (ticketed) endTurn(h, side, disordered, ticket);
      return then();
    }
    if (answer === false) {
      if (!block) answer = new side.Refusal(`${what}: the queue is ${side.state}`);
      else {
        if (deadline < 0) deadline = deadlineOf(ms);
        if (expired(deadline))
          answer = new side.Refusal(`${what}: the queue is still ${side.state} after ${secondsText(ms)} s`);
      }
    }
    if (answer !== false) {
      if (ticketed) endTurn(h, side, disordered, ticket);
      side.unlock(h);
      throw answer;
    }
    if (ticketed && !disordered && woken) {
      if (idle || gaveWay || allWoken || Atomics.load(h, side.disorder) > 0) {
        // (counted before the sequence word is read: a waker that misses the count sees the bump)
        Atomics.add(h, side.disorder, 1);
        disordered = true;
        markDisordered(h, side);
      } else {
        // Back at the end of the line (it lost the item to a new call, or its sleep never began):
        // a new ticket before its next sleep, so that its old one holds no FIRST back.
        endTurn(h, side, false, ticket);
        ticketed = false;
      }
    }
    Atomics.add(h, side.waiters, 1);
    if (ticketed) wakes = Atomics.load(h, wakesAt);
    const seq = Atomics.load(h, side.seq);
    side.registered?.(h);
    // (after giving way, no re-check: the items, or the room, are the older waiters'; but one of
    // them that ended its wait with an exception out of its sleep may have made its bump before
    // this read of the sequence word: at the top again when one is gone)
    if (gaveWay ? olderWaiting(h, side, ticket) < givenTo : admit() === true) {
      side.unregistered?.(h, Atomics.sub(h, side.waiters, 1) - 1);
      // (a woken waiter looks for an older one first: at the top)
      if (woken && ticketed) continue;
      if (ticketed) endTurn(h, side, disordered, ticket);
      return then();
    }
    side.unlock(h);
    let r: unknown;
    const idleMs = turnHooks.idleMs ?? IDLE_CHECK_MS;
    let until = side.idleCheck === undefined ? deadline : Math.min(deadline, deadlineOf(idleMs));
    // (a thread with duties, an excepthook's owner: its slices end here, not inside the driver,
    // which would sleep again at the back of the line unknown to its turn)
    if (turns) until = Math.min(until, deadlineOf(sliceMs()));
    try {
      let how = side.how;
      if (turns && !ticketed) {
        // The ticket is taken by a waiter about to sleep for the first time, after the spin (done
        // here, not by the driver): a hand-off within the spin costs none. (Outside the lock:
        // takeTicket publishes the record before the ticket, and the scans that read it hold the lock.)
        const left = remaining(until);
        if (left === 0) r = "timed-out";
        else if (spinWhile(h, side.seq, seq, left, how.spinTries)) r = "not-equal";
        else {
          ticket = takeTicket(h, side);
          ticketed = true;
          // (a wake of every sleeper before this follows a bump of the sequence: no sleep then)
          wakes = Atomics.load(h, wakesAt);
          how = afterSpin(how);
        }
      }
      // (a Sleep yielded directly, not through park(): this is the path of every hand-off to a
      // waiter, and one generator per call is measurably cheaper than three)
      if (r === undefined) r = yield new Sleep(h, side.seq, seq, until, how);
      idle = r === "timed-out" && until !== deadline;
      if (idle) {
        side.idleCheck?.(h);
        turnHooks.idle?.();
      }
    } catch (e) {
      Atomics.sub(h, side.waiters, 1);
      if (ticketed) {
        endTurn(h, side, disordered, ticket);
        // (a younger waiter may have given way to this one: it looks again)
        if (Atomics.load(h, side.disorder) > 0) {
          Atomics.add(h, side.seq, 1);
          wakeAll(h, side.seq, side.how.sleepers, side.wakerUnregisters === true ? side.waiters : -1);
        }
      }
      throw e;
    }
    woken = true;
    allWoken = ticketed && Atomics.load(h, wakesAt) !== wakes;
    side.lock(h);
    // (a sleeper woken by a notify was unregistered by its waker when the side says so)
    const left =
      r === "ok" && side.wakerUnregisters === true
        ? Atomics.load(h, side.waiters)
        : Atomics.sub(h, side.waiters, 1) - 1;
    side.unregistered?.(h, left);
  }
}

/**
 * After bumping `h[seqIndex]` for one waiter: notifies when someone sleeps on it, one sleeper when
 * all are blocking, all of them while some are async (sleeperHow). The counts are read after the
 * bump and a sleeper counts itself before it compares the word, so one of the two sees the other.
 *
 * Wake-one claims the sleeper first: the count is lowered (compare-exchange) before the notify
 * and raised back only when the notify woke nobody (the counted sleeper was between its count and
 * its Atomics.wait, or back from one not yet uncounted). Lowering it after the notify, as wakeAll
 * does, left it high for as long as the waker was off the CPU after the notify (a wake often hands
 * the woken thread the waker's core): every put of the other producers then made a futex call that
 * woke nobody (2 producers -> 2 consumers on 2 cores: 0.04-0.22 such calls per put). The count is
 * so below the counted sleepers while a claim is out, and a waker that finds it at 0 then does not
 * notify; what it leaves is done by the claimant: a sleeper asleep before that waker's bump is
 * still asleep at the claimant's notify when that notify comes after the bump (it wakes one); a
 * notify that came before it woke nobody, and the claimant, which loaded the sequence word before
 * its notify, sees it moved once it has raised the count back, and notifies again (another claim).
 * A thread dies only at a call, return or loop edge: the claim, the notify and the raise are one
 * straight run, so a dead waker never leaves the count low. One that dies at the loop's edge, with
 * a claim given back and the sequence moved, leaves the wake it was to make again undone: that
 * sleeper wakes at its next IDLE_CHECK_MS look, as when a waker dies between its publish and its wake.
 */
export function wakeOne(h: Int32Array, seqIndex: number, sleepers: number, waiters = -1): void {
  for (;;) {
    const k = Atomics.load(h, sleepers);
    if (k <= 0) return;
    if (Atomics.load(h, sleepers + 1) > 0 || Atomics.load(h, sleepers + 2) > 0) {
      // (async sleepers, or sleepers out of their place ("Turns"): every sleeper, uncounted after
      // the notify, as wakeAll)
      Atomics.add(h, sleepers + 4, 1);
      const woken = Atomics.notify(h, seqIndex);
      if (woken > 0) {
        Atomics.sub(h, sleepers, woken);
        if (waiters >= 0) Atomics.sub(h, waiters, woken);
      }
      return;
    }
    if (Atomics.compareExchange(h, sleepers, k, k - 1) !== k) continue;
    const seq = Atomics.load(h, seqIndex);
    if (Atomics.notify(h, seqIndex, 1) > 0) {
      // (the woken sleeper, answered "ok", does not uncount itself: the claim was its uncount)
      if (waiters >= 0) Atomics.sub(h, waiters, 1);
      return;
    }
    Atomics.add(h, sleepers, 1);
    // (a waker that bumped since the load above may have found the count at 0 for this claim)
    if (Atomics.load(h, seqIndex) === seq) return;
  }
}

/**
 * Wakes every sleeper on `h[seqIndex]` and uncounts them from `h[sleepers]` (see sleeperHow), and
 * from `h[waiters]` when given (Side.wakerUnregisters); bumps the side's WAKES (`sleepers + 4`) first.
 */
export function wakeAll(h: Int32Array, seqIndex: number, sleepers: number, waiters = -1): void {
  // (WAKES first: a woken waiter that sleeps again knows it may be out of its place, "Turns")
  Atomics.add(h, sleepers + 4, 1);
  const woken = Atomics.notify(h, seqIndex);
  if (woken > 0) {
    Atomics.sub(h, sleepers, woken);
    if (waiters >= 0) Atomics.sub(h, waiters, woken);
  }
}

/** Python's task_done(): CAS UNFINISHED -> UNFINISHED-1 (RangeError at 0); at 0 notifies every joiner. */
export function taskDone(h: Int32Array): void {
  for (;;) {
    const u = Atomics.load(h, UNFINISHED);
    if (u <= 0) throw new RangeError("task_done() called too many times");
    if (Atomics.compareExchange(h, UNFINISHED, u, u - 1) === u) {
      if (u === 1) Atomics.notify(h, UNFINISHED);
      return;
    }
  }
}
