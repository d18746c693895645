/**
 * The thread table's operations (layout in shared/runtime.ts). A slot's state word moves
 *   FREE|ENDED --claim--> CLAIMING --(ident written)--> STARTING --(thread runs)--> RUNNING --> ENDED
 * and STARTING may go straight to ENDED when the worker dies before it runs. Exactly one party ends
 * a thread (a CAS to ENDED): the thread itself when run() is over, or the hub when the worker died;
 * that party also counts the thread out of the live non-daemon threads and wakes every joiner.
 */
import { RuntimeError } from "../errors.js";
import {
  ALIVE_NON_DAEMON,
  CLAIMING,
  ENDED,
  FREE,
  G,
  MAX_THREADS,
  NEXT_IDENT,
  RUNNING,
  SLOT_DAEMON,
  SLOT_IDENT,
  SLOT_NATIVE_ID,
  SLOT_STATE,
  STARTING,
  slotIndex,
  writeName,
} from "../shared/runtime.js";

let hint = 1;

/** Claims a slot for a new thread and returns [slot, ident]; the slot is STARTING when this returns. */
export function claimSlot(name: string, daemon: boolean): [number, number] {
  for (let n = 0; n < MAX_THREADS - 1; n++) {
    const slot = 1 + ((hint + n - 1) % (MAX_THREADS - 1));
    const i = slotIndex(slot, SLOT_STATE);
    const s = Atomics.load(G, i);
    if ((s === FREE || s === ENDED) && Atomics.compareExchange(G, i, s, CLAIMING) === s) {
      hint = slot + 1;
      const ident = Atomics.add(G, NEXT_IDENT, 1);
      Atomics.store(G, slotIndex(slot, SLOT_IDENT), ident);
      Atomics.store(G, slotIndex(slot, SLOT_NATIVE_ID), 0);
      Atomics.store(G, slotIndex(slot, SLOT_DAEMON), daemon ? 1 : 0);
      writeName(G, slot, name);
      if (!daemon) Atomics.add(G, ALIVE_NON_DAEMON, 1);
      Atomics.store(G, i, STARTING);
      return [slot, ident];
    }
  }
  throw new RuntimeError(`can't start new thread: ${MAX_THREADS} threads exist`);
}

/** Ends the thread `ident` in `slot` unless someone already did; returns whether this call did it. */
export function markEnded(slot: number, ident: number): boolean {
  const i = slotIndex(slot, SLOT_STATE);
  for (;;) {
    if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return false;
    const s = Atomics.load(G, i);
    if (s !== STARTING && s !== RUNNING) return false;
    if (Atomics.compareExchange(G, i, s, ENDED) === s) break;
  }
  Atomics.notify(G, i);
  if (Atomics.load(G, slotIndex(slot, SLOT_DAEMON)) === 0) {
    Atomics.sub(G, ALIVE_NON_DAEMON, 1);
    Atomics.notify(G, ALIVE_NON_DAEMON);
  }
  return true;
}

/** Publishes that the thread in `slot` runs (start() returns once it sees this). */
export function markRunning(slot: number, ident: number, nativeId: number): void {
  Atomics.store(G, slotIndex(slot, SLOT_NATIVE_ID), nativeId);
  const i = slotIndex(slot, SLOT_STATE);
  if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) === ident) Atomics.compareExchange(G, i, STARTING, RUNNING);
  Atomics.notify(G, i);
}

/** [slot, ident] of every thread that is starting or running, in slot order (main first). */
export function liveThreads(): [number, number][] {
  const out: [number, number][] = [];
  for (let slot = 0; slot < MAX_THREADS; slot++) {
    const s = Atomics.load(G, slotIndex(slot, SLOT_STATE));
    if (s !== STARTING && s !== RUNNING) continue;
    const ident = Atomics.load(G, slotIndex(slot, SLOT_IDENT));
    if (Atomics.load(G, slotIndex(slot, SLOT_STATE)) === s) out.push([slot, ident]);
  }
  return out;
}

/** Ends a thread whose worker could not even start; its start() then throws (native id -1). */
export function markFailed(slot: number, ident: number): void {
  if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return;
  Atomics.store(G, slotIndex(slot, SLOT_NATIVE_ID), -1);
  markEnded(slot, ident);
}

/** True when the thread `ident` in `slot` never started (see markFailed). */
export function startFailed(slot: number, ident: number): boolean {
  return (
    Atomics.load(G, slotIndex(slot, SLOT_IDENT)) === ident && Atomics.load(G, slotIndex(slot, SLOT_NATIVE_ID)) === -1
  );
}
