// The shared-state heap (src/state/heap.ts): blocks of a cache line or more start on a line of their
// own, whatever smaller blocks were cut before them; the pieces of a line go to the free list.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Heap } from "../../dist/internal.js";

test("Heap: blocks of 64 bytes or more start on a cache line; smaller ones are cut from one line", () => {
  for (const header of [120, 144, 3136]) {
    const h = new Heap(Heap.create(header));
    const free = 2; // the free lists' heads at words 2..28 of the header (as a stripe's own)
    const first = h.alloc(free, 8); // class 0: 16 bytes
    assert.equal(first % 64, 0, `the first block starts on a line (header ${header})`);
    assert.ok(first >= header);
    // the line's other three 16-byte pieces come from the free list, then a new line
    const pieces = [h.alloc(free, 8), h.alloc(free, 8), h.alloc(free, 8)].sort((a, b) => a - b);
    assert.deepEqual(pieces, [first + 16, first + 32, first + 48]);
    const next = h.alloc(free, 8);
    assert.equal(next % 64, 0);
    const mid = h.alloc(free, 24); // class 1: 32 bytes, from a line of its own (the 16-byte pieces left stay listed)
    assert.equal(mid % 64, 0);
    for (const payload of [40, 56, 100, 300]) {
      const b = h.alloc(free, payload); // 64, 64, 128, 512 bytes: each on a line
      assert.equal(b % 64, 0, `a ${payload}-byte payload's block starts on a line`);
      assert.ok(b > mid);
    }
    // a freed small piece is reused before any new line
    h.release(free, mid);
    assert.equal(h.alloc(free, 24), mid);
    assert.equal(h.alloc(free, 24), mid + 32);
  }
});
