// Waiters' turns (engine.ts, "Turns"), the windows: an older blocked waiter held out of the
// runtime's line of sleepers at a chosen point of its wait (a test hook holds its thread there:
// heldWaiter), a younger one asleep behind it, and an item (room) comes meanwhile. The younger one
// is woken, alone or with every sleeper; it must leave the item (the room) to the older one, and
// must not sleep beside one that is its own.
//  - held in its duties at the start of a sleep, counted out of its place: before 1a310a0 the
//    duties' guard marked the older waiter's turn QTURN_DUTIES ("do not give way to me") at every
//    sleep of a thread with duties, so the younger one, woken with every sleeper, took the item
//    (turns.test's hook-owner test failed once with [2, 1] at load ~7; here every time before);
//  - held before its first sleep (its ticket taken), after its first idle check, after its first
//    slice: it was counted nowhere yet, the put woke the younger one alone, which took the item
//    without looking (every time before FIRST: engine.ts "Turns");
//  - two items (room for two) while it is held: the younger one gave way for both and slept beside
//    the second until its idle check (here 60 s).
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Queue, Thread } from "threading";
import { ARMED, GO, HELD } from "../fixtures/queue-turns.js";
import { cells, control, type Kind, make, turnWords, until } from "./helpers.js";

const T = { timeout: 120_000 };
const fixture = new URL("../fixtures/queue-turns.ts", import.meta.url);

/** Where the older waiter is held (heldWaiter), and what its thread is. */
interface Hold {
  /** Its duties at the start of a sleep, or its idle check (also a slice's end) after one. */
  where: "duty" | "idle";
  /** Its thread has a blocking duty (an excepthook's owner's: 50 ms slices). */
  duty: boolean;
  /** Its idle checks' period (turnHooks.idleMs). */
  idleMs: number;
  /** Held once it is counted out of its place (DISORDER), not at the first point it reaches. */
  disordered: boolean;
}

/**
 * The older waiter (index 0) of `op` on `q` held as `hold` says, and a younger one (index 1) asleep
 * behind it. out: what each got (get) or 1 (put); order: order[0] counts the waits done, then their
 * indexes in the order they ended.
 */
function olderHeld(q: Queue<number>, kind: Kind, op: "get" | "put", hold: Hold) {
  const h = control(q);
  const w = turnWords(kind);
  const sleepers = op === "get" ? w.gs : w.ps;
  const disorder = op === "get" ? w.gd : w.pd;
  const ctl = cells(5);
  const out = cells(2);
  const order = cells(3);
  if (!hold.disordered) Atomics.store(ctl, ARMED, 1);
  const older = new Thread({
    target: { module: fixture, export: "heldWaiter" },
    args: [q, op, 0, hold.idleMs, hold.duty, hold.where, ctl, out, order],
    daemon: true,
  });
  older.start();
  if (hold.disordered) {
    until(() => Atomics.load(h, disorder) === 1, "the older waiter counted out of its place");
    Atomics.store(ctl, ARMED, 1);
  }
  until(() => Atomics.load(ctl, HELD) === 1, "the older waiter held");
  // (held inside its sleep, in its duties, it is counted as a sleeper; after one, not)
  const base = Atomics.load(h, sleepers);
  const younger = new Thread({
    target: { module: fixture, export: "turnWaiter" },
    args: [q, op, 1, 60_000, cells(2), out, order],
    daemon: true,
  });
  younger.start();
  until(() => Atomics.load(h, sleepers) === base + 1, "the younger waiter asleep");
  const release = () => {
    Atomics.store(ctl, GO, 1);
    Atomics.notify(ctl, GO);
  };
  /**
   * Runs `act` (a put, or a get that makes room), then waits until the younger waiter took the
   * item (room), or gave way (a wake of every sleeper: WAKES moves, after the act's own when
   * DISORDER > 0 made it wake every sleeper too) and sleeps again.
   */
  const settled = (act: () => void) => {
    const wakes = Atomics.load(h, sleepers + 4) + (Atomics.load(h, disorder) > 0 ? 2 : 1);
    act();
    until(
      () =>
        Atomics.load(out, 1) !== 0 ||
        (((Atomics.load(h, sleepers + 4) - wakes) | 0) >= 0 && Atomics.load(h, sleepers) === base + 1),
      "the younger waiter served or asleep again",
    );
  };
  return { out, order, older, younger, release, settled, h, disorder };
}

const HOLDS: [string, Hold][] = [
  [
    "running its duties at the start of a sleep, counted out of its place (an excepthook's owner, 50 ms slices)",
    { where: "duty", duty: true, idleMs: 60_000, disordered: true },
  ],
  [
    "running its duties at the start of its first sleep, its ticket taken",
    { where: "duty", duty: true, idleMs: 60_000, disordered: false },
  ],
  ["woken for its first idle check", { where: "idle", duty: false, idleMs: 50, disordered: false }],
  [
    "woken at the end of its first slice (an excepthook's owner)",
    { where: "idle", duty: true, idleMs: 60_000, disordered: false },
  ],
];

for (const [what, hold] of HOLDS) {
  for (const kind of ["Queue", "SimpleQueue", "LifoQueue", "PriorityQueue"] as const) {
    test(`${kind}: an older getter ${what} keeps its turn`, T, () => {
      const q = make(kind);
      const s = olderHeld(q, kind, "get", hold);
      try {
        s.settled(() => q.put(1));
        assert.equal(Atomics.load(s.out, 1), 0, "the younger getter left the item to the older one");
      } finally {
        s.release();
      }
      until(() => Atomics.load(s.out, 0) !== 0, "the older getter served");
      q.put(2);
      s.older.join(30);
      s.younger.join(30);
      assert.deepEqual([...s.out], [1, 2], "the older getter got the first item, the younger the second");
      assert.equal(Atomics.load(s.h, s.disorder), 0, "no getter counted out of its place");
    });
  }
  for (const kind of ["Queue", "LifoQueue", "PriorityQueue"] as const) {
    test(`${kind}: an older putter ${what} keeps its turn`, T, () => {
      const q = make(kind, 1);
      q.put(-1);
      const s = olderHeld(q, kind, "put", hold);
      try {
        s.settled(() => assert.equal(q.get(), -1));
        assert.equal(Atomics.load(s.out, 1), 0, "the younger putter left the room to the older one");
      } finally {
        s.release();
      }
      until(() => Atomics.load(s.out, 0) !== 0, "the older putter served");
      const got = [q.get(), q.get()];
      s.older.join(30);
      s.younger.join(30);
      assert.deepEqual([...s.order], [2, 0, 1], "the older putter was let in first");
      assert.deepEqual(got, [100, 101]);
      assert.equal(Atomics.load(s.h, s.disorder), 0, "no putter counted out of its place");
    });
  }
}

// Two items (two places) come while the older waiter is held: one is the older waiter's, the
// other the younger's, which must not sleep beside it (before: it gave way for both and slept until
// its idle check, here 60 s).
const TWO: Hold = { where: "duty", duty: true, idleMs: 60_000, disordered: true };
for (const kind of ["Queue", "SimpleQueue", "LifoQueue", "PriorityQueue"] as const) {
  test(`${kind}: two items for an older getter held out of the line and a younger one: each gets one`, T, () => {
    const q = make(kind);
    const s = olderHeld(q, kind, "get", TWO);
    try {
      q.put(1);
      q.put(2);
      until(() => Atomics.load(s.out, 1) !== 0, "the younger getter served while the older one is held");
    } finally {
      s.release();
    }
    until(() => Atomics.load(s.out, 0) !== 0, "the older getter served");
    s.older.join(30);
    s.younger.join(30);
    assert.deepEqual(
      [...s.out].sort((a, b) => a - b),
      [1, 2],
      "each got one item",
    );
    assert.equal(q.qsize(), 0);
    assert.equal(Atomics.load(s.h, s.disorder), 0, "no getter counted out of its place");
  });
}
for (const kind of ["Queue", "LifoQueue", "PriorityQueue"] as const) {
  test(`${kind}: room for two, an older putter held out of the line and a younger one: both put`, T, () => {
    const q = make(kind, 2);
    q.put(-1);
    q.put(-2);
    const s = olderHeld(q, kind, "put", TWO);
    let first: number[];
    try {
      first = [q.get(), q.get()];
      until(() => Atomics.load(s.out, 1) !== 0, "the younger putter served while the older one is held");
    } finally {
      s.release();
    }
    until(() => Atomics.load(s.out, 0) !== 0, "the older putter served");
    s.older.join(30);
    s.younger.join(30);
    assert.deepEqual(
      first.sort((a, b) => a - b),
      [-2, -1],
    );
    assert.deepEqual(
      [q.get(), q.get()].sort((a, b) => a - b),
      [100, 101],
      "both put",
    );
    assert.equal(Atomics.load(s.h, s.disorder), 0, "no putter counted out of its place");
  });
}
