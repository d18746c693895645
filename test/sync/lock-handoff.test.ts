// Lock and RLock hand-off (sync/mutex.ts, "Hand-off"): a blocked waiter whose thread owns an
// excepthook wakes every 50 ms to run it, and each such wake put it at the back of the runtime's
// line of waiters on the lock's word; under steady contention it never reached the head again (four
// threads each holding the lock 30 ms in turn: the owner's acquire(3) timed out every time). Such a
// waiter now asks a release to hand the lock over to it, and its request stands across its slices.
// Also: a request withdrawn when its wait times out, a dead asker's request dropped, a Condition's
// re-acquire through a hand-over.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { nodeOnly, scriptArgs } from "../child.js";
import { fileURLToPath } from "node:url";
import { Condition, dumpThreads, Event, Lock, RLock, setExcepthook, sleep, Thread } from "threading";

const T = { timeout: 60_000 };
/** Kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse: Node only. */
const OOM = {
  ...T,
  ...nodeOnly("kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse"),
};
const hooks = "../fixtures/sync-hooks.ts";
const cells = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

/** The lock's words (Lock: STATE, ASYNC, HANDOFF; RLock: STATE, COUNT, ASYNC, HANDOFF). */
function words(lock: Lock | RLock): Int32Array {
  const f = (lock as unknown as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[Symbol.for("threading.share")];
  return new Int32Array(f.call(lock).buffers[0] as SharedArrayBuffer);
}
const handoff = (lock: Lock | RLock) => Atomics.load(words(lock), lock instanceof RLock ? 3 : 2);

function until(pred: () => boolean, what: string): void {
  const end = performance.now() + 20_000;
  while (!pred()) {
    assert.ok(performance.now() < end, `timed out waiting: ${what}`);
    sleep(0.005);
  }
}

/**
 * A thread that ends with an uncaught error and is joined: the process's excepthook runs in the
 * hook's owner, inside whatever wait that thread is in.
 */
function raiseForHook(): void {
  const thrower = new Thread({
    target: () => {
      throw new Error("for the hook");
    },
  });
  thrower.start();
  thrower.join(30);
}

const kinds = [() => new Lock(), () => new RLock()];

for (const make of kinds) {
  const kind = make() instanceof RLock ? "RLock" : "Lock";

  test(`${kind}: a waiter owning an excepthook gets the lock under steady contention`, T, () => {
    const lock = make();
    // flags: [the hook's owner got it (1) or gave up (2), contenders running]
    const flags = cells(2);
    const stop = new Event();
    const contenders = [0, 1, 2, 3].map(
      () =>
        new Thread({
          target: (l: Lock | RLock, st: Event, f: Int32Array) => {
            const nap = new Int32Array(new SharedArrayBuffer(4));
            Atomics.add(f, 1, 1);
            while (!st.isSet()) {
              l.acquire();
              Atomics.wait(nap, 0, 0, 40);
              l.release();
              Atomics.wait(nap, 0, 0, 2);
            }
          },
          args: [lock, stop, flags],
        }),
    );
    for (const c of contenders) c.start();
    until(() => Atomics.load(flags, 1) === 4, "the contenders running");
    const hooked = new Thread({
      target: (l: Lock | RLock, f: Int32Array) => {
        setExcepthook(() => {});
        // (5 s: before, it got it in 0 of 4 runs while the contenders ran)
        const ok = l.acquire(true, 5);
        Atomics.store(f, 0, ok ? 1 : 2);
        if (ok) l.release();
      },
      args: [lock, flags],
    });
    try {
      hooked.start();
      hooked.join(30);
    } finally {
      stop.set();
      for (const c of contenders) c.join(30);
    }
    assert.equal(Atomics.load(flags, 0), 1, "the hook's owner got the lock while the others contended");
    assert.equal(lock.locked(), false);
    assert.equal(handoff(lock), 0, "no hand-off request left");
  });

  test(`${kind}: the hook's owner, first in line, gets the lock before a later waiter`, T, () => {
    const lock = make();
    lock.acquire();
    // order: [next index, first taker, second taker] (1 the hook's owner, 2 the later waiter)
    const order = cells(3);
    const take = (l: Lock | RLock, o: Int32Array, me: number, hook: boolean) => {
      if (hook) setExcepthook(() => {});
      if (l.acquire(true, 20)) {
        Atomics.store(o, 1 + Atomics.add(o, 0, 1), me);
        l.release();
      }
    };
    const hooked = new Thread({ target: take, args: [lock, order, 1, true] });
    hooked.start();
    until(() => /blocking: waits on (Lock|RLock)#/.test(dumpThreads()), "the hook's owner blocked");
    const later = new Thread({ target: take, args: [lock, order, 2, false] });
    later.start();
    until(() => (dumpThreads().match(/blocking: waits on (Lock|RLock)#/g) ?? []).length === 2, "both blocked");
    // The owner wakes every 50 ms to run its hook (before: each time at the back of the line, behind
    // the later waiter) and, finding the lock held, asks for a hand-off: released once it has asked
    // (not after a fixed 0.3 s, which a starved owner thread may not have woken within).
    until(() => handoff(lock) !== 0, "the hook's owner asked for a hand-off");
    lock.release();
    hooked.join(30);
    later.join(30);
    assert.deepEqual([...order], [2, 1, 2], "the hook's owner got the lock first");
    assert.equal(handoff(lock), 0);
  });

  test(`${kind}: the hook's owner's request stands across its slices while no hook runs`, T, () => {
    // Every sleep of a thread with duties begins with them (shared/wait.ts runDuties). They set its
    // request aside for each sleep, not only while a hook ran: a release in that window (about 9 in
    // 0.6 s before) notified the later waiter instead (the CI failure of the test above on Node 26).
    const lock = make();
    lock.acquire();
    const hooked = new Thread({
      target: (l: Lock | RLock) => {
        setExcepthook(() => {});
        if (l.acquire(true, 20)) l.release();
      },
      args: [lock],
    });
    hooked.start();
    try {
      until(() => handoff(lock) !== 0, "the hook's owner asked for a hand-off");
      // 0.6 s: a dozen of its 50 ms slices, each a sleep that begins with its duties
      const end = performance.now() + 600;
      let gaps = 0;
      for (let was = 1; performance.now() < end; ) {
        const now = handoff(lock);
        if (now === 0 && was !== 0) gaps++;
        was = now;
      }
      assert.equal(gaps, 0, "times the request was found withdrawn");
    } finally {
      lock.release();
      hooked.join(30);
    }
    assert.equal(lock.locked(), false);
  });

  test(
    `${kind}: the hook's owner whose acquire times out withdraws its request; the lock is not handed to it`,
    T,
    () => {
      const lock = make();
      lock.acquire();
      const out = cells(1);
      const hooked = new Thread({
        target: (l: Lock | RLock, o: Int32Array) => {
          setExcepthook(() => {});
          Atomics.store(o, 0, l.acquire(true, 0.4) ? 1 : 2);
        },
        args: [lock, out],
      });
      hooked.start();
      until(() => handoff(lock) !== 0, "the hook's owner asked for a hand-off");
      hooked.join(30);
      assert.equal(Atomics.load(out, 0), 2, "its acquire timed out");
      assert.equal(handoff(lock), 0, "its request withdrawn");
      lock.release();
      assert.equal(lock.locked(), false, "the release handed the lock to nobody");
      assert.equal(lock.acquire(false), true);
      lock.release();
    },
  );

  test(`${kind}: a hook's owner killed after asking for a hand-off: the release drops its request`, OOM, () => {
    const lock = make();
    lock.acquire();
    const s = cells(1);
    const t = new Thread({
      target: { module: hooks, export: "askAndDie" },
      args: [lock, s],
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    t.start();
    t.join(30);
    assert.equal(Atomics.load(s, 0), 1, "the thread asked");
    assert.notEqual(handoff(lock), 0, "its request is left");
    lock.release();
    assert.equal(lock.locked(), false, "not handed to the dead thread");
    assert.equal(handoff(lock), 0, "its request dropped");
    // A live waiter still gets the lock.
    lock.acquire();
    const w = new Thread({ target: (l: Lock | RLock) => l.acquire(true, 20) && (l.release(), true), args: [lock] });
    w.start();
    sleep(0.1);
    lock.release();
    w.join(30);
    assert.equal(lock.locked(), false);
  });

  test(`${kind}: a release killed inside its hand-over, the request claimed: the asker gets the lock`, OOM, () => {
    const lock = make();
    // s: [the releaser holds the lock, go, it claimed the request]
    const s = cells(3);
    const releaser = new Thread({
      target: { module: hooks, export: "releaseAndDie" },
      args: [lock, s],
      resourceLimits: { maxOldGenerationSizeMb: 32 },
    });
    releaser.start();
    until(() => Atomics.load(s, 0) === 1, "the releaser holding the lock");
    // out: [the asker's acquire (1 true, 2 false), its release done]
    const out = cells(2);
    const asker = new Thread({
      target: (l: Lock | RLock, o: Int32Array) => {
        setExcepthook(() => {});
        const ok = l.acquire(true, 20);
        Atomics.store(o, 0, ok ? 1 : 2);
        if (ok) {
          l.release();
          Atomics.store(o, 1, 1);
        }
      },
      args: [lock, out],
      // (before: it waited for ever for the dead releaser to finish its hand-over)
      daemon: true,
    });
    asker.start();
    until(() => handoff(lock) !== 0, "the asker asked for a hand-off");
    Atomics.store(s, 1, 1);
    releaser.join(30);
    assert.equal(Atomics.load(s, 2), 1, "the releaser claimed the request");
    asker.join(30);
    assert.deepEqual([...out], [1, 1], "the asker got the lock and released it");
    assert.equal(lock.locked(), false);
    assert.equal(handoff(lock), 0, "no claim or request left");
  });
}

for (const make of kinds) {
  const kind = make() instanceof RLock ? "RLock" : "Lock";

  test(`${kind}: the hook's owner asked for a hand-off and its hook takes the same lock: the hook gets it`, T, () => {
    const lock = make();
    lock.acquire();
    // out: [the hook began, the hook's acquire (1 true, 2 false), the owner's acquire (1 true, 2 false)]
    const out = cells(3);
    const hooked = new Thread({
      target: (l: Lock | RLock, o: Int32Array) => {
        setExcepthook(() => {
          Atomics.store(o, 0, 1);
          const ok = l.acquire(true, 10);
          Atomics.store(o, 1, ok ? 1 : 2);
          if (ok) l.release();
        });
        const ok = l.acquire(true, 30);
        Atomics.store(o, 2, ok ? 1 : 2);
        if (ok) l.release();
      },
      args: [lock, out],
    });
    hooked.start();
    until(() => handoff(lock) !== 0, "the hook's owner asked for a hand-off");
    // A thread's uncaught error: the owner runs its hook inside its wait, which waits for the lock too.
    raiseForHook();
    until(() => Atomics.load(out, 0) === 1, "the hook running");
    sleep(0.2);
    // Handed over to the owner's request, while the hook (same thread) waits: before, the hook
    // slept on its own thread's value until its 10 s passed.
    lock.release();
    hooked.join(60);
    assert.deepEqual([...out], [1, 1, 1], "the hook got the lock, then the owner");
    assert.equal(lock.locked(), false);
    assert.equal(handoff(lock), 0);
  });
}

test("Lock: a hook that takes the lock its owner waits for and keeps it leaves no hand-off request behind", T, () => {
  const lock = new Lock();
  lock.acquire();
  // out: [the hook began, the hook's acquire (1 true, 2 false), the owner's acquire (1 true, 2 false)]
  const out = cells(3);
  const hooked = new Thread({
    target: (l: Lock, o: Int32Array) => {
      setExcepthook(() => {
        Atomics.store(o, 0, 1);
        Atomics.store(o, 1, l.acquire(true, 10) ? 1 : 2);
      });
      // (the hook took the lock and kept it: this thread has it, and frees it once)
      Atomics.store(o, 2, l.acquire(true, 30) ? 1 : 2);
      l.release();
    },
    args: [lock, out],
  });
  hooked.start();
  until(() => handoff(lock) !== 0, "the hook's owner asked for a hand-off");
  raiseForHook();
  until(() => Atomics.load(out, 0) === 1, "the hook running");
  sleep(0.2);
  lock.release();
  hooked.join(60);
  assert.deepEqual([...out], [1, 1, 1]);
  // Before: the hook's wait had asked again and returned with its request out, and the owner's
  // release handed the lock back to its own thread, which no longer waited (held for ever).
  assert.equal(handoff(lock), 0, "no request left");
  assert.equal(lock.locked(), false, "the owner's release freed it");
});

for (const make of kinds) {
  const kind = make() instanceof RLock ? "RLock" : "Lock";

  test(
    `${kind}: the main thread's hook exits the process inside its wait: the exit's wait for the threads ends`,
    T,
    () => {
      const fixture = fileURLToPath(new URL("../fixtures/handoff-exit.mjs", import.meta.url));
      const r = spawnSync(process.execPath, scriptArgs(fixture, kind), { encoding: "utf8", timeout: 60_000 });
      // Before: A's release, as main's exit waited for A and B, handed the lock to main (its request
      // out), and B waited for it until its 10 s passed (for ever without a timeout).
      assert.equal(r.stdout.trim(), "B got the lock", r.stderr);
      assert.equal(r.status, 0);
    },
  );
}

for (const make of kinds) {
  const kind = make() instanceof RLock ? "RLock" : "Lock";

  test(
    `${kind}: no hand-over to the hook's owner while its hook runs (the hook waits for a thread that waits for the lock)`,
    T,
    () => {
      const lock = make();
      const other = new Lock();
      lock.acquire();
      // out: [T holds the other lock, the hook began, T's acquire of the lock, the hook's of the other, the owner's of the lock]
      const out = cells(5);
      // T's wait for the lock begins once the hook runs (`go`): its 10 s count only what the test is
      // about, not the start of the hook's owner (seconds on a loaded machine under tsx, Node 22).
      const go = new Event();
      const t = new Thread({
        target: (l: Lock | RLock, m: Lock, o: Int32Array, g: Event) => {
          m.acquire();
          Atomics.store(o, 0, 1);
          g.wait(60);
          const ok = l.acquire(true, 10);
          Atomics.store(o, 2, ok ? 1 : 2);
          if (ok) l.release();
          m.release();
        },
        args: [lock, other, out, go],
      });
      t.start();
      until(() => Atomics.load(out, 0) === 1, "T holding the other lock");
      const hooked = new Thread({
        target: (l: Lock | RLock, m: Lock, o: Int32Array) => {
          setExcepthook(() => {
            Atomics.store(o, 1, 1);
            const ok = m.acquire(true, 20);
            Atomics.store(o, 3, ok ? 1 : 2);
            if (ok) m.release();
          });
          const ok = l.acquire(true, 30);
          Atomics.store(o, 4, ok ? 1 : 2);
          if (ok) l.release();
        },
        args: [lock, other, out],
      });
      hooked.start();
      until(() => handoff(lock) !== 0, "the hook's owner asked for a hand-off");
      raiseForHook();
      until(() => Atomics.load(out, 1) === 1, "the hook running, waiting for the other lock");
      go.set();
      sleep(0.1);
      // Before: handed over to the owner, busy in its hook, which waited for T, which waited for the lock (10 s).
      lock.release();
      t.join(30);
      hooked.join(60);
      assert.deepEqual(
        [...out],
        [1, 1, 1, 1, 1],
        "T got the lock, then the hook the other lock, then the owner the lock",
      );
      assert.equal(lock.locked(), false);
      assert.equal(handoff(lock), 0);
    },
  );
}

test("Condition over an RLock held twice: the hook's owner re-acquires through a hand-over with its count", T, () => {
  const cond = new Condition(new RLock());
  // out: [waiting, wait()'s result (1 true, 2 false), releases that succeeded, the third threw]
  const out = cells(4);
  const hooked = new Thread({
    target: (c: Condition, o: Int32Array) => {
      setExcepthook(() => {});
      c.acquire();
      c.acquire();
      Atomics.store(o, 0, 1);
      Atomics.store(o, 1, c.wait(20) ? 1 : 2);
      c.release();
      Atomics.add(o, 2, 1);
      c.release();
      Atomics.add(o, 2, 1);
      try {
        c.release();
      } catch {
        Atomics.store(o, 3, 1);
      }
    },
    args: [cond, out],
  });
  hooked.start();
  until(() => Atomics.load(out, 0) === 1, "the owner in wait()");
  cond.acquire();
  cond.notify();
  // Held over several slices: the notified owner asks for a hand-off while it re-acquires.
  sleep(0.3);
  cond.release();
  hooked.join(30);
  assert.deepEqual([...out], [1, 1, 2, 1], "notified, both levels released, then un-acquired");
});
