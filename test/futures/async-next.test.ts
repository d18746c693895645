// The async iterators of concurrent.futures (asCompletedAsync, mapAsync) called as an async
// generator may be: next() again before the last one settled. Each call must settle, in order, as
// an async generator queues them; before, each pending next() replaced the one wake-up of the
// last, which then waited for ever.
import assert from "node:assert/strict";
import { test } from "node:test";
import { asCompletedAsync, Future, ThreadPoolExecutor } from "threading";

const T = { timeout: 30_000 };

/** `p`, or a rejection after `ms` (a next() that never settles fails the test rather than hangs it). */
function within<V>(p: Promise<V>, ms: number, what: string): Promise<V> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

test("asCompletedAsync: next() twice before either settled gives both futures, then done", T, async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  const it = asCompletedAsync([a, b]);
  const first = it.next();
  const second = it.next();
  const third = it.next();
  a.setResult(1);
  b.setResult(2);
  const got = await within(Promise.all([first, second, third]), 5000, "next()");
  assert.equal(got[0].value, a);
  assert.equal(got[1].value, b);
  assert.deepEqual(got[2], { done: true, value: undefined });
});

test("mapAsync of an async source: next() twice before the pump submitted gives the results in order", T, async () => {
  await using ex = new ThreadPoolExecutor({ maxWorkers: 2 });
  let open = (): void => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  async function* source(): AsyncGenerator<number> {
    await gate;
    yield 1;
    yield 2;
  }
  const it = ex.mapAsync<number>((x: number) => x * 10, source());
  const first = it.next();
  const second = it.next();
  const third = it.next();
  open();
  const got = await within(Promise.all([first, second, third]), 10_000, "next()");
  assert.deepEqual(
    got.map((r) => r.value),
    [10, 20, undefined],
  );
  assert.equal(got[2].done, true);
});
