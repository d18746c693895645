// The two-lock ring's lock words (src/queue/fifo.ts): P_LOCK and C_LOCK each hold a lock, its
// sleepers bit S, the other side's waiters flag X and a count, and one compare-exchange publishes a
// put (a get) and releases the lock. These tests force the interleavings of that protocol with the
// ring's test hook (beforeRelease: runs with the lock held, just before the publishing release):
// a getter (putter) that registers and sleeps while a producer (consumer) holds its lock is woken
// by that very put (get); a producer asleep on P_LOCK is woken by the release; X is cleared once
// nobody waits; the consumers' lazily published GET_BYTES never makes the ring grow when the
// exact count has room.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Empty, Queue, sleep, Thread } from "threading";
import {
  FIFO_C_EPOCH,
  FIFO_C_LOCK,
  FIFO_GET_BYTES,
  FIFO_GET_SLEEPERS,
  FIFO_GET_WAITERS,
  FIFO_OWN_GET_BYTES,
  FIFO_P_EPOCH,
  FIFO_P_LOCK,
  FIFO_PUT_BYTES,
  FIFO_PUT_SLEEPERS,
  FIFO_PUT_WAITERS,
  fifoHooks,
} from "../../dist/internal.js";

const T = { timeout: 60_000 };
const S = 2;
const X = 4;

function share(q: object): SharedArrayBuffer[] {
  const f = (q as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[Symbol.for("threading.share")];
  return f.call(q).buffers;
}

function control(q: object): Int32Array {
  return new Int32Array(share(q)[0] as SharedArrayBuffer);
}

/** Waits (bounded) until `ok()`. */
function until(ok: () => boolean, what: string): void {
  const end = Date.now() + 20_000;
  while (!ok()) {
    assert.ok(Date.now() < end, `timed out waiting until ${what}`);
    sleep(0.002);
  }
}

test("getters that register and sleep while a put holds P_LOCK are woken by that put and the next", T, () => {
  const q = new Queue<number>();
  const h = control(q);
  const got = new Int32Array(new SharedArrayBuffer(8));
  const getter = (slot: number) =>
    new Thread({
      target: (q: Queue<number>, got: Int32Array, slot: number) => {
        got[slot] = q.get(true, 20) + 1;
      },
      args: [q, got, slot],
    });
  const getters = [getter(0), getter(1)];
  let held = 0;
  fifoHooks.beforeRelease = (side) => {
    if (side !== "P") return;
    // Both getters find the queue empty, set X in P_LOCK (held by this put) and sleep.
    for (const g of getters) g.start();
    until(() => Atomics.load(h, FIFO_GET_SLEEPERS) === 2, "the getters sleep");
    held = Atomics.load(h, FIFO_P_LOCK);
  };
  try {
    q.put(41);
  } finally {
    fifoHooks.beforeRelease = undefined;
  }
  assert.ok((held & X) !== 0, "the getters set X while the put held the lock");
  // One getter was woken by that put; X is still set for the other, whom the next put wakes.
  until(() => Atomics.load(h, FIFO_GET_WAITERS) === 1, "one getter took the item");
  assert.ok((Atomics.load(h, FIFO_P_LOCK) & X) !== 0, "the release kept X");
  q.put(42);
  for (const g of getters) {
    g.join(20);
    assert.equal(g.isAlive(), false, "each getter was woken by a put");
  }
  assert.deepEqual([...got].sort(), [42, 43]);
  assert.equal(Atomics.load(h, FIFO_GET_WAITERS), 0);
  // X is cleared once no getter waits: by the last getter back under C_LOCK, or, when that getter
  // looked at GET_WAITERS before its waker took it out (the put notifies, then unregisters: a
  // woken getter can run in between), by the next consumer that reloads the puts (fifo.ts
  // available()): a stale X only costs producers a load.
  assert.throws(() => q.get(false), Empty);
  assert.equal(Atomics.load(h, FIFO_P_LOCK) & X, 0, "X is cleared once no getter waits");
  assert.equal(q.qsize(), 0);
});

test("a putter that registers and sleeps while a get holds C_LOCK is woken by that get", T, () => {
  const q = new Queue<number>(1);
  const h = control(q);
  q.put(0);
  const putter = new Thread({ target: (q: Queue<number>) => q.put(1, true, 20), args: [q] });
  putter.start();
  let held = 0;
  fifoHooks.beforeRelease = (side) => {
    if (side !== "C") return;
    until(() => Atomics.load(h, FIFO_PUT_SLEEPERS) === 1, "the putter sleeps");
    held = Atomics.load(h, FIFO_C_LOCK);
  };
  let first: number;
  try {
    first = q.get();
  } finally {
    fifoHooks.beforeRelease = undefined;
  }
  assert.equal(first, 0);
  assert.ok((held & X) !== 0, "the putter set X while the get held the lock");
  putter.join(20);
  assert.equal(putter.isAlive(), false, "the putter was woken by the get");
  assert.equal(q.get(true, 5), 1);
  assert.equal(Atomics.load(h, FIFO_PUT_WAITERS), 0);
  // (X in C_LOCK is cleared by the next putter that finds no waiter back under P_LOCK, or stays:
  // a stale X only costs a load; with none registered, a get never wakes anyone)
  assert.equal(q.qsize(), 0);
});

test("a producer asleep on P_LOCK (S set) is woken by the release, and S is cleared", T, () => {
  const q = new Queue<number>();
  const h = control(q);
  const other = new Thread({ target: (q: Queue<number>) => q.put(2), args: [q] });
  let held = 0;
  fifoHooks.beforeRelease = (side) => {
    if (side !== "P") return;
    other.start();
    // The other producer spins on the held lock, then sets S and sleeps on the word.
    until(() => (Atomics.load(h, FIFO_P_LOCK) & S) !== 0, "the other producer sleeps on P_LOCK");
    held = Atomics.load(h, FIFO_P_LOCK);
  };
  try {
    q.put(1);
  } finally {
    fifoHooks.beforeRelease = undefined;
  }
  assert.ok((held & S) !== 0);
  other.join(20);
  assert.equal(other.isAlive(), false, "the producer asleep on the lock was woken");
  assert.equal(Atomics.load(h, FIFO_P_LOCK) & 3, 0, "unlocked, S cleared");
  assert.equal(q.qsize(), 2);
  assert.equal(q.get(), 1);
  assert.equal(q.get(), 2);
});

test("freed bytes not yet published: the ring takes the room by the exact count and does not grow", T, () => {
  const q = new Queue<number>();
  const data = share(q)[1] as SharedArrayBuffer;
  const cap = data.byteLength; // 64 KiB; a number's record is 16 bytes
  const fit = cap / 16 - 1;
  for (let i = 0; i < fit; i++) q.put(i);
  // Fewer than a sixteenth of the ring freed: not published to GET_BYTES yet.
  const freed = 255;
  for (let i = 0; i < freed; i++) assert.equal(q.get(), i);
  for (let i = fit; i < fit + freed; i++) q.put(i);
  assert.equal(data.byteLength, cap, "the ring did not grow");
  for (let i = freed; i < fit + freed; i++) assert.equal(q.get(), i);
  assert.equal(q.qsize(), 0);
  // One more than fits: it grows.
  for (let i = 0; i <= cap / 16; i++) q.put(i);
  assert.ok(data.byteLength > cap);
  for (let i = 0; i <= cap / 16; i++) assert.equal(q.get(), i);
});

test("4 producers x 4 consumers through a Queue(8): every item once, in order per producer", T, () => {
  const producers = 4;
  const n = 5_000;
  const q = new Queue<number>(8);
  const h = control(q);
  const seen = new Int32Array(new SharedArrayBuffer(4 * producers * n));
  const errors = new Int32Array(new SharedArrayBuffer(4));
  const threads: Thread[] = [];
  for (let p = 0; p < producers; p++) {
    threads.push(
      new Thread({
        target: async (q: Queue<number>, p: number, n: number) => {
          for (let i = 0; i < n; i++) {
            if (i % 5 === 0) await q.putAsync(p * n + i);
            else q.put(p * n + i);
          }
        },
        args: [q, p, n],
      }),
    );
  }
  for (let c = 0; c < 4; c++) {
    threads.push(
      new Thread({
        target: async (q: Queue<number>, seen: Int32Array, errors: Int32Array, producers: number, n: number) => {
          const last = new Array(producers).fill(-1);
          for (;;) {
            const x = Math.random() < 0.2 ? await q.getAsync() : q.get();
            if (x < 0) break;
            const p = Math.floor(x / n);
            if (x <= last[p]) Atomics.add(errors, 0, 1);
            last[p] = x;
            Atomics.add(seen, x, 1);
          }
        },
        args: [q, seen, errors, producers, n],
      }),
    );
  }
  for (const t of threads) t.start();
  for (const t of threads.slice(0, producers)) t.join();
  for (let c = 0; c < 4; c++) q.put(-1);
  for (const t of threads.slice(producers)) t.join();
  assert.equal(errors[0], 0, "each consumer sees each producer's items in order");
  let wrong = 0;
  for (const s of seen) if (s !== 1) wrong++;
  assert.equal(wrong, 0, "items lost or got twice");
  assert.equal(q.qsize(), 0);
  assert.equal(Atomics.load(h, FIFO_P_LOCK) & 3, 0);
  assert.equal(Atomics.load(h, FIFO_C_LOCK) & 3, 0);
  assert.equal(Atomics.load(h, FIFO_GET_WAITERS), 0);
  assert.equal(Atomics.load(h, FIFO_PUT_WAITERS), 0);
});

test("task tracking by DONE: join() returns once every put is matched, not before", T, async () => {
  // The ring counts tasks as its puts minus DONE (no word per put): 2 producers, 2 consumers that
  // count an item before its taskDone(), joiners in the main thread, async and blocking.
  const q = new Queue<number>(16);
  const n = 10_000;
  const counted = new Int32Array(new SharedArrayBuffer(4));
  const threads: Thread[] = [];
  for (let p = 0; p < 2; p++) {
    threads.push(
      new Thread({
        target: (q: Queue<number>, n: number) => {
          for (let i = 0; i < n; i++) q.put(i);
        },
        args: [q, n],
      }),
      new Thread({
        target: (q: Queue<number>, n: number, counted: Int32Array) => {
          for (let i = 0; i < n; i++) {
            q.get();
            Atomics.add(counted, 0, 1);
            q.taskDone();
          }
        },
        args: [q, n, counted],
      }),
    );
  }
  q.put(-1); // one more than the consumers take: main takes the last item
  let resolved = false;
  const asyncJoin = q.joinAsync().then(() => {
    resolved = true;
  });
  for (const t of threads) t.start();
  for (const t of threads) {
    t.join(30);
    assert.equal(t.isAlive(), false);
  }
  assert.equal(Atomics.load(counted, 0), 2 * n);
  assert.equal(q.qsize(), 1);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(resolved, false, "joinAsync() returned with a task unfinished");
  q.get();
  q.taskDone();
  q.join();
  await asyncJoin;
  assert.throws(() => q.taskDone(), { name: "RangeError", message: "task_done() called too many times" });
});

test("shutdown(true) counts no more tasks done than are unfinished (taskDone() ahead of get())", T, () => {
  const q = new Queue<number>();
  q.put(1);
  q.put(2);
  q.taskDone(); // ahead of any get, as CPython allows
  q.shutdown(true);
  q.join();
  assert.throws(() => q.taskDone(), RangeError);
});

test(
  "3 producers into a Queue(5): caches kept across the other producers' puts never let qsize pass maxsize",
  T,
  () => {
    // Each producer keeps the gets it last loaded while the others put (fifo.ts "Per-thread
    // caches"): a stale cache only makes the queue look fuller, so no put goes past the bound, and a
    // put without blocking on a queue that is full by the exact count is Full.
    const q = new Queue<number>(5);
    const n = 6_000;
    const full = new Int32Array(new SharedArrayBuffer(4));
    const producers: Thread[] = [];
    for (let p = 0; p < 3; p++) {
      producers.push(
        new Thread({
          target: (q: Queue<number>, n: number, full: Int32Array) => {
            for (let i = 0; i < n; i++) {
              if (i % 7 === 0) {
                try {
                  q.put(i, false);
                  continue;
                } catch {
                  Atomics.add(full, 0, 1);
                }
              }
              q.put(i);
            }
          },
          args: [q, n, full],
        }),
      );
    }
    for (const t of producers) t.start();
    for (let i = 0; i < 3 * n; i++) {
      const size = q.qsize();
      assert.ok(size >= 0 && size <= 5, `qsize ${size}`);
      q.get();
    }
    for (const t of producers) t.join();
    assert.equal(q.qsize(), 0);
    // one thread alone: exact
    for (let i = 0; i < 5; i++) q.put(i, false);
    assert.throws(() => q.put(5, false), /full/);
  },
);

test(
  "a getter woken by a put is unregistered by that put, before it runs (GET_WAITERS 0: no more bumps for it)",
  T,
  async () => {
    // main's async getter sleeps; a thread puts while main is blocked in join(), so the getter's
    // callback cannot run: the put that woke it has already taken it out of GET_WAITERS (and
    // GET_SLEEPERS), so the thread's next puts do not bump NE_SEQ for it.
    const q = new Queue<number>();
    const h = control(q);
    const mine = q.getAsync(30);
    until(() => Atomics.load(h, FIFO_GET_SLEEPERS) === 1, "the async getter sleeps");
    assert.equal(Atomics.load(h, FIFO_GET_WAITERS), 1);
    const seen = new Int32Array(new SharedArrayBuffer(8));
    const t = new Thread({
      target: (q: Queue<number>, h: Int32Array, w: number, s: number, seen: Int32Array) => {
        q.put(7);
        seen[0] = Atomics.load(h, w) + 1;
        seen[1] = Atomics.load(h, s) + 1;
        q.put(8);
      },
      args: [q, h, FIFO_GET_WAITERS, FIFO_GET_SLEEPERS, seen],
    });
    t.start();
    t.join(30);
    assert.equal(t.isAlive(), false);
    assert.equal((seen[0] as number) - 1, 0, "GET_WAITERS after the put that woke the getter");
    assert.equal((seen[1] as number) - 1, 0, "GET_SLEEPERS after the put that woke the getter");
    assert.equal(await mine, 7);
    assert.equal(q.get(), 8);
    assert.equal(Atomics.load(h, FIFO_GET_WAITERS), 0);
    // and a putter woken by a get, likewise
    const b = new Queue<number>(1);
    const hb = control(b);
    b.put(0);
    const putting = b.putAsync(1, 30);
    until(() => Atomics.load(hb, FIFO_PUT_SLEEPERS) === 1, "the async putter sleeps");
    const u = new Thread({
      target: (b: Queue<number>, h: Int32Array, w: number, seen: Int32Array) => {
        seen[0] = b.get() + 1;
        seen[1] = Atomics.load(h, w) + 1;
      },
      args: [b, hb, FIFO_PUT_WAITERS, seen],
    });
    u.start();
    u.join(30);
    assert.equal(seen[0], 1);
    assert.equal((seen[1] as number) - 1, 0, "PUT_WAITERS after the get that woke the putter");
    await putting;
    assert.equal(b.get(), 1);
    assert.equal(Atomics.load(hb, FIFO_PUT_WAITERS), 0);
  },
);

/**
 * The words as other threads leave them after putting and taking `items` more items of `bytes` in
 * all (locks free, the ring as it was): the counts and byte counts wrap around, the epochs move
 * once per 2^20 items and once per 2^28 bytes.
 */
function othersMoved(h: Int32Array, items: number, bytes: number): void {
  Atomics.add(h, FIFO_P_LOCK, (items * 8) | 0);
  Atomics.add(h, FIFO_C_LOCK, (items * 8) | 0);
  for (const w of [FIFO_PUT_BYTES, FIFO_GET_BYTES, FIFO_OWN_GET_BYTES]) Atomics.add(h, w, bytes | 0);
  Atomics.add(h, FIFO_P_EPOCH, Math.floor(items / 2 ** 20) + Math.floor(bytes / 2 ** 28));
  Atomics.add(h, FIFO_C_EPOCH, Math.floor(items / 2 ** 20));
}

test("a consumer idle while other threads took 2^29 - 2 items does not take its cached puts for items", T, () => {
  const q = new Queue<number>();
  const h = control(q);
  for (const x of [1, 2, 3]) q.put(x);
  // this thread's consumer caches the puts (3), loaded at 0 gets
  assert.equal(q.get(), 1);
  const t = new Thread({
    target: (q: Queue<number>) => {
      q.get();
      q.get();
    },
    args: [q],
  });
  t.start();
  t.join();
  // The gets count (mod 2^29) is now 1 past where this thread loaded its cache, as if only its own
  // get had moved it: the cache says 2 items, the queue is empty.
  othersMoved(h, 2 ** 29 - 2, (2 ** 29 - 2) * 16);
  assert.throws(() => q.get(false), Empty);
  q.put(4);
  assert.equal(q.get(false), 4);
  assert.equal(q.qsize(), 0);
});

test(
  "a producer idle while other threads moved ~2^32 bytes through a full ring never writes over unread records",
  T,
  () => {
    const q = new Queue<number>();
    const h = control(q);
    // this thread's producer caches GET_BYTES (0), loaded at PUT_BYTES 0
    q.put(-1);
    const n = (64 * 1024) / 16; // numbers of 16 bytes that fill the ring's first 64 KiB
    const t = new Thread({
      target: (q: Queue<number>, n: number) => {
        q.get();
        for (let i = 0; i < n; i++) q.put(i);
      },
      args: [q, n],
    });
    t.start();
    t.join();
    assert.equal(q.qsize(), n);
    // PUT_BYTES (mod 2^32) back where this thread loaded its cache: by it, the ring is empty; it is full.
    const bytes = 2 ** 32 - Atomics.load(h, FIFO_PUT_BYTES);
    othersMoved(h, bytes / 16, bytes);
    q.put(n);
    const got: number[] = [];
    for (let i = 0; i <= n; i++) got.push(q.get(false));
    assert.deepEqual(
      got,
      Array.from({ length: n + 1 }, (_, i) => i),
    );
  },
);
