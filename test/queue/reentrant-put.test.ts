// A put that runs inside another put of the same thread: from a getter of the item being staged,
// or from an excepthook that a blocking put's wait runs as its duty (shared/wait.ts). The inner
// put must not take the outer one's staged record or scratch words (plain.ts writer): before,
// the outer item was replaced by the inner one (a getter), or its staged record was reset under
// the lock (TypeError from the store, the ring left reserved: every later get hung).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Event, PriorityQueue, Queue, SharedDict, SimpleQueue, setExcepthook, Thread } from "threading";

const T = { timeout: 60_000 };

test("a getter of an item puts into another queue while the item is staged: both arrive whole", T, () => {
  for (const [name, make] of [
    ["Queue", () => new Queue()],
    ["SimpleQueue", () => new SimpleQueue()],
    ["PriorityQueue", () => new PriorityQueue()],
  ] as const) {
    const q = make() as Queue<unknown>;
    for (const log of [new Queue<unknown>(), new SimpleQueue<unknown>()]) {
      const item = {
        id: 1,
        name: "outer",
        get note() {
          log.put({ msg: "from the getter", n: 7 });
          return "x";
        },
        tail: [1, 2, 3],
      };
      q.put(item);
      // (PriorityQueue reads the item twice: its record, then its sort key)
      assert.deepEqual(log.get(false), { msg: "from the getter", n: 7 }, name);
      assert.deepEqual(q.get(false), { id: 1, name: "outer", note: "x", tail: [1, 2, 3] }, name);
    }
  }
  // The same scratch words serve SharedDict's values.
  const d = new SharedDict<string, unknown>();
  const log = new SimpleQueue<unknown>();
  d.set("k", {
    a: "outer",
    get b() {
      log.put({ inner: true, s: "abc" });
      return 2;
    },
  });
  assert.deepEqual(d.get("k"), { a: "outer", b: 2 });
  assert.deepEqual(log.get(false), { inner: true, s: "abc" });
});

test("an excepthook run by a blocking put's wait puts into queues: the waiting put's item arrives whole", T, () => {
  const q = new Queue<unknown>(1);
  const log = new Queue<unknown>();
  const simple = new SimpleQueue<unknown>();
  const ran = new Event();
  const out = new SimpleQueue<unknown>();
  setExcepthook(() => {
    log.put({ msg: "from the hook", n: 7 });
    simple.put({ other: "shape", list: [true] });
    simple.put("short");
    ran.set();
  });
  try {
    q.put("first");
    // Takes the two items only once the hook has run, which it can only do in the put below
    // (this thread does not return to its event loop meanwhile): the put's wait runs it.
    const taker = new Thread({
      target: (q: Queue<unknown>, ran: Event, out: SimpleQueue<unknown>) => {
        if (!ran.wait(30)) out.put("the hook never ran");
        out.put(q.get(true, 30));
        out.put(q.get(true, 30));
      },
      args: [q, ran, out],
    });
    taker.start();
    new Thread({
      target: () => {
        throw new Error("boom");
      },
    }).start();
    q.put({ id: 1, name: "outer", tail: [1, 2, 3] }, true, 30);
    taker.join();
    assert.equal(ran.isSet(), true);
    assert.deepEqual([out.get(false), out.get(false)], ["first", { id: 1, name: "outer", tail: [1, 2, 3] }]);
    assert.deepEqual(log.get(false), { msg: "from the hook", n: 7 });
    assert.deepEqual([simple.get(false), simple.get(false)], [{ other: "shape", list: [true] }, "short"]);
  } finally {
    setExcepthook(null);
  }
});
