// The thread table (src/threads/table.ts): slot generations make a late markEnded() harmless.
// The interleavings are forced with tableTestHooks (run between a transition's reads and its CAS),
// on slots claimed directly in this process's table.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ALIVE_NON_DAEMON,
  claimSlot,
  G,
  isIdentAlive,
  markEnded,
  markFailed,
  markRunning,
  SLOT_NATIVE_ID,
  START_FAILED,
  START_LOST,
  slotIndex,
  startFailed,
  tableTestHooks,
  takeFailure,
} from "../../dist/internal.js";

const nativeIdIn = (slot: number): number => Atomics.load(G, slotIndex(slot, SLOT_NATIVE_ID));

test("a late markEnded() for a thread that ended itself does not end the thread that reused its slot", () => {
  const [slot, old] = claimSlot("old", true);
  markRunning(slot, old, 1);
  let newer = 0;
  // The hub has read the slot (old thread running) and is about to CAS it to ENDED when the old
  // thread ends itself and a new thread takes the slot.
  tableTestHooks.beforeCas = () => {
    tableTestHooks.beforeCas = undefined;
    assert.equal(markEnded(slot, old), true, "the thread ends itself");
    tableTestHooks.claimFrom = slot;
    const [again, ident] = claimSlot("newer", true);
    tableTestHooks.claimFrom = undefined;
    assert.equal(again, slot, "the new thread took the same slot");
    newer = ident;
    markRunning(slot, newer, 2);
  };
  try {
    assert.equal(markEnded(slot, old), false, "the late call ends nothing");
  } finally {
    tableTestHooks.beforeCas = undefined;
    tableTestHooks.claimFrom = undefined;
  }
  assert.ok(newer > old);
  assert.equal(isIdentAlive(slot, newer), true, "the newer thread is still alive");
  assert.equal(markEnded(slot, newer), true);
  assert.equal(isIdentAlive(slot, newer), false);
});

test("markEnded() ends a thread exactly once, whoever calls it first", () => {
  const [slot, ident] = claimSlot("once", true);
  markRunning(slot, ident, 3);
  assert.equal(isIdentAlive(slot, ident), true);
  assert.equal(markEnded(slot, ident), true);
  assert.equal(markEnded(slot, ident), false);
  assert.equal(isIdentAlive(slot, ident), false);
  // A starting thread may be ended before it runs; markRunning then publishes nothing.
  tableTestHooks.claimFrom = slot;
  const [again, next] = claimSlot("starting", true);
  tableTestHooks.claimFrom = undefined;
  assert.equal(again, slot);
  assert.equal(markEnded(slot, next), true);
  markRunning(slot, next, 4);
  assert.equal(isIdentAlive(slot, next), false);
});

test("the live non-daemon count stays exact when a slot is claimed again right after its thread ended", () => {
  // A non-daemon thread ends, and before its ender has counted it out, a daemon thread takes the
  // slot (and the other way round): the count must follow the ended thread's flag, not the
  // newcomer's, or the process waits for ever at exit (or exits under a live non-daemon thread).
  for (const [first, second] of [
    [false, true],
    [true, false],
  ]) {
    const before = Atomics.load(G, ALIVE_NON_DAEMON);
    const [slot, ident] = claimSlot("ending", first);
    markRunning(slot, ident, 5);
    let newcomer = 0;
    tableTestHooks.afterCas = () => {
      tableTestHooks.afterCas = undefined;
      tableTestHooks.claimFrom = slot;
      const [again, next] = claimSlot("newcomer", second);
      tableTestHooks.claimFrom = undefined;
      assert.equal(again, slot, "the newcomer took the slot");
      newcomer = next;
    };
    try {
      assert.equal(markEnded(slot, ident), true);
    } finally {
      tableTestHooks.afterCas = undefined;
      tableTestHooks.claimFrom = undefined;
    }
    assert.equal(Atomics.load(G, ALIVE_NON_DAEMON), before + (second ? 0 : 1), `daemon ${first} then ${second}`);
    assert.equal(markEnded(slot, newcomer), true);
    assert.equal(Atomics.load(G, ALIVE_NON_DAEMON), before, "back where it was");
  }
});

// A start's outcome: the worker's markRunning() and a failing party's markFailed() (the hub giving
// up, a starter whose hub never came up, the hub's death) race from STARTING; exactly one wins.

test("a start failed while its worker marks it RUNNING: the failure wins whole, the worker does not run it", () => {
  const before = Atomics.load(G, ALIVE_NON_DAEMON);
  const [slot, ident] = claimSlot("failed", false);
  let failed: boolean | undefined;
  // The worker has read the slot (STARTING) and is about to publish RUNNING when the failure lands.
  tableTestHooks.beforeCas = () => {
    tableTestHooks.beforeCas = undefined;
    failed = markFailed(slot, ident);
  };
  let ran: boolean;
  try {
    ran = markRunning(slot, ident, 77);
  } finally {
    tableTestHooks.beforeCas = undefined;
  }
  assert.equal(failed, true, "the failer won");
  assert.equal(ran, false, "the worker lost: it must not run the thread");
  assert.equal(isIdentAlive(slot, ident), false);
  assert.equal(startFailed(slot, ident), true, "the starter sees a failed start");
  assert.ok(nativeIdIn(slot) < 0, `no native id for a thread that never ran (${nativeIdIn(slot)})`);
  assert.equal(Atomics.load(G, ALIVE_NON_DAEMON), before, "counted out once");
  assert.equal(markEnded(slot, ident), false, "ended already");
  assert.equal(markRunning(slot, ident, 77), false);
  // Not claimable until its starter takes the failure.
  tableTestHooks.claimFrom = slot;
  try {
    const [other, otherIdent] = claimSlot("other", true);
    assert.notEqual(other, slot);
    markEnded(other, otherIdent);
    assert.equal(takeFailure(slot, ident), START_FAILED);
    assert.equal(takeFailure(slot, ident), 0, "taken once");
    const [again, next] = claimSlot("again", true);
    assert.equal(again, slot, "claimable once the failure is taken");
    markEnded(again, next);
  } finally {
    tableTestHooks.claimFrom = undefined;
  }
});

test("a worker marks RUNNING while its start is being failed: the thread runs, the failer reports nothing", () => {
  const before = Atomics.load(G, ALIVE_NON_DAEMON);
  for (const code of [START_FAILED, START_LOST]) {
    const [slot, ident] = claimSlot("runs", false);
    let ran: boolean | undefined;
    // The failer has read the slot (STARTING) and is about to CAS it when the worker publishes RUNNING.
    tableTestHooks.beforeCas = () => {
      tableTestHooks.beforeCas = undefined;
      ran = markRunning(slot, ident, 78);
    };
    let failed: boolean;
    try {
      failed = markFailed(slot, ident, code);
    } finally {
      tableTestHooks.beforeCas = undefined;
    }
    assert.equal(ran, true, "the worker won: it runs the thread");
    assert.equal(failed, false, "the failer lost: no failure to report");
    assert.equal(isIdentAlive(slot, ident), true, "running, not ended under its feet");
    assert.equal(startFailed(slot, ident), false);
    assert.equal(takeFailure(slot, ident), 0, "its start() returns");
    assert.equal(nativeIdIn(slot), 78, "the worker's native id");
    assert.equal(Atomics.load(G, ALIVE_NON_DAEMON), before + 1, "still counted");
    assert.equal(markEnded(slot, ident), true, "the thread ends itself");
    assert.equal(Atomics.load(G, ALIVE_NON_DAEMON), before);
  }
});

test("a worker that lost its start, however late, writes nothing into the slot claimed again since", () => {
  const [slot, old] = claimSlot("old", true);
  let newer = 0;
  // The worker has read the slot and stalls; meanwhile the start is failed, its starter takes the
  // failure, and a new thread claims the slot.
  tableTestHooks.beforeCas = () => {
    tableTestHooks.beforeCas = undefined;
    assert.equal(markFailed(slot, old), true);
    assert.equal(takeFailure(slot, old), START_FAILED);
    tableTestHooks.claimFrom = slot;
    const [again, ident] = claimSlot("newer", true);
    tableTestHooks.claimFrom = undefined;
    assert.equal(again, slot, "the new thread took the same slot");
    newer = ident;
  };
  try {
    assert.equal(markRunning(slot, old, 79), false, "the late worker lost");
  } finally {
    tableTestHooks.beforeCas = undefined;
    tableTestHooks.claimFrom = undefined;
  }
  assert.ok(nativeIdIn(slot) < 0, `the newer thread has no native id before it runs (${nativeIdIn(slot)})`);
  assert.equal(isIdentAlive(slot, newer), true, "the newer thread is starting");
  assert.equal(markRunning(slot, newer, 80), true);
  assert.equal(nativeIdIn(slot), 80);
  assert.equal(markEnded(slot, newer), true);
});
