/**
 * The thread table's operations (layout in shared/runtime.ts). A slot's state moves
 *   FREE|ENDED --claim--> CLAIMING --(ident written)--> STARTING --markRunning--> RUNNING --> ENDED
 *                            |                             |
 *                            +--recoverSlots--> ENDED      +--markFailed--> FAILED|LOST --takeFailure--> ENDED
 *                                                                               +--recoverSlots--> ENDED
 * (a worker that dies before its thread runs: the hub gives the start to another worker, or fails
 * it, FAILED, when it cannot run elsewhere: its transferList went with the worker, or the worker was
 * its own; in a dock, LOST) and STARTING may also go straight to ENDED when the thread
 * that was starting it died inside start() before it handed the start over (SLOT_STARTER: the hub
 * ends such an orphaned start, endOrphanedStarts(), as it hears a worker exit). Every transition
 * is one CAS on the whole state word. From STARTING exactly one of {RUNNING, FAILED|LOST, ENDED}
 * wins: the worker's markRunning() and a failing party's markFailed() (the hub giving up on a start,
 * a starter whose hub never came up, the hub's death) each CAS from the STARTING word they read, so
 * the loser's CAS fails and it knows: a worker that loses does not run the thread (it goes back to
 * its dock or to the hub), a failer that loses reports nothing. Neither writes anything a winner
 * wrote: a failure is its state (FAILED or LOST), not a native id; the worker's native id replaces
 * the slot's unset value of that generation only (unsetNativeId, a CAS before its state CAS, so
 * whoever sees RUNNING sees the native id), so a worker that lost, however late, never writes into
 * a slot claimed again since.
 *
 * A slot whose thread died releasing a queue lock keeps its release record set (shared/runtime.ts
 * QREL) and is not claimed until a waiter on that lock has claimed the record (queue/fifo.ts).
 *
 * A claim: the claimer names itself in SLOT_CLAIMER (a CAS from 0, from a starter's -ident, or
 * from a claimer that no longer holds), then CASes FREE|ENDED -> CLAIMING (on failure it puts
 * back what SLOT_CLAIMER named), writes the slot (ident, name: its first NAME_MAX units and its
 * full length, daemon, SLOT_STARTER), counts a non-daemon thread in ALIVE_NON_DAEMON, CASes CLAIMING -> STARTING, and leaves -ident in
 * SLOT_CLAIMER: a CLAIMING slot always names its live claimer, a FAILED|LOST one its starter.
 *
 * Exactly one party ends a thread (its CAS to ENDED, FAILED or LOST): the thread itself when run()
 * is over on a worker that lives on, the hub when the worker died or exited after it, or a failer; that party also counts the thread out of the
 * live non-daemon threads (by the daemon flag it read before its CAS: the slot may be claimed again
 * right after it) and wakes every joiner and the starter (start()/startAsync() wait on the word).
 * ALIVE_NON_DAEMON is never below the number of live threads that keep the process alive (each is
 * counted before it is published and counted out after its end), and is above it for good only
 * when a thread was killed between the two steps: the exit wait goes by the table once the count
 * is above 0 (keepsProcess), seeing a consistent table through THREAD_EPOCH, bumped before every
 * claim and every end.
 *
 * Generations: every claim bumps the generation held in the state word's high bits. A party acting
 * for thread `ident` reads the state word first and the ident second: if the word is
 * STARTING/RUNNING of generation g and the ident is still `ident`, then g is that thread's
 * generation (a later claim writes a new ident before it publishes its own word, and idents are
 * never reused), and its CAS on the word it read fails if the slot was ended, or taken by a newer
 * thread, in between. So a late markEnded() (the hub's, after the thread already ended itself) can
 * never end the newer thread that took the slot.
 *
 * A start that failed leaves its slot FAILED (or LOST) and not claimable until its starter has seen
 * the failure (takeFailure, in start()/startAsync(): FAILED|LOST -> ENDED): otherwise a claim could
 * take the slot first, and the starter, finding another ident there, would take its thread for one
 * that ran and ended. A starter that dies before it looks (SLOT_CLAIMER names it) has the slot
 * given back by recoverSlots(), run by the hub when a worker exits; the hub's death ends every
 * start anyway.
 *
 * What a starter killed inside start() leaves (its worker terminated, out of memory):
 *  - inside claimSlot(), named in SLOT_CLAIMER before its CAS to CLAIMING: nothing (the next claim
 *    of that slot takes the name over);
 *  - inside claimSlot(), the slot CLAIMING: recoverSlots() gives it back (ENDED; the thread never
 *    existed) once the hub has heard the claimer's worker exit, or a claim finds no slot free, or
 *    the exit wait runs; ALIVE_NON_DAEMON may stay one high (counted, never published), which
 *    the exit wait sees through (keepsProcess);
 *  - between STARTING and handing the start over: SLOT_STARTER still names it, and the hub, when
 *    it hears the starter's worker exit, ends the thread (STARTING -> ENDED, never run): its
 *    joiners wake, it leaves enumerate() and dumpThreads(), it no longer counts as alive;
 *  - after handing it over, before clearing SLOT_STARTER: a start sent to the hub is the hub's
 *    (it clears SLOT_STARTER as it takes the request, before it looks for orphans: the thread
 *    runs); one written into a dock runs or is ended, whichever of its worker's markRunning()
 *    and the hub's end comes first;
 *  - after the start failed, before takeFailure(): recoverSlots() gives the FAILED|LOST slot back.
 * A party killed inside end() between its CAS and counting the thread out leaves the count one
 * high, which the exit wait sees through likewise.
 */
import { RuntimeError } from "../errors.js";
import {
  ALIVE_NON_DAEMON,
  identHolds,
  lockOwner,
  SLOT_STARTER,
  SLOT_CLAIMER,
  THREAD_EPOCH,
  DAEMON_HELD,
  keepsProcessWord,
  HUB_DEAD,
  HUB_READY,
  SLOT_MAILBOX,
  CLAIMING,
  ENDED,
  FAILED,
  FREE,
  LOST,
  G,
  MAX_THREADS,
  IDENTS_WRAPPED,
  MAX_IDENT,
  NEXT_IDENT,
  RUNNING,
  SLOT_DAEMON,
  DAEMON_POOL,
  SLOT_DEATH,
  DEATH_NONE,
  SLOT_IDENT,
  SLOT_LINGER,
  SLOT_NATIVE_ID,
  SLOT_STATE,
  STARTING,
  nextGeneration,
  slotIndex,
  unsetNativeId,
  stateOf,
  withState,
  writeName,
  QREL_OWNER,
  releaseRecord,
} from "../shared/runtime.js";
import { clearAllDocks } from "./dock.js";

/**
 * @internal Test hooks (test/threads/table.test.ts): run between the reads of a table transition
 * (markEnded, markFailed, markRunning) and its CAS, and right after the CAS that ended a thread;
 * claimFrom: the slot the next claim tries first.
 */
export const tableTestHooks: {
  beforeCas?: () => void;
  afterCas?: () => void;
  claimFrom?: number;
  claiming?: (point: "claimed" | "counted") => void;
} = {};

let hint = 1;

/**
 * Hands out the next thread ident: 2, 3, ... up to MAX_IDENT, then from 2 again (G[NEXT_IDENT]
 * carries IDENTS_WRAPPED from then on), skipping an ident that a thread in the table still has
 * (a scan of the table, done only after the first wrap: 2^30 starts).
 */
function nextIdent(): number {
  for (;;) {
    const word = Atomics.load(G, NEXT_IDENT);
    const ident = word & MAX_IDENT;
    const wrapped = (word & IDENTS_WRAPPED) !== 0 || ident >= MAX_IDENT;
    const next = (ident >= MAX_IDENT ? 2 : ident + 1) | (wrapped ? IDENTS_WRAPPED : 0);
    if (Atomics.compareExchange(G, NEXT_IDENT, word, next) !== word) continue;
    if ((word & IDENTS_WRAPPED) === 0 || !identInUse(ident)) return ident;
  }
}

/** True when a thread of the table that has not ended has `ident` (or the main thread's 1). */
function identInUse(ident: number): boolean {
  if (ident === 1) return true;
  for (let slot = 1; slot < MAX_THREADS; slot++) {
    if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) continue;
    const s = stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE)));
    if ((s !== FREE && s !== ENDED) || Atomics.load(G, slotIndex(slot, SLOT_LINGER)) === ident) return true;
  }
  return false;
}

/**
 * Claims a slot for a new thread and returns [slot, ident]; the slot is STARTING when this returns.
 * `joinedAtExit` (a pool thread, futures/executor.ts): not daemon (SLOT_DAEMON = DAEMON_POOL reads
 * as false, as CPython's executor threads are not daemon since 3.9), yet not counted among the
 * live non-daemon threads the exit waits for: its executor finishes its tasks at exit and then
 * lets it go, as CPython's exit hook does for an idle pool. With no slot free, gives back the slots
 * that dead starters left (recoverSlots) and looks once more.
 */
export function claimSlot(name: string, daemon: boolean, joinedAtExit = false): [number, number] {
  const from = tableTestHooks.claimFrom ?? hint;
  for (let round = 0; round < 2; round++) {
    for (let n = 0; n < MAX_THREADS - 1; n++) {
      const slot = 1 + ((from + n - 1) % (MAX_THREADS - 1));
      const ident = tryClaim(slot, name, daemon, joinedAtExit);
      if (ident !== 0) return [slot, ident];
    }
    if (recoverSlots() === 0) break;
  }
  throw new RuntimeError(`can't start new thread: ${MAX_THREADS} threads exist`);
}

/** Claims `slot` if it is free (see the file comment): the new thread's ident, else 0. */
function tryClaim(slot: number, name: string, daemon: boolean, joinedAtExit: boolean): number {
  const i = slotIndex(slot, SLOT_STATE);
  const w = Atomics.load(G, i);
  const s = stateOf(w);
  // (A FAILED or LOST slot waits for its starter to take the failure: takeFailure; a slot whose
  // ended thread's worker still runs what it left, for SLOT_LINGER to clear; one whose thread died
  // releasing a queue lock, for a waiter on that lock to claim its release record: QREL.)
  if (
    (s !== FREE && s !== ENDED) ||
    Atomics.load(G, slotIndex(slot, SLOT_LINGER)) !== 0 ||
    Atomics.load(G, releaseRecord(slot) + QREL_OWNER) !== 0
  )
    return 0;
  // The claimer first names itself in the slot (SLOT_CLAIMER), over none, a starter (below 0), or
  // a claimer that died between this CAS and the next (whose slot then stayed FREE or ENDED).
  const me = lockOwner.ident;
  const c = slotIndex(slot, SLOT_CLAIMER);
  const before = Atomics.load(G, c);
  if (before > 0 && identHolds(before)) return 0;
  if (Atomics.compareExchange(G, c, before, me) !== before) return 0;
  Atomics.add(G, THREAD_EPOCH, 1);
  const claimed = nextGeneration(w, CLAIMING);
  if (Atomics.compareExchange(G, i, w, claimed) !== w) {
    // (back to what it named: a claimer killed in a CLAIMING slot stays named for recoverSlots)
    Atomics.compareExchange(G, c, me, before);
    return 0;
  }
  hint = slot + 1;
  tableTestHooks.claiming?.("claimed");
  const ident = nextIdent();
  Atomics.store(G, slotIndex(slot, SLOT_IDENT), ident);
  Atomics.store(G, slotIndex(slot, SLOT_NATIVE_ID), unsetNativeId(claimed));
  Atomics.store(G, slotIndex(slot, SLOT_DAEMON), daemon ? 1 : joinedAtExit ? DAEMON_POOL : 0);
  Atomics.store(G, slotIndex(slot, SLOT_DEATH), DEATH_NONE);
  writeName(G, slot, name);
  Atomics.store(G, slotIndex(slot, SLOT_STARTER), me);
  // (counted before STARTING: a claimer killed in between leaves the count one high, never low)
  if (!daemon && !joinedAtExit) Atomics.add(G, ALIVE_NON_DAEMON, 1);
  tableTestHooks.claiming?.("counted");
  if (Atomics.compareExchange(G, i, claimed, withState(claimed, STARTING)) !== claimed) {
    // Given back meanwhile (recoverSlots took this claimer for dead): not this thread's slot.
    if (!daemon && !joinedAtExit) Atomics.sub(G, ALIVE_NON_DAEMON, 1);
    return 0;
  }
  Atomics.store(G, c, -me);
  return ident;
}

/**
 * Gives back the slots that dead starters left unclaimable (ENDED, their thread never ran): a
 * CLAIMING slot whose claimer no longer holds (identHolds: killed inside claimSlot(); it may have
 * counted its thread among the live non-daemon ones, which keepsProcess() sees through), and a
 * FAILED or LOST slot whose starter no longer holds (killed before it took the failure). One CAS
 * from the word read, so a claim or takeFailure that is still under way wins. Called by the hub
 * when a worker has exited, by claimSlot() when no slot is free, and by the exit wait. Returns how
 * many it gave back.
 */
export function recoverSlots(): number {
  let n = 0;
  for (let slot = 1; slot < MAX_THREADS; slot++) {
    const i = slotIndex(slot, SLOT_STATE);
    const w = Atomics.load(G, i);
    const s = stateOf(w);
    if (s !== CLAIMING && s !== FAILED && s !== LOST) continue;
    const c = slotIndex(slot, SLOT_CLAIMER);
    const named = Atomics.load(G, c);
    const who = Math.abs(named);
    if (who === 0 || identHolds(who)) continue;
    if (Atomics.compareExchange(G, i, w, withState(w, ENDED)) !== w) continue;
    Atomics.compareExchange(G, c, named, 0);
    Atomics.notify(G, i);
    n++;
  }
  return n;
}

/**
 * True while a thread that keeps the process alive may still run (the exit wait, threads/lifetime.ts,
 * while ALIVE_NON_DAEMON is above 0): a non-daemon thread starting or running, one that holds the
 * process for its executors (DAEMON_HELD), or a slot being claimed by a live claimer (its thread
 * may be one). A scan that a claim or an end crossed (THREAD_EPOCH moved) is done again, three
 * times at most: then it says true (threads start and end faster than a scan; the exit wait looks
 * again after its next wait).
 */
export function keepsProcess(): boolean {
  for (let scans = 0; scans < 3; scans++) {
    const epoch = Atomics.load(G, THREAD_EPOCH);
    let keeps = false;
    for (let slot = 1; slot < MAX_THREADS && !keeps; slot++) {
      const s = stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE)));
      if (s === STARTING || s === RUNNING) keeps = keepsProcessWord(Atomics.load(G, slotIndex(slot, SLOT_DAEMON)));
      else if (s === CLAIMING) {
        const claimer = Atomics.load(G, slotIndex(slot, SLOT_CLAIMER));
        keeps = claimer > 0 && identHolds(claimer);
      }
    }
    if (keeps || Atomics.load(G, THREAD_EPOCH) === epoch) return keeps;
  }
  return true;
}

/**
 * In a thread that ends with executors whose tasks its worker's exit finishes (futures/executor.ts):
 * a daemon thread, or a pool thread, is counted among the live non-daemon threads and marked so
 * (DAEMON_HELD) until the hub, having seen its worker exit, ends it (a non-daemon thread is counted
 * already). Its thread stays RUNNING until then (its worker is not reused: threads/worker.ts finish).
 */
export function holdProcess(slot: number): void {
  if (slot <= 0) return;
  const d = slotIndex(slot, SLOT_DAEMON);
  const word = Atomics.load(G, d);
  if (keepsProcessWord(word)) return;
  // (counted first, then marked: a thread killed in between leaves the count high, never low)
  Atomics.add(G, ALIVE_NON_DAEMON, 1);
  Atomics.add(G, THREAD_EPOCH, 1);
  Atomics.or(G, d, DAEMON_HELD);
}

/** Ends the thread `ident` in `slot` unless someone already did; returns whether this call did it. */
export function markEnded(slot: number, ident: number): boolean {
  return end(slot, ident, ENDED);
}

/**
 * The start of thread `ident` in `slot` has been handed over (to a dock, or to the hub): its
 * starter no longer holds it (SLOT_STARTER = 0, if it still names `starter`, this code's lockOwner
 * by default: the hub passes the value it read).
 */
export function handedOver(slot: number, ident: number, starter: number = lockOwner.ident): void {
  if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return;
  Atomics.compareExchange(G, slotIndex(slot, SLOT_STARTER), starter, 0);
}

/** The hub has the start request of thread `ident` in `slot`: it is no longer its starter's to hand over. */
export function takenByHub(slot: number, ident: number): void {
  const starter = Atomics.load(G, slotIndex(slot, SLOT_STARTER));
  if (starter !== 0) handedOver(slot, ident, starter);
}

/**
 * Ends every thread still STARTING whose starter died inside start() before it handed the start
 * over (SLOT_STARTER names a thread that no longer holds: identHolds()): STARTING -> ENDED, one
 * CAS against the worker's markRunning(), so the thread never runs if this wins. Called by the hub
 * when a worker has exited (and it has served what that worker posted). Returns how many it ended.
 */
export function endOrphanedStarts(): number {
  let n = 0;
  for (let slot = 1; slot < MAX_THREADS; slot++) {
    const i = slotIndex(slot, SLOT_STATE);
    if (stateOf(Atomics.load(G, i)) !== STARTING) continue;
    const starter = Atomics.load(G, slotIndex(slot, SLOT_STARTER));
    if (starter === 0 || identHolds(starter)) continue;
    const ident = Atomics.load(G, slotIndex(slot, SLOT_IDENT));
    if (Atomics.load(G, slotIndex(slot, SLOT_STARTER)) !== starter) continue;
    if (end(slot, ident, ENDED, true)) n++;
  }
  return n;
}

/**
 * Moves the thread `ident` in `slot` from STARTING (or RUNNING, for ENDED, unless `startingOnly`)
 * to `to` with one CAS,
 * then counts it out of the live non-daemon threads and wakes its joiners and its starter; false
 * (nothing done) if it is not in such a state any more, or the slot is another thread's.
 */
function end(slot: number, ident: number, to: number, startingOnly = false): boolean {
  const i = slotIndex(slot, SLOT_STATE);
  let daemon: number;
  // (before the CAS: a scan of the table that sees the thread ended sees the epoch moved: keepsProcess)
  Atomics.add(G, THREAD_EPOCH, 1);
  for (;;) {
    const w = Atomics.load(G, i);
    const s = stateOf(w);
    if (s !== STARTING && (s !== RUNNING || to !== ENDED || startingOnly)) return false;
    if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return false;
    // Read before the CAS, which validates it: once the slot is ENDED a new thread may claim it
    // and write its own daemon flag, and the count would lose (or gain) this thread for good.
    daemon = Atomics.load(G, slotIndex(slot, SLOT_DAEMON));
    tableTestHooks.beforeCas?.();
    if (Atomics.compareExchange(G, i, w, withState(w, to)) === w) break;
  }
  tableTestHooks.afterCas?.();
  Atomics.notify(G, i);
  if (keepsProcessWord(daemon)) {
    Atomics.sub(G, ALIVE_NON_DAEMON, 1);
    Atomics.notify(G, ALIVE_NON_DAEMON);
  }
  return true;
}

/**
 * In the thread's worker, before it runs anything of the thread: publishes that the thread in `slot`
 * runs, with its native id (start() returns once it sees RUNNING). False if the thread is no longer
 * starting (its start was failed first, or its slot is another thread's): it must not run, and
 * nothing was written.
 */
export function markRunning(slot: number, ident: number, nativeId: number): boolean {
  const i = slotIndex(slot, SLOT_STATE);
  const w = Atomics.load(G, i);
  if (stateOf(w) !== STARTING || Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return false;
  tableTestHooks.beforeCas?.();
  // Only while the native id is unset for this generation (a worker that lost, however late, never
  // writes into a newer thread's slot); before the CAS, so whoever sees RUNNING sees it.
  const unset = unsetNativeId(w);
  const native = slotIndex(slot, SLOT_NATIVE_ID);
  if (Atomics.compareExchange(G, native, unset, nativeId) !== unset) return false;
  if (Atomics.compareExchange(G, i, w, withState(w, RUNNING)) !== w) {
    // Lost (failed or ended first): the slot gets its unset value back (unless it holds another's already).
    Atomics.compareExchange(G, native, nativeId, unset);
    return false;
  }
  Atomics.notify(G, i);
  return true;
}

/** The failure code of a start that failed (markFailed; its state FAILED). */
export const START_FAILED = -1;
/**
 * The failure code of a thread handed straight to an idle worker (dock.ts) that exited before it
 * ran a line (its state LOST): nothing of the start was transferred, so its start() starts it again
 * through the hub.
 */
export const START_LOST = -2;

/**
 * Fails the start of thread `ident`, which no worker will run (`code` START_FAILED, or START_LOST):
 * STARTING -> FAILED (LOST), one CAS, so that exactly one of this and the worker's markRunning()
 * wins. True if this call failed it; false if the thread runs (or ended, or failed) already: the
 * caller then reports no failure. Its start() throws (or, for START_LOST, starts it again).
 */
export function markFailed(slot: number, ident: number, code: number = START_FAILED): boolean {
  return end(slot, ident, code === START_LOST ? LOST : FAILED);
}

/**
 * True when the start of thread `ident` in `slot` failed (see markFailed) and its starter has not
 * taken the failure yet (takeFailure; the Thread is unstarted again from then on).
 */
export function startFailed(slot: number, ident: number): boolean {
  const s = stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE)));
  return (s === FAILED || s === LOST) && Atomics.load(G, slotIndex(slot, SLOT_IDENT)) === ident;
}

/**
 * In the starter of thread `ident`, after its wait: the failure code of its start (START_FAILED or
 * START_LOST), and the slot is claimable again from now on (FAILED|LOST -> ENDED); 0 if its start
 * did not fail.
 */
export function takeFailure(slot: number, ident: number): number {
  const i = slotIndex(slot, SLOT_STATE);
  const w = Atomics.load(G, i);
  const s = stateOf(w);
  if (s !== FAILED && s !== LOST) return 0;
  // The ident after the word: a FAILED word is final until this call, so it is `ident`'s if the
  // ident still is (a claim writes its ident only after the slot left FAILED).
  if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return 0;
  if (Atomics.compareExchange(G, i, w, withState(w, ENDED)) !== w) return 0;
  return s === LOST ? START_LOST : START_FAILED;
}

/**
 * The hub has died, and every thread's Worker with it (they are its children): publishes HUB_DEAD,
 * ends every thread but main in the table (so joiners wake and the live non-daemon count is right
 * for the exit wait), and wakes every thread sleeping on its mailbox (a queue transfer waiting for
 * a buffer), which then raises a RuntimeError. Called by the hub as it dies and by the main thread
 * when it sees the hub's exit; the second call does nothing.
 */
export function markHubDead(): void {
  if (Atomics.exchange(G, HUB_READY, HUB_DEAD) === HUB_DEAD) return;
  Atomics.notify(G, HUB_READY);
  clearAllDocks();
  for (let slot = 1; slot < MAX_THREADS; slot++) {
    const s = stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE)));
    if (s === STARTING || s === RUNNING) {
      const ident = Atomics.load(G, slotIndex(slot, SLOT_IDENT));
      // A STARTING thread's worker may mark it RUNNING first: then it is ended.
      if (s !== STARTING || !markFailed(slot, ident)) markEnded(slot, ident);
    }
    const mailbox = slotIndex(slot, SLOT_MAILBOX);
    Atomics.add(G, mailbox, 1);
    Atomics.notify(G, mailbox);
  }
}

/** True once the hub has died (see markHubDead). */
export function hubDead(): boolean {
  return Atomics.load(G, HUB_READY) === HUB_DEAD;
}
