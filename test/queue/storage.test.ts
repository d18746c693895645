// A queue's storage past its largest size (2 GiB - 8, a growable SharedArrayBuffer's limit here):
// the put is refused before anything changed, with a RangeError naming the call (Python would
// raise MemoryError). Before, the caller saw "queue storage cannot grow past 2147483640 bytes",
// naming neither the call nor the queue, nor saying whether the item was queued. (Filling a
// real queue to 2 GiB takes ~134 million puts; the refusal itself is what storage.ts throws.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { Data, putError, StorageFull } from "../../dist/internal.js";

test("a growth past the largest size is refused; the put's error names the call and says nothing was queued", () => {
  const d = new Data();
  const cap = d.cap;
  let refused: unknown;
  try {
    d.grow(2 ** 31);
  } catch (e) {
    refused = e;
  }
  assert.ok(refused instanceof StorageFull);
  assert.equal(d.cap, cap, "nothing changed");
  const e = putError(refused, "SimpleQueue.put()") as Error;
  assert.ok(e instanceof RangeError);
  assert.equal(
    e.message,
    "SimpleQueue.put(): the queue's storage cannot grow past 2147483640 bytes, the most a SharedArrayBuffer holds here (the item was not queued)",
  );
  const other = new TypeError("x");
  assert.equal(putError(other, "Queue.put()"), other, "any other error unchanged");
});
