// SharedDict: Python dict semantics that exist here, exact totals from many threads, recovery from
// a thread that dies mid-update, and random operation sequences against a JS Map model.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { nodeOnly } from "../child.js";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { Event, KeyError, Lock, SharedDict, Thread } from "threading";
import { dictKey, dictKeyOf } from "../../dist/internal.js";

const T = { timeout: 60_000 };
/** Kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse: Node only. */
const OOM = {
  ...T,
  ...nodeOnly("kills a thread by running it out of memory under resourceLimits, which Bun and Deno refuse"),
};
/** True where a number replacing a number is written in place (x86, mem.ts TSO). */
const IN_PLACE = (process.arch === "x64" || process.arch === "ia32") && process.env.THREADING_SHARED_ATOMICS !== "1";

type Hooked = { _hookForTest(fn: ((point: string) => void) | undefined): void };
type HoldsEntry = { _holdEntryForTest(k: string, deleting?: boolean): void };

/** The bytes of a dict's buffer. */
function bytesOf(d: SharedDict<never, never> | SharedDict<number, unknown>): number {
  return (d as unknown as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[Symbol.for("threading.share")]()
    .buffers[0]?.byteLength as number;
}

test("SharedDict: get/set/has/delete/setdefault/pop/update, order, size, errors", T, () => {
  const d = new SharedDict<string | number, unknown>([
    ["a", 1],
    [2, "two"],
  ]);
  assert.equal(d.size, 2);
  assert.equal(d.get("a"), 1);
  assert.equal(d.get(2), "two");
  assert.equal(d.get("2"), undefined, "a number key and its string are two keys");
  // Python's dict.get(key, default) (before, the fallback was ignored: undefined)
  assert.equal(d.get("2", 0), 0);
  assert.equal(d.get("a", 0), 1);
  assert.equal(d.get(2, null), "two");
  assert.equal(d.has(2), true);
  assert.equal(d.set("b", { x: [1, 2n, null] }), d);
  assert.deepEqual(d.get("b"), { x: [1, 2n, null] });
  const copy = d.get("b") as { x: unknown[] };
  copy.x.push(9);
  assert.deepEqual(d.get("b"), { x: [1, 2n, null] }, "get returns a copy");
  d.set("a", 10);
  assert.deepEqual([...d.keys()], ["a", 2, "b"], "replacing keeps the place");
  assert.equal(d.delete("a"), true);
  assert.equal(d.delete("a"), false);
  d.set("a", 11);
  assert.deepEqual([...d.keys()], [2, "b", "a"], "delete + set moves to the end");
  assert.equal(d.setdefault("a", 99), 11);
  assert.equal(d.setdefault("c", 3), 3);
  assert.equal(d.pop("c"), 3);
  assert.equal(d.pop("c", "dflt"), "dflt");
  assert.equal(d.pop("c", undefined), undefined, "an explicit undefined fallback counts");
  assert.throws(
    () => d.pop("c"),
    (e: unknown) => e instanceof KeyError && (e as Error).name === "KeyError",
  );
  assert.equal(
    d.update("n", (n) => ((n as number) ?? 0) + 1),
    1,
  );
  assert.equal(
    d.update("n", (n) => (n as number) + 1),
    2,
  );
  assert.equal(d.get(-0), undefined);
  d.set(0, "zero");
  assert.equal(d.get(-0), "zero", "-0 is 0, as in a Map");
  d.set(Number.NaN, "nan");
  assert.equal(d.get(Number.NaN), "nan");
  assert.deepEqual(d.toObject(), { 2: "two", b: { x: [1, 2n, null] }, a: 11, n: 2, 0: "zero", NaN: "nan" });
  assert.deepEqual([...d.values()], ["two", { x: [1, 2n, null] }, 11, 2, "zero", "nan"]);
  d.clear();
  assert.equal(d.size, 0);
  assert.deepEqual([...d], []);
  const u = new SharedDict<string, string>();
  u.set("ü€😀", "x".repeat(100_000));
  assert.equal(u.get("ü€😀"), "x".repeat(100_000));
  u.set("m", new Map([[1, new Date(5)]]) as never);
  assert.deepEqual(u.get("m"), new Map([[1, new Date(5)]]));
  u.set("__proto__", "p");
  assert.equal(Object.getOwnPropertyDescriptor(u.toObject(), "__proto__")?.value, "p");
});

test("SharedDict: bad keys and values are errors and change nothing", T, () => {
  const d = new SharedDict<string, unknown>([["a", 1]]);
  assert.throws(() => d.set({} as never, 1), TypeError);
  assert.throws(() => d.get(null as never), TypeError);
  assert.throws(() => d.set("a", () => 1), TypeError);
  assert.throws(() => d.set("b", { f: Symbol("s") }), TypeError);
  assert.equal(d.get("a"), 1);
  assert.equal(d.has("b"), false);
  assert.throws(() => d.update("a", () => () => 2), TypeError);
  assert.equal(d.get("a"), 1, "update whose result cannot be stored changes nothing");
  assert.throws(
    () =>
      d.update("a", () => {
        throw new RangeError("boom");
      }),
    RangeError,
  );
  assert.equal(d.get("a"), 1);
  assert.throws(() => d.update("a", 3 as never), TypeError);
  assert.throws(() => new SharedDict([1] as never), TypeError);
  assert.equal(d.size, 1);
});

test("SharedDict: update's fn may use the dict (other keys, even its own stripe) in the same thread", T, () => {
  const d = new SharedDict<string, number>();
  for (let i = 0; i < 64; i++) d.set(`k${i}`, i);
  const got = d.update("total", () => {
    let sum = 0;
    for (let i = 0; i < 64; i++) sum += d.get(`k${i}`) as number;
    d.set("side", 1);
    return sum;
  });
  assert.equal(got, 2016);
  assert.equal(d.get("total"), 2016);
  assert.equal(d.get("side"), 1);
  // numbers set from fn, into every stripe (256 keys) and into the very key being updated: the
  // lock's CAS fails for the stripe this thread holds, and the re-entrant path stores them
  const again = d.update("total", (old) => {
    for (let i = 0; i < 256; i++) d.set(`n${i}`, i + 0.5);
    d.set("total", -1);
    assert.equal(d.get("total"), -1);
    return (old as number) + 1;
  });
  assert.equal(again, 2017);
  assert.equal(d.get("total"), 2017);
  for (let i = 0; i < 256; i++) assert.equal(d.get(`n${i}`), i + 0.5);
});

test("SharedDict: shared objects in values stay shared, also across threads", T, () => {
  const d = new SharedDict<string, unknown>();
  const lock = new Lock();
  d.set("lock", { lock, n: 1 });
  assert.equal((d.get("lock") as { lock: Lock }).lock, lock);
  const t = new Thread({
    target: (d: SharedDict<string, unknown>) => {
      const v = d.get("lock") as { lock: Lock };
      v.lock.acquire();
      d.set("back", v.lock);
      d.set("dict", d);
    },
    args: [d],
  });
  t.start();
  t.join();
  assert.equal(lock.locked(), true);
  assert.equal(d.get("back"), lock);
  assert.equal(d.get("dict"), d, "the dict itself comes home as itself");
});

test("SharedDict: 4 threads x 5000 word-count updates give exact totals", T, () => {
  const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
  const counts = new SharedDict<string, number>();
  const threads = [0, 1, 2, 3].map(
    (k) =>
      new Thread({
        target: (c: SharedDict<string, number>, words: string[], k: number) => {
          for (let i = 0; i < 5000; i++) c.update(words[(i + k) % words.length] as string, (n) => (n ?? 0) + 1);
          for (let i = 0; i < 500; i++) c.set(`t${k}-${i}`, i);
          for (let i = 0; i < 250; i++) c.delete(`t${k}-${i}`);
        },
        args: [counts, words, k],
      }),
  );
  for (const t of threads) t.start();
  for (const t of threads) t.join();
  let total = 0;
  for (const w of words) total += counts.get(w) as number;
  assert.equal(total, 20_000);
  for (const w of words) assert.equal(counts.get(w), 2500);
  assert.equal(counts.size, words.length + 4 * 250);
  assert.equal([...counts.keys()].length, counts.size);
});

test("SharedDict: writers that wait for a stripe held long are woken, with exact totals (sets and updates)", T, () => {
  // Every 50th update holds the key's stripe for ~2 ms (fn spins), so the other threads exhaust their
  // spin and sleep on the lock word (waiters bit); the rest are short sets and updates, whose releases
  // are plain stores on x86 when nobody waits (guard.ts). No update may be lost, no writer left asleep.
  const d = new SharedDict<string, number>([["n", 0]]);
  const M = 1500;
  const threads = [0, 1, 2].map(
    (k) =>
      new Thread({
        target: (d: SharedDict<string, number>, k: number, m: number) => {
          for (let i = 0; i < m; i++) {
            d.update("n", (n) => {
              if (i % 50 === 0) for (const t0 = performance.now(); performance.now() - t0 < 2; );
              return (n as number) + 1;
            });
            d.set(`own-${k}`, i);
            d.set("last", k);
            d.update(`count-${k}`, (n) => (n ?? 0) + 1);
          }
        },
        args: [d, k, M],
      }),
  );
  for (const t of threads) t.start();
  // meanwhile this thread holds "n"'s stripe for 0.2 s inside update: writers of that stripe sleep
  d.update("n", (n) => {
    const t0 = performance.now();
    while (performance.now() - t0 < 200);
    return (n as number) + 1;
  });
  for (const t of threads) t.join();
  assert.equal(d.get("n"), 3 * M + 1);
  for (const k of [0, 1, 2]) {
    assert.equal(d.get(`own-${k}`), M - 1);
    assert.equal(d.get(`count-${k}`), M);
  }
  assert.ok([0, 1, 2].includes(d.get("last") as number));
  // a writer asleep on a held stripe is woken by the release (notify), then writes
  const w = new SharedDict<string, number>([["x", 0]]);
  const t = new Thread({ target: (w: SharedDict<string, number>) => w.set("x", 2), args: [w] });
  w.update("x", () => {
    t.start();
    const t0 = performance.now();
    while (performance.now() - t0 < 300); // t exhausts its spin and sleeps
    return 1;
  });
  t.join();
  assert.equal(w.get("x"), 2);
});

test("SharedDict: a stripe lock left by a dead thread is recovered; the dict stays usable", T, () => {
  const d = new SharedDict<string, number>([["x", 1]]);
  // The thread takes x's stripe lock and opens a write (sequence odd), then ends without releasing:
  // exactly what a thread killed inside a write leaves behind. Isolated, so that its worker exits
  // with it, as a killed thread's does (on a worker that lives on, code the thread left could still
  // hold the lock: guard.ts).
  const t = new Thread({
    target: (d: SharedDict<string, number>) => d._holdStripeForTest("x"),
    args: [d],
    isolated: true,
  });
  t.start();
  t.join();
  assert.equal(d.get("x"), 1, "a reader falls back to the lock, recovers it and reads");
  d.set("x", 2);
  assert.equal(
    d.update("x", (n) => (n as number) + 1),
    3,
  );
  assert.equal(d.size, 1);
  // killed between publishing a bigger index and the cap its lock holders read: recounted too
  const big = new SharedDict<string, number>();
  for (let i = 0; i < 2000; i++) big.set(`k${i}`, i);
  const t2 = new Thread({
    target: (d: SharedDict<string, number>) => d._holdStripeForTest("k0", true),
    args: [big],
    isolated: true,
  });
  t2.start();
  t2.join();
  for (let i = 0; i < 2000; i++) big.set(`k${i}`, i + 0.5);
  for (let i = 2000; i < 2200; i++) big.set(`k${i}`, i + 0.5);
  assert.equal(big.size, 2200);
  for (let i = 0; i < 2200; i++) assert.equal(big.get(`k${i}`), i + 0.5);
});

test("SharedDict: a thread killed inside update (out of memory in fn) leaves the dict usable", OOM, () => {
  const d = new SharedDict<string, number>([
    ["x", 1],
    ["y", 5],
  ]);
  const t = new Thread({
    target: (d: SharedDict<string, number>) => {
      d.update("x", () => {
        const hog: number[][] = [];
        for (;;) hog.push(new Array(100_000).fill(1));
      });
    },
    args: [d],
    resourceLimits: { maxOldGenerationSizeMb: 64 },
  });
  t.start();
  t.join();
  assert.equal(t.isAlive(), false);
  assert.equal(d.get("x"), 1, "the update never happened: the old value stands");
  d.set("x", 2);
  assert.equal(
    d.update("y", (n) => (n as number) + 1),
    6,
  );
  assert.deepEqual(
    [...d],
    [
      ["x", 2],
      ["y", 6],
    ],
  );
});

test("SharedDict: process.exit() inside update's fn leaves the old value and a free lock", T, () => {
  const d = new SharedDict<string, number>([["x", 1]]);
  const t = new Thread({
    target: (d: SharedDict<string, number>) => {
      d.update("x", () => {
        process.exit(0);
      });
    },
    args: [d],
  });
  t.start();
  t.join();
  assert.equal(d.get("x"), 1);
  assert.equal(
    d.update("x", (n) => (n as number) + 1),
    2,
  );
});

test("SharedDict: 2-4 threads mixing update/set/delete/insert on disjoint and shared keys give exact totals", T, () => {
  // Shared keys: every thread adds 1 to them by update, and pops them (a delete racing the updates of
  // the same key), keeping what it popped; setdefault(k, 0) changes no total. So, for every shared
  // key, what is left plus what was popped is exactly the number of updates. Own keys: set, update,
  // delete and insert by one thread, with a known end state; all of them in every stripe.
  for (const n of [2, 4]) {
    const d = new SharedDict<string, number>();
    const M = 3000;
    const SHARED = 8;
    const threads = Array.from(
      { length: n },
      (_, k) =>
        new Thread({
          target: (d: SharedDict<string, number>, k: number, m: number, shared: number) => {
            const popped = new Array<number>(shared).fill(0);
            for (let i = 0; i < m; i++) {
              const s = i % shared;
              d.update(`s${s}`, (v) => (v ?? 0) + 1);
              if (i % 7 === k) popped[(i * 3) % shared] += d.pop(`s${(i * 3) % shared}`, 0);
              if (i % 11 === 0) d.setdefault(`s${(i * 5) % shared}`, 0);
              if (i % 10 === 0) {
                // values in blocks (entry lock and stripe lock): a string grown by one letter a time
                (d as unknown as SharedDict<string, string>).update("letters", (v) => `${v ?? ""}${"abcd"[k]}`);
                (d as unknown as SharedDict<string, string>).set("last", `${k}:${i}`);
              }
              const own = `own${k}-${i % 37}`;
              switch (i % 4) {
                case 0:
                  d.set(own, i);
                  break;
                case 1:
                  d.update(own, (v) => (v ?? -1000) + 1);
                  break;
                case 2:
                  d.delete(own);
                  break;
                default:
                  d.set(`ins${k}-${i}`, i); // an insert
              }
            }
            for (let s = 0; s < shared; s++) d.set(`popped${k}-${s}`, popped[s] as number);
          },
          args: [d, k, M, SHARED],
        }),
    );
    for (const t of threads) t.start();
    for (const t of threads) t.join();
    for (let s = 0; s < SHARED; s++) {
      let total = d.get(`s${s}`) ?? 0;
      for (let k = 0; k < n; k++) total += d.get(`popped${k}-${s}`) as number;
      assert.equal(total, (n * M) / SHARED, `shared key s${s} with ${n} threads`);
    }
    const letters = (d as unknown as SharedDict<string, string>).get("letters") as string;
    assert.equal(letters.length, (n * M) / 10, "no lost update of a value in a block");
    for (let k = 0; k < n; k++) assert.equal(letters.split("abcd"[k] as string).length - 1, M / 10);
    assert.match((d as unknown as SharedDict<string, string>).get("last") as string, /^\d:\d+0$/);
    // own keys: the same sequence on a JS Map (one thread's keys, so the order of its ops is known)
    const model = new Map<string, number>();
    for (let i = 0; i < M; i++) {
      const own = `own-${i % 37}`;
      if (i % 4 === 0) model.set(own, i);
      else if (i % 4 === 1) model.set(own, (model.get(own) ?? -1000) + 1);
      else if (i % 4 === 2) model.delete(own);
    }
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < 37; j++) assert.equal(d.get(`own${k}-${j}`), model.get(`own-${j}`), `own${k}-${j}`);
      for (let i = 3; i < M; i += 4) assert.equal(d.get(`ins${k}-${i}`), i);
    }
    assert.equal([...d.keys()].length, d.size);
  }
});

test("SharedDict: a delete overtaking an update of the same key (hook-forced) is seen by the update", T, () => {
  // The hook runs when update has found the key's entry and is about to take its lock; there this
  // thread deletes the key (as another thread could): the update must see that, and store fn(undefined)
  // as a new key (last in the order); or fn(the new value) when the key came back meanwhile, in
  // the same block or another, whose old life must not be written.
  const cases: [string, (d: SharedDict<string, number>) => void, number | undefined][] = [
    ["deleted", (d) => d.delete("k"), undefined],
    ["deleted and set again", (d) => (d.delete("k"), d.set("k", 5)), 5],
    [
      "deleted, its block reused by other keys",
      (d) => {
        d.delete("k");
        for (let i = 0; i < 100; i++) d.set(`o${i}`, i);
      },
      undefined,
    ],
    ["deleted, then updated itself", (d) => (d.delete("k"), d.update("k", (v) => (v ?? 0) + 7)), 7],
  ];
  for (const [what, overtake, seen] of cases) {
    const d = new SharedDict<string, number>([
      ["a", 1],
      ["k", 2],
      ["z", 3],
    ]);
    let fired = false;
    (d as unknown as Hooked)._hookForTest((p) => {
      if (p !== "grab" || fired) return;
      fired = true;
      overtake(d);
    });
    let got: number | undefined = -1;
    const r = d.update("k", (v) => {
      got = v;
      return (v ?? 100) + 1;
    });
    (d as unknown as Hooked)._hookForTest(undefined);
    assert.equal(fired, true, what);
    assert.equal(got, seen, `${what}: fn saw the value after the overtaking write`);
    assert.equal(r, (seen ?? 100) + 1, what);
    assert.equal(d.get("k"), r, what);
    const keys = [...d.keys()];
    assert.equal(keys.at(-1), "k", `${what}: re-inserted last`);
    assert.equal(keys.length, d.size, what);
    for (const [k, v] of [
      ["a", 1],
      ["z", 3],
    ] as const)
      assert.equal(d.get(k), v, what);
    if (what.includes("reused")) for (let i = 0; i < 100; i++) assert.equal(d.get(`o${i}`), i, what);
  }
  // fn deleting its own key: the update stores its result as a new key; a delete in another thread
  // waits for the update's end (the entry's lock) and then deletes the updated key
  const d = new SharedDict<string, number>([
    ["k", 1],
    ["z", 2],
  ]);
  assert.equal(
    d.update("k", (v) => {
      assert.equal(d.delete("k"), true);
      assert.equal(d.get("k"), undefined);
      return (v as number) + 1;
    }),
    2,
  );
  assert.deepEqual([...d.keys()], ["z", "k"]);
  const gone = new SharedDict<string, boolean>();
  const t = new Thread({
    target: (d: SharedDict<string, number>, gone: SharedDict<string, boolean>) => gone.set("r", d.delete("k")),
    args: [d, gone],
  });
  d.update("k", (v) => {
    t.start();
    const t0 = performance.now();
    while (performance.now() - t0 < 100); // the delete waits for this update's end
    assert.equal(d.get("k"), 2);
    return (v as number) + 1;
  });
  t.join();
  assert.equal(gone.get("r"), true);
  assert.equal(d.get("k"), undefined);
  assert.deepEqual([...d.keys()], ["z"]);
  // an update whose fn throws for an absent key leaves nothing behind
  assert.throws(() => d.update("new", () => assert.fail("boom")));
  assert.equal(d.has("new"), false);
  assert.deepEqual([...d], [["z", 2]]);
  assert.equal(d.size, 1);
});

test("SharedDict: an entry lock left by a dead thread (in update, in delete) is recovered; all or nothing", T, () => {
  // A thread that ends holding x's entry lock: as one killed inside update. Writers of x wait for
  // the dead owner (CHECK_MS), take the lock over; x keeps its value; other keys were never held.
  const d = new SharedDict<string, number>([
    ["x", 1],
    ["y", 2],
  ]);
  const t = new Thread({
    target: (d: SharedDict<string, number>) => (d as unknown as HoldsEntry)._holdEntryForTest("x"),
    args: [d],
    isolated: true,
  });
  t.start();
  t.join();
  assert.equal(d.get("x"), 1);
  for (let i = 0; i < 200; i++) d.set(`o${i}`, i);
  assert.equal(
    d.update("x", (n) => (n as number) + 1),
    2,
  );
  assert.equal(d.delete("x"), true);
  d.set("x", 9);
  assert.equal(d.get("x"), 9);
  // ended inside delete, after the entry was marked and before it left the index: the first writer
  // of the key finishes the delete, then writes
  const t2 = new Thread({
    target: (d: SharedDict<string, number>) => (d as unknown as HoldsEntry)._holdEntryForTest("y", true),
    args: [d],
    isolated: true,
  });
  t2.start();
  t2.join();
  assert.equal(d.get("y"), 2, "the delete has not happened for readers");
  d.set("y", 3);
  assert.equal(d.get("y"), 3);
  assert.equal([...d.keys()].at(-1), "y", "deleted, then inserted anew: last");
  assert.equal(d.size, 202);
  assert.equal([...d.keys()].length, 202);
});

test(
  "SharedDict: a thread killed holding an entry lock (out of memory in update's fn) holds up only that key",
  OOM,
  () => {
    const d = new SharedDict<string, number>([["x", 1]]);
    const inFn = new Event();
    const othersDone = new Event();
    const t = new Thread({
      target: (d: SharedDict<string, number>, inFn: Event, othersDone: Event) => {
        d.update("x", () => {
          inFn.set();
          othersDone.wait(); // the main thread writes other keys meanwhile: it must not wait for this one
          const hog: number[][] = [];
          for (;;) hog.push(new Array(100_000).fill(1));
        });
      },
      args: [d, inFn, othersDone],
      resourceLimits: { maxOldGenerationSizeMb: 64 },
    });
    t.start();
    inFn.wait();
    // 300 keys over every stripe, x's included: set, updated, deleted, while x's entry is held
    for (let i = 0; i < 300; i++) d.set(`o${i}`, i);
    for (let i = 0; i < 300; i++) d.update(`o${i}`, (n) => (n as number) * 2);
    for (let i = 0; i < 300; i += 3) d.delete(`o${i}`);
    assert.equal(d.get("x"), 1, "readers are not held up either");
    othersDone.set();
    t.join();
    assert.equal(d.get("x"), 1, "the killed update never happened");
    assert.equal(
      d.update("x", (n) => (n as number) + 1),
      2,
    );
    for (let i = 0; i < 300; i++) assert.equal(d.get(`o${i}`), i % 3 === 0 ? undefined : 2 * i);
    assert.equal(d.size, 201);
  },
);

test("SharedDict: a number written over an existing key's number takes no stripe lock (x86: the words it writes are the key's own)", {
  ...T,
  skip: IN_PLACE ? false : "elsewhere than x86 a number replacing a number goes to a block, under the stripe's lock",
}, () => {
  // What lets threads on different keys scale: set and update of existing keys with numbers write only
  // their entry's cache line (its lock and its number), never a stripe's lock, sequence, counts or free
  // lists, nor the header's allocation pointer or order counter (all written only under a stripe's lock).
  const d = new SharedDict<string, number | string>();
  for (let i = 0; i < 200; i++) d.set(`k${i}`, i);
  let stripes = 0;
  (d as unknown as Hooked)._hookForTest((p) => {
    if (p === "stripe") stripes++;
  });
  for (let r = 0; r < 20; r++) {
    for (let i = 0; i < 200; i++) {
      d.update(`k${i}`, (n) => (n as number) + 1);
      d.set(`k${(i * 7) % 200}`, r * 1000 + i + 0.5);
    }
  }
  assert.equal(stripes, 0, "no stripe lock taken");
  d.set("k1", "a string"); // (a value block: the stripe's free lists)
  d.set("new", 1); // (an insert)
  (d as unknown as Hooked)._hookForTest(undefined);
  assert.ok(stripes >= 2, "the hook counts the stripe locks taken");
  assert.equal(d.get("k1"), "a string");
  assert.equal(d.size, 201);
});

/** `n` string keys (prefix `p`) in the stripe of `k` (the same key length, so the same entry block class). */
function keysInStripeOf(k: string, p: string, n: number): string[] {
  dictKeyOf(k, "test");
  const s = dictKey.hash >>> 26;
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const c = `${p}${String(i).padStart(k.length - p.length, "0")}`;
    dictKeyOf(c, "test");
    if (dictKey.hash >>> 26 === s && c !== k) out.push(c);
  }
  return out;
}

test(
  "SharedDict: set() through this thread's entry cache after the entry was deleted, reused for another key, or changed kind in another thread",
  T,
  () => {
    // set() of a number remembers where its key's entry is (x86); these are the ways that record goes
    // stale, each made by another thread between two sets of this one. Every result is exact.
    const d = new SharedDict<string, number | string>();
    d.set("alpha", 1);
    d.set("alpha", 2); // (cached now)
    assert.equal(d.get("alpha"), 2);
    const [other] = keysInStripeOf("alpha", "o", 1) as [string];
    // 1. deleted, and its block reused at once for another key of its stripe (the stripe's free list)
    let t = new Thread({
      target: (d: SharedDict<string, number | string>, other: string) => {
        d.delete("alpha");
        d.set(other, 100);
      },
      args: [d, other],
    });
    t.start();
    t.join();
    assert.equal(d.get("alpha"), undefined, "deleted: get() does not read the key that reused its entry");
    assert.equal(d.has("alpha"), false);
    d.set("alpha", 3);
    assert.equal(d.get(other), 100, "the key that reused the entry keeps its value");
    assert.equal(d.get("alpha"), 3);
    assert.deepEqual([...d.keys()], [other, "alpha"], "alpha was inserted again, last");
    d.set("alpha", 4); // (cached again: the new entry)
    // 2. deleted and inserted again (a new life of some block), with a value block in between
    t = new Thread({
      target: (d: SharedDict<string, number | string>, other: string) => {
        d.delete("alpha");
        d.delete(other);
        d.set("alpha", "a string");
        d.set(other, 200);
      },
      args: [d, other],
    });
    t.start();
    t.join();
    assert.equal(d.get("alpha"), "a string");
    d.set("alpha", 5);
    assert.equal(d.get("alpha"), 5);
    assert.equal(d.get(other), 200);
    d.set("alpha", 6);
    // 3. its value replaced by a block (not a number in the entry), then by a number again
    t = new Thread({
      target: (d: SharedDict<string, number | string>) => {
        d.set("alpha", "x".repeat(40));
      },
      args: [d],
    });
    t.start();
    t.join();
    assert.equal(d.get("alpha"), "x".repeat(40));
    d.set("alpha", 7);
    assert.equal(d.get("alpha"), 7);
    // 4. cleared, then refilled
    t = new Thread({
      target: (d: SharedDict<string, number | string>, other: string) => {
        d.clear();
        d.set(other, 300);
        d.set("alpha", 301);
      },
      args: [d, other],
    });
    t.start();
    t.join();
    assert.equal(d.get("alpha"), 301);
    d.set("alpha", 8);
    assert.deepEqual(
      [...d.entries()],
      [
        [other, 300],
        ["alpha", 8],
      ],
    );
    // 5. update()'s fn setting its own (cached) key: the lock is this thread's already (re-entered)
    d.set("alpha", 9);
    d.update("alpha", (v) => {
      d.set("alpha", 10);
      return (d.get("alpha") as number) + (v as number);
    });
    assert.equal(d.get("alpha"), 19);
    assert.equal(d.size, 2);
    // 6. a key only read by this thread (get() caches it too), deleted and its block reused in another
    const [other2] = keysInStripeOf("beta", "p", 1) as [string];
    const r = new SharedDict<string, number>();
    let t2 = new Thread({ target: (r: SharedDict<string, number>) => r.set("beta", 1), args: [r] });
    t2.start();
    t2.join();
    assert.equal(r.get("beta"), 1);
    assert.equal(r.get("beta"), 1); // (cached)
    t2 = new Thread({
      target: (r: SharedDict<string, number>, other2: string) => {
        r.delete("beta");
        r.set(other2, 2);
      },
      args: [r, other2],
    });
    t2.start();
    t2.join();
    assert.equal(r.get("beta"), undefined);
    assert.equal(r.get(other2), 2);
    r.set("beta", 3);
    assert.deepEqual(
      [...r.entries()],
      [
        [other2, 2],
        ["beta", 3],
      ],
    );
  },
);

test(
  "SharedDict: set() through the entry cache after the buffer grew in another thread, and with more keys than it holds",
  T,
  () => {
    const d = new SharedDict<string, number>();
    for (let i = 0; i < 50; i++) d.set(`k${i}`, i);
    for (let i = 0; i < 50; i++) d.set(`k${i}`, i + 1); // (cached)
    const before = bytesOf(d as unknown as SharedDict<number, unknown>);
    const t = new Thread({
      target: (d: SharedDict<string, number>) => {
        for (let i = 0; i < 20_000; i++) d.set(`grow-${i}`, i);
        for (let i = 0; i < 50; i += 2) d.delete(`k${i}`);
      },
      args: [d],
    });
    t.start();
    t.join();
    assert.ok(bytesOf(d as unknown as SharedDict<number, unknown>) > before, "the buffer grew");
    for (let i = 0; i < 50; i++) d.set(`k${i}`, i + 2);
    for (let i = 0; i < 50; i++) assert.equal(d.get(`k${i}`), i + 2);
    assert.equal(d.size, 20_050);
    // more keys than a thread's cache holds (4096), written in rounds: every value exact
    for (let r = 0; r < 3; r++) for (let i = 0; i < 20_000; i++) d.set(`grow-${i}`, i * 10 + r);
    for (let i = 0; i < 20_000; i++) assert.equal(d.get(`grow-${i}`), i * 10 + 2);
    assert.equal(d.size, 20_050);
  },
);

test(
  "SharedDict: string keys read and written through threads' entry caches while another thread deletes, reinserts and reuses their entries: every value is its key's",
  T,
  () => {
    // Each value names its key (number: v % 1000 === k + 0.25); 40 string keys over 16 stripes, so deleted
    // entries' blocks are reused by other keys of their stripe. Two threads get and set numbers (their
    // caches), the main thread mixes every write; a cached entry used after its key moved would show
    // another key's value or put this key's value under another key.
    type Val = number | string;
    const d = new SharedDict<string, Val>();
    const done = new Lock();
    done.acquire();
    const bad = new SharedDict<string, string>();
    const others = [0, 1].map(
      (w) =>
        new Thread({
          target: (d: SharedDict<string, Val>, done: Lock, bad: SharedDict<string, string>, w: number) => {
            let i = 0;
            do {
              for (let k = 0; k < 40; k++) {
                const v = d.get(`k${k}`);
                if (v !== undefined && (typeof v === "number" ? v % 1000 !== k + 0.25 : !v.startsWith(`${k}:`)))
                  bad.set(`${w}:get k${k}`, JSON.stringify(v));
                if ((k + i) % 3 === w) d.set(`k${k}`, (i % 5000) * 1000 + k + 0.25);
              }
              i++;
            } while (done.locked());
          },
          args: [d, done, bad, w],
        }),
    );
    for (const t of others) t.start();
    for (let i = 0; i < 20_000; i++) {
      const k = i % 40;
      const key = `k${k}`;
      switch (Math.floor(i / 40) % 5) {
        case 0:
        case 3:
          d.set(key, (i % 5000) * 1000 + k + 0.25);
          break;
        case 1:
          d.set(key, `${k}:${"x".repeat(i % 30)}`);
          break;
        case 2:
          d.update(key, (v) => (typeof v === "number" ? v : (i % 5000) * 1000 + k + 0.25));
          break;
        default:
          d.delete(key);
          if (i % 400 === 160) for (let j = 0; j < 200; j++) d.set(`f${j}`, 0.5); // other keys take the blocks
          if (i % 400 === 360) for (let j = 0; j < 200; j++) d.delete(`f${j}`);
      }
    }
    done.release();
    for (const t of others) t.join();
    assert.deepEqual([...bad], []);
    for (const [k, v] of d) {
      if (k.startsWith("f")) assert.equal(v, 0.5, k);
      else
        assert.ok(typeof v === "number" ? v % 1000 === Number(k.slice(1)) + 0.25 : v.startsWith(`${k.slice(1)}:`), k);
    }
  },
);

test("SharedDict: random operation sequences behave as a JS Map", T, () => {
  const keyArb = fc.oneof(fc.constantFrom("a", "b", "c", "dd", "long-key-".repeat(5)), fc.integer({ min: -3, max: 3 }));
  const valArb = fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 4 }));
  const opArb = fc.oneof(
    fc.tuple(fc.constant("set"), keyArb, valArb),
    fc.tuple(fc.constant("delete"), keyArb, valArb),
    fc.tuple(fc.constant("get"), keyArb, valArb),
    fc.tuple(fc.constant("pop"), keyArb, valArb),
    fc.tuple(fc.constant("setdefault"), keyArb, valArb),
    fc.tuple(fc.constant("update"), keyArb, valArb),
    fc.tuple(fc.constant("clear"), keyArb, valArb),
  );
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const d = new SharedDict<string | number, unknown>();
      const m = new Map<string | number, unknown>();
      for (const [op, k, v] of ops) {
        switch (op) {
          case "set":
            d.set(k, v);
            m.set(k, v);
            break;
          case "delete":
            assert.equal(d.delete(k), m.delete(k));
            break;
          case "get":
            assert.deepEqual(d.get(k), m.get(k));
            assert.equal(d.has(k), m.has(k));
            break;
          case "pop": {
            const want = m.has(k) ? m.get(k) : "none";
            m.delete(k);
            assert.deepEqual(d.pop(k, "none"), want);
            break;
          }
          case "setdefault":
            if (!m.has(k)) m.set(k, v);
            assert.deepEqual(d.setdefault(k, v), m.get(k));
            break;
          case "update":
            m.set(k, [m.get(k) ?? null, v]);
            d.update(k, (old) => [old ?? null, v]);
            break;
          case "clear":
            d.clear();
            m.clear();
            break;
        }
        assert.equal(d.size, m.size);
      }
      assert.deepEqual([...d], [...m]);
    }),
    { numRuns: 300 },
  );
});

test("SharedDict: storage grows, and is reused after deletes", T, () => {
  const d = new SharedDict<number, string>();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5000; i++) d.set(i, `value ${i}`);
    assert.equal(d.size, 5000);
    for (let i = 0; i < 5000; i++) assert.equal(d.pop(i), `value ${i}`);
    assert.equal(d.size, 0);
  }
  const bytes = bytesOf(d as never);
  assert.ok(bytes < 4 * 1024 * 1024, `three rounds reuse the memory of the first (${bytes} bytes)`);
});

test("SharedDict: a number stored in its entry, replaced in place or by a block, and back", T, () => {
  // A number lives in its key's entry (x86: a number replacing it is written in place); any other
  // value in a block of its own. Every way between the two, through every call.
  const d = new SharedDict<number, unknown>();
  const model = new Map<number, unknown>();
  const kinds = [(i: number) => i + 0.5, (i: number) => `s${i}`, (i: number) => ({ i }), () => null, (i: number) => -i];
  for (let round = 0; round < 40; round++) {
    for (let k = 0; k < 300; k++) {
      const v = (kinds[(k + round) % kinds.length] as (i: number) => unknown)(round * 1000 + k);
      switch ((k * 7 + round) % 4) {
        case 0:
          d.set(k, v);
          model.set(k, v);
          break;
        case 1:
          assert.deepEqual(
            d.update(k, () => v),
            v,
          );
          model.set(k, v);
          break;
        case 2:
          if (!model.has(k)) model.set(k, v);
          assert.deepEqual(d.setdefault(k, v), model.get(k));
          break;
        default:
          if (round % 5 === 4) {
            assert.deepEqual(d.pop(k, "none"), model.has(k) ? model.get(k) : "none");
            model.delete(k);
          } else {
            d.set(k, v);
            model.set(k, v);
          }
      }
      assert.deepEqual(d.get(k), model.get(k));
    }
    if (round === 0) assert.deepEqual([...d], [...model]);
  }
  assert.deepEqual([...d], [...model]);
  // numbers replacing numbers, in place or not, take no memory; the kinds going back and forth reuse theirs
  const before = bytesOf(d);
  for (let r = 0; r < 50; r++) for (let k = 0; k < 300; k++) d.set(k, r % 10 === 5 ? `r${r}` : r + k / 7);
  for (let k = 0; k < 300; k++) assert.equal(d.get(k), 49 + k / 7);
  assert.equal(bytesOf(d), before);
  // update of a number by a number, with fn writing its own key meanwhile: fn's result wins
  d.set(1, 1);
  assert.equal(
    d.update(1, (n) => {
      d.set(1, 100);
      return (n as number) + 1;
    }),
    2,
  );
  assert.equal(d.get(1), 2);
});

test("SharedDict: a reader overtaken between the steps of a read returns a whole value, old or new (hooks)", T, () => {
  // The hook runs in the reader's own thread, between its read of the entry's value word and of the
  // value ("value"), or between the two words of a number elsewhere than x86 ("half"); there the
  // test writes: in place (x86), a number where a block was and back, a delete, a delete whose
  // entry block is reused by another key. The reader must return the value before or after the
  // write, whole: never a mixture, never another key's value.
  const d = new SharedDict<string, unknown>();
  const seen = new Set<string>();
  const writes: [string, unknown, (d: SharedDict<string, unknown>) => void, unknown][] = [
    ["in place", 1.5, (d) => d.set("k", -2.25e300), -2.25e300],
    ["number to string", 1.5, (d) => d.set("k", "str"), "str"],
    ["string to number", "str", (d) => d.set("k", 7.75), 7.75],
    ["object to number", { a: [1, 2] }, (d) => d.set("k", 2 ** 60 + 2 ** 8), 2 ** 60 + 2 ** 8],
    ["number by update", 3, (d) => d.update("k", (n) => (n as number) * 1e200), 3e200],
    ["deleted", 1.5, (d) => d.delete("k"), undefined],
    [
      "entry reused by another key",
      1.5,
      (d) => {
        d.delete("k");
        for (let i = 0; i < 50; i++) d.set(`o${i}`, 1e100 + i);
      },
      undefined,
    ],
  ];
  for (const [what, before, write, after] of writes) {
    for (const point of ["value", "half"]) {
      d.clear();
      d.set("k", before);
      let fired = false;
      (d as unknown as Hooked)._hookForTest((p) => {
        seen.add(p);
        if (p !== point || fired) return;
        fired = true;
        write(d);
      });
      const got = d.get("k");
      (d as unknown as Hooked)._hookForTest(undefined);
      if (point === "half" && IN_PLACE) {
        assert.equal(fired, false, "x86 reads a number with one load: no half");
        continue;
      }
      if (point === "half" && typeof before !== "number") continue;
      assert.equal(fired, true, `${what}: the hook ran at ${point}`);
      assert.ok(
        isDeepStrictEqual(got, before) || isDeepStrictEqual(got, after),
        `${what} at ${point}: got ${String(got)}, want ${String(before)} or ${String(after)}`,
      );
      // (this implementation validates every read against the stripe's sequence, so the read after
      // the write sees it: a write in place is read, any other write made the read retry)
      assert.deepEqual(got, after);
      assert.deepEqual(d.get("k"), after);
    }
  }
  assert.ok(seen.has("value"));
  assert.equal(seen.has("half"), !IN_PLACE);
});

test("SharedDict: the tests of shared memory where numbers are never written in place (every word through Atomics, as on ARM)", {
  ...T,
  skip: IN_PLACE ? false : "this is that run",
  ...nodeOnly("runs this file again under node --test"),
}, () => {
  // (without the runner's NODE_TEST_CONTEXT, the child reports as a run of its own)
  const env: NodeJS.ProcessEnv = { ...process.env, THREADING_SHARED_ATOMICS: "1" };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      "--test-reporter=tap",
      "--test-name-pattern=random|whole|in its entry|overtaken|overtaking|killed|dead thread|exact totals",
      fileURLToPath(import.meta.url),
    ],
    { env, encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /# pass [1-9]/);
  assert.match(r.stdout, /# fail 0/);
});

test(
  "SharedDict: readers in other threads see only whole values while a writer replaces, inserts and deletes",
  T,
  () => {
    // Every value names its key and is self-checking; the writer changes value kinds (number, short and
    // long string, object), so blocks of every size are freed and reused while readers read them.
    type Val = number | string | { k: number; i: number; s: string };
    const d = new SharedDict<number, Val>();
    const done = new Lock();
    done.acquire();
    const bad = new SharedDict<string, string>();
    const readers = [0, 1].map(
      () =>
        new Thread({
          target: (d: SharedDict<number, Val>, done: Lock, bad: SharedDict<string, string>) => {
            do {
              for (let k = 0; k < 40; k++) {
                const v = d.get(k);
                if (v === undefined) continue;
                const ok =
                  typeof v === "number"
                    ? v % 1000 === k + 0.25
                    : typeof v === "string"
                      ? v.startsWith(`${k}:`) && /^\d+:x*$/.test(v)
                      : v.k === k && v.s === "y".repeat(v.i % 20);
                if (!ok) bad.set(`${k}`, JSON.stringify(v));
              }
            } while (done.locked());
          },
          args: [d, done, bad],
        }),
    );
    for (const r of readers) r.start();
    for (let i = 0; i < 30_000; i++) {
      const k = i % 40;
      switch (Math.floor(i / 40) % 7) {
        case 0:
        case 4: // (a number replacing a number is written in place)
          d.set(k, i * 1000 + k + 0.25);
          break;
        case 1:
          d.set(k, `${k}:${"x".repeat(i % 70)}`);
          break;
        case 2:
          d.set(k, { k, i, s: "y".repeat(i % 20) });
          break;
        case 3:
          d.update(k, () => `${k}:`);
          break;
        case 5:
          d.update(k, (v) => (typeof v === "number" ? v + 1000 : i * 1000 + k + 0.25));
          break;
        default:
          if (i % 3 === 0) d.delete(k);
          if (i % 1000 === 4) for (let j = 1000; j < 1100; j++) d.set(j, j * 1000 + 1); // index growth
          if (i % 1000 === 504) for (let j = 1000; j < 1100; j++) d.delete(j); // and shrinking
      }
    }
    done.release();
    for (const r of readers) r.join();
    assert.deepEqual([...bad], []);
  },
);

/** `n` distinct string keys of one length that fall in one stripe (the top 4 bits of their hash). */
function keysInOneStripe(n: number): string[] {
  const byStripe = new Map<number, string[]>();
  for (let i = 100; ; i++) {
    const k = `k${i}`;
    dictKeyOf(k, "test");
    const s = dictKey.hash >>> 26;
    const list = byStripe.get(s) ?? [];
    list.push(k);
    byStripe.set(s, list);
    if (list.length === n) return list;
  }
}

for (const how of ["delete", "pop", "clear"] as const) {
  test(
    `SharedDict: update's fn that ${how === "clear" ? "clears the dict" : `${how}s its own key`} and inserts another key of its stripe: that key's writers in other threads never wait for the fn`,
    T,
    () => {
      // The entry of the updated key is locked by update() until fn returns. Its block went back to
      // the stripe's free list at the delete, so the next insert of the stripe (b, same size class)
      // reused it while it was still locked: every writer of b waited for this fn (and, had fn then
      // waited for one of them, deadlocked).
      const [a, b] = keysInOneStripe(2) as [string, string];
      const d = new SharedDict<string, unknown>();
      d.set(a, 1);
      const wrote = new Event();
      const t = new Thread({
        target: (d: SharedDict<string, unknown>, b: string, wrote: Event) => {
          d.set(b, "from the thread");
          d.update(b, (v) => `${v} and its update`);
          wrote.set();
        },
        args: [d, b, wrote],
      });
      const result = d.update(a, (old) => {
        assert.equal(old, 1);
        if (how === "delete") assert.equal(d.delete(a), true);
        else if (how === "pop") assert.equal(d.pop(a), 1);
        else d.clear();
        d.set(b, "x");
        t.start();
        assert.equal(wrote.wait(10), true, `the thread's writes of ${b} waited for this fn`);
        return 2;
      });
      t.join();
      assert.equal(result, 2);
      assert.equal(d.get(a), 2);
      assert.equal(d.get(b), "from the thread and its update");
      assert.deepEqual([...d.keys()].sort(), [a, b].sort());
      // the deferred entry block is reused once freed: many more inserts and deletes stay consistent
      for (let i = 0; i < 200; i++) d.set(`z${i}`, i);
      for (let i = 0; i < 200; i++) d.delete(`z${i}`);
      assert.equal(d.size, 2);
    },
  );
}

test(
  "SharedDict: get(key, fallback) gives the fallback for a missing key on every read path (cached, inline, block, deleted)",
  T,
  () => {
    const d = new SharedDict<string, unknown>();
    const counts = new SharedDict<string, number>();
    for (let i = 0; i < 3; i++) counts.set("w", counts.get("w", 0) + 1);
    assert.equal(counts.get("w"), 3);
    d.set("n", 1.5); // an inline number, cached by this thread's reads
    for (let i = 0; i < 3; i++) assert.equal(d.get("n", 0), 1.5);
    d.delete("n");
    assert.equal(d.get("n", "gone"), "gone", "a cached entry deleted since");
    d.set("o", { big: "x".repeat(100) });
    assert.deepEqual(d.get("o", null), { big: "x".repeat(100) });
    assert.equal(d.get("missing", undefined), undefined);
    assert.equal(d.get("missing"), undefined);
    const out = new Int32Array(new SharedArrayBuffer(4));
    const t = new Thread({
      target: (d: SharedDict<string, unknown>, out: Int32Array) => {
        out[0] = d.get("absent", 7) as number;
      },
      args: [d, out],
    });
    t.start();
    t.join();
    assert.equal(out[0], 7);
  },
);
