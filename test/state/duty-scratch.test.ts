// A SharedDict.set that waits for a lock (an entry's, or its stripe's for a new key) runs this
// thread's blocking duties meanwhile: an excepthook it owns (shared/wait.ts). The hook may set
// another dict: that encoded its key and staged its value in this thread's scratch, which the
// waiting set had filled already, so the waiting set stored the hook's value, or lost its new key.
// The holder is a thread that takes the lock as a killed one would, then dies (out of memory)
// once the hook has run, so that the set takes the lock over and finishes after the hook.
// Node only: kills threads by running them out of memory under resourceLimits, which Bun and Deno refuse (README, Runtimes and flags); scripts/run-tests-on.mjs does not run this file there.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Event, SharedDict, setExcepthook, Thread } from "threading";

const T = { timeout: 60_000 };

/** Runs `set` while a thread holds the lock `hold` takes, until the excepthook (which calls `inHook`) has run. */
function setWhileHeld(
  d: SharedDict<string, unknown>,
  hold: "entry" | "stripe",
  k: string,
  inHook: () => void,
  set: () => void,
): boolean {
  const ran = new Event();
  const held = new Event();
  setExcepthook(() => {
    inHook();
    ran.set();
  });
  try {
    const holder = new Thread({
      target: (d: SharedDict<string, unknown>, hold: string, k: string, held: Event, ran: Event) => {
        if (hold === "entry") d._holdEntryForTest(k);
        else d._holdStripeForTest(k);
        held.set();
        ran.wait(30);
        const junk: number[][] = [];
        for (;;) junk.push(new Array(1e6).fill(1));
      },
      args: [d, hold, k, held, ran],
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    holder.start();
    assert.ok(held.wait(30));
    // Its exception reaches the hook only from this thread's blocking wait in set(): this thread
    // does not return to its event loop before the set has returned.
    new Thread({
      target: () => {
        throw new Error("a thread's uncaught exception, for the hook");
      },
    }).start();
    set();
    holder.join();
    return ran.isSet();
  } finally {
    setExcepthook(null);
  }
}

test("an excepthook run by a SharedDict.set's wait for an entry's lock sets another dict: both values stay", T, () => {
  const d = new SharedDict<string, unknown>();
  const other = new SharedDict<string, unknown>();
  d.set("k", "old");
  const ran = setWhileHeld(
    d,
    "entry",
    "k",
    () => other.set("x", { from: "hook", n: 7 }),
    () => d.set("k", { from: "main", list: [1, 2] }),
  );
  assert.equal(ran, true, "the hook ran in the set's wait");
  assert.deepEqual(d.get("k"), { from: "main", list: [1, 2] });
  assert.deepEqual(other.get("x"), { from: "hook", n: 7 });
});

test(
  "an excepthook run by a SharedDict.set's wait for a stripe's lock (a new key) sets another dict: both keys stay",
  T,
  () => {
    const d = new SharedDict<string, unknown>();
    const other = new SharedDict<string, unknown>();
    const ran = setWhileHeld(
      d,
      "stripe",
      "new",
      () => other.set("other key", "from the hook"),
      () => d.set("new", "main's"),
    );
    assert.equal(ran, true, "the hook ran in the set's wait");
    assert.deepEqual([...d.keys()], ["new"]);
    assert.equal(d.get("new"), "main's");
    assert.deepEqual([...other.keys()], ["other key"]);
  },
);
