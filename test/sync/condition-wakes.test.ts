// The node of a Condition wait that throws (shared/wait.ts: an exception thrown into the steps;
// their finally undoes what they registered).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Condition, Lock } from "threading";
import { addBlockingDuty, removeBlockingDuty } from "../../dist/internal.js";

const T = { timeout: 30_000 };
const kShare = Symbol.for("threading.share");

for (const kind of ["Lock", "RLock"] as const) {
  test(`Condition(${kind}): a wait that throws (a duty run while it sleeps) gives its node back`, T, () => {
    const cond = new Condition(kind === "Lock" ? new Lock() : undefined);
    const buffer = (cond as unknown as Record<symbol, () => { buffers: SharedArrayBuffer[] }>)[kShare]().buffers[0];
    const before = buffer?.byteLength;
    const boom = (): void => {
      throw new Error("duty failed");
    };
    addBlockingDuty(boom);
    try {
      for (let i = 0; i < 40; i++) {
        cond.acquire();
        try {
          assert.throws(() => cond.wait(5), /duty failed/);
          assert.equal(cond.acquire(false), kind === "RLock", "the lock is held again after the throw");
          if (kind === "RLock") cond.release();
        } finally {
          cond.release();
        }
      }
    } finally {
      removeBlockingDuty(boom);
    }
    // Each wait took a node and gave it back: the pool (8 nodes at first) never grew.
    assert.equal(buffer?.byteLength, before);
  });
}
