/**
 * The thread table's operations (layout in shared/runtime.ts). A slot's state moves
 *   FREE|ENDED --claim--> CLAIMING --(ident written)--> STARTING --(thread runs)--> RUNNING --> ENDED
 * and STARTING may go straight to ENDED when the worker dies before it runs. Exactly one party ends
 * a thread (a CAS to ENDED): the thread itself when run() is over, or the hub when the worker died;
 * that party also counts the thread out of the live non-daemon threads (by the daemon flag it read
 * before its CAS: the slot may be claimed again right after it) and wakes every joiner.
 *
 * Generations: every claim bumps the generation held in the state word's high bits, and every
 * transition is a CAS on the whole word. A party acting for thread `ident` reads the state word
 * first and the ident second: if the word is STARTING/RUNNING of generation g and the ident is
 * still `ident`, then g is that thread's generation (a later claim writes a new ident before it
 * publishes its own word, and idents are never reused), and its CAS on the word it read fails if
 * the slot was ended, or taken by a newer thread, in between. So a late markEnded() (the hub's,
 * after the thread already ended itself) can never end the newer thread that took the slot.
 *
 * A start that failed (markFailed: native id below 0) leaves its slot ENDED but not claimable until
 * its starter has seen the failure (takeFailure, in start()/startAsync()): otherwise a claim could
 * take the slot first, and the starter, finding another ident there, would take its thread for one
 * that ran and ended. A starter that dies before it looks leaves that one slot unclaimable (of
 * MAX_THREADS); the hub's death ends every start anyway.
 */
import { RuntimeError } from "../errors.js";
import {
  ALIVE_NON_DAEMON,
  HUB_DEAD,
  HUB_READY,
  SLOT_MAILBOX,
  CLAIMING,
  ENDED,
  FREE,
  G,
  MAX_THREADS,
  IDENTS_WRAPPED,
  MAX_IDENT,
  NEXT_IDENT,
  RUNNING,
  SLOT_DAEMON,
  SLOT_IDENT,
  SLOT_NATIVE_ID,
  SLOT_STATE,
  STARTING,
  nextGeneration,
  slotIndex,
  stateOf,
  withState,
  writeName,
} from "../shared/runtime.js";
import { clearAllDocks } from "./dock.js";

/**
 * @internal Test hooks (test/threads/table.test.ts): run between the reads of a table transition
 * and its CAS, and right after markEnded()'s CAS; claimFrom: the slot the next claim tries first.
 */
export const tableTestHooks: { beforeCas?: () => void; afterCas?: () => void; claimFrom?: number } = {};

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
    if (s !== FREE && s !== ENDED) return true;
  }
  return false;
}

/** Claims a slot for a new thread and returns [slot, ident]; the slot is STARTING when this returns. */
export function claimSlot(name: string, daemon: boolean): [number, number] {
  const from = tableTestHooks.claimFrom ?? hint;
  for (let n = 0; n < MAX_THREADS - 1; n++) {
    const slot = 1 + ((from + n - 1) % (MAX_THREADS - 1));
    const i = slotIndex(slot, SLOT_STATE);
    const w = Atomics.load(G, i);
    const s = stateOf(w);
    const claimed = nextGeneration(w, CLAIMING);
    // (An ENDED word is final for its generation, so a failure's native id, stored before that
    // word, is seen here; the CAS below fails if the word changed since.)
    const unseenFailure = s === ENDED && Atomics.load(G, slotIndex(slot, SLOT_NATIVE_ID)) < 0;
    if ((s === FREE || (s === ENDED && !unseenFailure)) && Atomics.compareExchange(G, i, w, claimed) === w) {
      hint = slot + 1;
      const ident = nextIdent();
      Atomics.store(G, slotIndex(slot, SLOT_IDENT), ident);
      Atomics.store(G, slotIndex(slot, SLOT_NATIVE_ID), 0);
      Atomics.store(G, slotIndex(slot, SLOT_DAEMON), daemon ? 1 : 0);
      writeName(G, slot, name);
      if (!daemon) Atomics.add(G, ALIVE_NON_DAEMON, 1);
      Atomics.store(G, i, withState(claimed, STARTING));
      return [slot, ident];
    }
  }
  throw new RuntimeError(`can't start new thread: ${MAX_THREADS} threads exist`);
}

/** Ends the thread `ident` in `slot` unless someone already did; returns whether this call did it. */
export function markEnded(slot: number, ident: number): boolean {
  const i = slotIndex(slot, SLOT_STATE);
  let daemon: number;
  for (;;) {
    const w = Atomics.load(G, i);
    const s = stateOf(w);
    if (s !== STARTING && s !== RUNNING) return false;
    if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return false;
    // Read before the CAS, which validates it: once the slot is ENDED a new thread may claim it
    // and write its own daemon flag, and the count would lose (or gain) this thread for good.
    daemon = Atomics.load(G, slotIndex(slot, SLOT_DAEMON));
    tableTestHooks.beforeCas?.();
    if (Atomics.compareExchange(G, i, w, withState(w, ENDED)) === w) break;
  }
  tableTestHooks.afterCas?.();
  Atomics.notify(G, i);
  if (daemon === 0) {
    Atomics.sub(G, ALIVE_NON_DAEMON, 1);
    Atomics.notify(G, ALIVE_NON_DAEMON);
  }
  return true;
}

/**
 * Publishes that the thread in `slot` runs (start() returns once it sees this); false if the
 * thread is no longer starting (its start was failed meanwhile: it must not run).
 */
export function markRunning(slot: number, ident: number, nativeId: number): boolean {
  const i = slotIndex(slot, SLOT_STATE);
  const w = Atomics.load(G, i);
  if (stateOf(w) !== STARTING || Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return false;
  Atomics.store(G, slotIndex(slot, SLOT_NATIVE_ID), nativeId);
  const ran = Atomics.compareExchange(G, i, w, withState(w, RUNNING)) === w;
  Atomics.notify(G, i);
  return ran;
}

/** The native id of a thread that never started (markFailed). */
export const START_FAILED = -1;
/**
 * The native id of a thread handed straight to an idle worker (dock.ts) that exited before it ran a
 * line: nothing of the start was transferred, so its start() starts it again through the hub.
 */
export const START_LOST = -2;

/** Ends a thread whose worker could not even start; its start() then throws (native id `code`, below 0). */
export function markFailed(slot: number, ident: number, code: number = START_FAILED): void {
  if (stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE))) !== STARTING) return;
  if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return;
  Atomics.store(G, slotIndex(slot, SLOT_NATIVE_ID), code);
  markEnded(slot, ident);
}

/**
 * True when the start of thread `ident` in `slot` failed (see markFailed) and its starter has not
 * taken the failure yet (takeFailure; the Thread is unstarted again from then on).
 */
export function startFailed(slot: number, ident: number): boolean {
  return Atomics.load(G, slotIndex(slot, SLOT_IDENT)) === ident && Atomics.load(G, slotIndex(slot, SLOT_NATIVE_ID)) < 0;
}

/**
 * In the starter of thread `ident`, after its wait: the failure code of its start (START_FAILED or
 * START_LOST), and the slot is claimable again from now on; 0 if its start did not fail.
 */
export function takeFailure(slot: number, ident: number): number {
  if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return 0;
  const code = Atomics.load(G, slotIndex(slot, SLOT_NATIVE_ID));
  if (code >= 0) return 0;
  Atomics.store(G, slotIndex(slot, SLOT_NATIVE_ID), 0);
  return code;
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
      if (s === STARTING) markFailed(slot, ident);
      markEnded(slot, ident);
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
