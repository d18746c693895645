// map()/mapAsync() with chunksize: a chunk whose call fails part-way hands out the results of the
// calls before it, then raises, as CPython's ThreadPoolExecutor.map() does (chunksize has no effect
// there: every result before the failed call's is yielded). Before, the chunk failed as a whole and
// those results were lost: map(fn, range(10), chunksize=3) with fn(5) raising gave 0, 1, 2 and the
// error, never 3 and 4 (also when fn(4) returned what cannot cross: 3 was lost).
import assert from "node:assert/strict";
import { test } from "node:test";
import { SharedList, ThreadPoolExecutor } from "threading";

const T = { timeout: 30_000 };
const xs = Array.from({ length: 10 }, (_, i) => i);

function collect(it: Iterable<unknown>): unknown[] {
  const got: unknown[] = [];
  try {
    for (const r of it) got.push(r);
  } catch (e) {
    got.push(`${(e as Error).name}: ${(e as Error).message}`);
  }
  return got;
}

async function collectAsync(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const got: unknown[] = [];
  try {
    for await (const r of it) got.push(r);
  } catch (e) {
    got.push(`${(e as Error).name}: ${(e as Error).message}`);
  }
  return got;
}

const failAt5 = (x: number) => {
  if (x === 5) throw new RangeError("five");
  return x;
};
const failAt5Async = async (x: number) => {
  if (x === 5) throw new RangeError("five");
  return x;
};

test(
  "a call that fails inside a chunk: the results before it, then its error (map and mapAsync, sync and async fn)",
  T,
  async () => {
    using ex = new ThreadPoolExecutor({ maxWorkers: 2 });
    const want = [0, 1, 2, 3, 4, "RangeError: five"];
    for (const chunksize of [1, 2, 3, 4, 10, 20]) {
      for (const fn of [failAt5, failAt5Async]) {
        assert.deepEqual(collect(ex.map(fn, xs, { chunksize })), want, `map chunksize ${chunksize} ${fn.name}`);
        assert.deepEqual(await collectAsync(ex.mapAsync(fn, xs, { chunksize })), want, `mapAsync ${chunksize}`);
      }
    }
  },
);

test(
  "a chunk's result that cannot cross fails there: the results before it, then the TypeError a call's future gets",
  T,
  async () => {
    using ex = new ThreadPoolExecutor({ maxWorkers: 2 });
    const fnAt4 = (x: number) => (x === 4 ? () => x : x);
    const want = [0, 1, 2, 3, "TypeError: result cannot be sent to another thread: it is a function"];
    assert.deepEqual(collect(ex.map(fnAt4, xs, { chunksize: 1 })), want);
    assert.deepEqual(collect(ex.map(fnAt4, xs, { chunksize: 3 })), want);
    assert.deepEqual(await collectAsync(ex.mapAsync(fnAt4, xs, { chunksize: 3 })), want);
    // before a call that throws later in the same chunk: the result that cannot cross comes first
    const both = (x: number) => {
      if (x === 5) throw new RangeError("five");
      return x === 4 ? () => x : x;
    };
    assert.deepEqual(collect(ex.map(both, xs, { chunksize: 3 })), want);
    // an error that cannot cross itself: the results before it, then the TypeError about it
    const throwsFn = (x: number) => {
      if (x === 5) throw () => x;
      return x;
    };
    assert.deepEqual(collect(ex.map(throwsFn, xs, { chunksize: 3 })), [
      0,
      1,
      2,
      3,
      4,
      "TypeError: exception cannot be sent to another thread: it is a function",
    ]);
  },
);

test(
  "leaving the loop among a failed chunk's results ends the map; the calls after are cancelled or done",
  T,
  async () => {
    using ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const it = ex.map(failAt5, xs, { chunksize: 3 });
    const got: unknown[] = [];
    for (const r of it) {
      got.push(r);
      if (r === 3) break;
    }
    assert.deepEqual(got, [0, 1, 2, 3]);
    assert.deepEqual(it.next(), { done: true, value: undefined });
    const ait = ex.mapAsync(failAt5, xs, { chunksize: 3 });
    const agot: unknown[] = [];
    for await (const r of ait) {
      agot.push(r);
      if (r === 3) break;
    }
    assert.deepEqual(agot, [0, 1, 2, 3]);
    assert.deepEqual(await ait.next(), { done: true, value: undefined });
  },
);

test("a map() that throws submits nothing: an item that cannot cross, an iterable that throws", T, async () => {
  const ran = new SharedList<number>();
  const note = (log: SharedList<number>, x: unknown) => {
    log.append(typeof x === "number" ? x : -1);
  };
  {
    using ex = new ThreadPoolExecutor({ maxWorkers: 2 });
    // The first calls used to run although map() threw at the third item.
    for (const chunksize of [1, 2]) {
      assert.throws(() => ex.map(note, [ran, ran, ran], [1, 2, () => 3], { chunksize }), {
        name: "TypeError",
        message: /^ThreadPoolExecutor\.map\(\): iterables\[1\]\[2\] cannot be sent to another thread: it is a function/,
      });
    }
    function* failing(): Generator<number> {
      yield 10;
      yield 20;
      throw new Error("the iterable broke");
    }
    assert.throws(() => ex.map(note, [ran, ran, ran], failing()), { message: "the iterable broke" });
    // The async twin rejects (from its first next()) and submits nothing either.
    await assert.rejects(ex.mapAsync(note, [ran, ran], [4, Symbol("s")]).next(), {
      name: "TypeError",
      message: /^ThreadPoolExecutor\.mapAsync\(\): iterables\[1\]\[1\] cannot be sent/,
    });
    // A map() that succeeds still runs every call.
    assert.deepEqual([...ex.map((x: number) => x * 2, [1, 2, 3])], [2, 4, 6]);
  } // shutdown(true): anything submitted has run by now
  assert.deepEqual(ran.toArray(), []);
});
