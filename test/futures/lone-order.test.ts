// Lone outcomes (a pool thread's primitive result posted alone, its handle in a ring: protocol.ts)
// are matched to their futures by their order among the lone messages. On Deno a message taken off
// the port for a "message" event is read after later ones that a blocking wait's drain reads first,
// so there a pool thread has one lone outcome in flight at a time (LONE_OUTCOMES_IN_FLIGHT).
// Before: map() then mapAsync() on Deno gave results to the wrong futures in 2-5 rounds of 30
// ([0, 10, 20, 30, 40, 50] came as [10, 20, 30, 40, 50, 0]).
// The same program on Deno: lone-order-deno.test.ts (it does not depend on the Node that runs the
// suite, so .ci/run runs it with one Node major).
import assert from "node:assert/strict";
import { test } from "node:test";
import { mapOrder, T } from "./lone-order.js";

test("map() then mapAsync(): every result comes to its own future, in order (Node)", T, () => {
  assert.match(mapOrder(process.execPath, []), /out of order: 0 of 30/);
});
