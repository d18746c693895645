// Helpers for the queue tests: CPython's _TriggerThread / do_blocking_test in threads.
import assert from "node:assert/strict";
import { Event, type Queue, Thread } from "threading";

export type Op =
  | { op: "get" }
  | { op: "put"; item: unknown }
  | { op: "shutdown"; immediate?: boolean }
  | { op: "taskDone" };

/** Starts a thread that sleeps 0.1 s, sets `started`, then performs `op` on `q` (as CPython's _TriggerThread). */
export function trigger(q: unknown, op: Op): { thread: Thread; started: Event } {
  const started = new Event();
  const thread = new Thread({
    target: (q: Queue<unknown>, started: Event, op: Op) => {
      sleep(0.1);
      started.set();
      if (op.op === "get") q.get();
      else if (op.op === "put") q.put(op.item);
      else if (op.op === "shutdown") q.shutdown(op.immediate);
      else q.taskDone();
    },
    args: [q, started, op],
  });
  thread.start();
  return { thread, started };
}

/** block() must block until the trigger thread acts; returns its result (CPython's do_blocking_test). */
export function doBlockingTest<R>(block: () => R, q: unknown, op: Op): R {
  const { thread, started } = trigger(q, op);
  try {
    const r = block();
    assert.ok(started.isSet(), "blocking function appeared not to block");
    return r;
  } finally {
    thread.join();
  }
}

/** block() must throw `cls` after the trigger acted (CPython's do_exceptional_blocking_test). */
export function doExceptionalBlockingTest(
  block: () => unknown,
  q: unknown,
  op: Op,
  cls: new (...a: never[]) => Error,
): void {
  const { thread, started } = trigger(q, op);
  try {
    assert.throws(block, cls);
  } finally {
    thread.join();
    assert.ok(started.isSet(), "trigger thread ended but event never set");
  }
}

export async function doBlockingTestAsync<R>(block: () => Promise<R>, q: unknown, op: Op): Promise<R> {
  const { thread, started } = trigger(q, op);
  try {
    const r = await block();
    assert.ok(started.isSet(), "blocking function appeared not to block");
    return r;
  } finally {
    await thread.joinAsync();
  }
}
