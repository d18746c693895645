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
  markRunning,
  tableTestHooks,
} from "../../dist/internal.js";

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
