/**
 * The library's own unref() of a MessagePort, Worker or BroadcastChannel.
 *
 * In a thread's worker, unref() of those classes is wrapped (threads/reuse.ts trackUnrefs) to
 * remember the handles the thread's own code unref'd: such a handle could still call back, so the
 * worker is not handed to the next thread while one is open. The wrapper tells the library's own
 * calls apart by the caller's stack frame, from a captured stack trace, which an executor used
 * inside a thread paid for every task (its pool thread's port is unref'd whenever no task is out):
 * a task awaited alone there cost 52 µs against 23 in the main thread (one vCPU, Node 20). The
 * library's calls say so instead: unrefOwn() sets a flag the wrapper reads first.
 *
 * No imports: any module of the library may use it without an import cycle.
 */

let own = false;

/** Unrefs `handle` as the library's own: it is not remembered as left by the thread's code. */
export function unrefOwn(handle: { unref(): unknown }): void {
  own = true;
  try {
    handle.unref();
  } finally {
    own = false;
  }
}

/** True inside unrefOwn(): the unref() being made is the library's own. */
export function unrefIsOwn(): boolean {
  return own;
}
