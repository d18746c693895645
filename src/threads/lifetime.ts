/**
 * The process lives while the main thread or any non-daemon thread does (Python's rule).
 *
 * Node ends the process when the main thread's event loop is empty, on process.exit(), or on an
 * uncaught exception, and then kills every Worker. In each case it first emits "exit" on the main
 * thread, synchronously; there the main thread waits (Atomics.wait on the live non-daemon count in
 * the global block, which every ending thread decrements and notifies) until no non-daemon thread
 * is left, running its blocking duties (e.g. an excepthook it owns) meanwhile. Daemon threads are
 * then killed with the process. The count is never below the number of such threads, but may stay
 * above it for good (a thread killed between counting a thread it started and publishing it, or
 * between ending a thread and counting it out): while it is above 0 the wait goes by the thread
 * table (table.ts keepsProcess: a non-daemon thread starting or running, or a slot being claimed
 * by a live claimer), giving back what dead starters left (recoverSlots). Once the hub has died,
 * every thread's Worker has died with it (they are its children): the wait ends. (Deno emits no
 * "exit" after an uncaught error in main: shared/at-exit.ts runs this from its monitor there.)
 * Before that wait the main thread stops, as in CPython: mainThread().isAlive() is false from then
 * on, and a thread blocked in mainThread().join() returns (it would otherwise wait for main while
 * main waits for it).
 */
import { onProcessExit } from "../shared/at-exit.js";
import { ALIVE_NON_DAEMON, G, HUB_DEAD, HUB_READY, isRoot, MAIN_STOPPED } from "../shared/runtime.js";
import { runDuties } from "../shared/wait.js";
import { beginBlocking, endBlocking } from "../shared/waiting.js";
import { keepsProcess, recoverSlots } from "./table.js";

if (isRoot) {
  onProcessExit(() => {
    // CPython's _shutdown(): the main thread is stopped first (threads joining it go on), then the
    // non-daemon threads are joined. Only its Thread object says so (MAIN_STOPPED, read by
    // isAlive() and join()); in the table it stays RUNNING, for the waits and locks it still runs.
    Atomics.store(G, MAIN_STOPPED, 1);
    Atomics.notify(G, MAIN_STOPPED);
    if (Atomics.load(G, ALIVE_NON_DAEMON) === 0) return;
    const prev = beginBlocking(G, ALIVE_NON_DAEMON);
    for (let n = Atomics.load(G, ALIVE_NON_DAEMON); n > 0; n = Atomics.load(G, ALIVE_NON_DAEMON)) {
      if (Atomics.load(G, HUB_READY) === HUB_DEAD) break;
      recoverSlots();
      if (!keepsProcess()) break;
      runDuties();
      Atomics.wait(G, ALIVE_NON_DAEMON, n, 50);
    }
    endBlocking(prev);
  }, true);
}
