// A lone task (one primitive argument, protocol.ts) that reaches an idle pool thread whose target is
// compiled runs at once from its message (pool-thread.ts #runLone), without the pump: the case of a
// task awaited one at a time. Each of its paths keeps the pump's semantics: an async task's outcome
// once it settles, with the messages that came meanwhile run after it, in order; a task cancelled in
// the window before its CAS to RUNNING is skipped (and the pool goes on); a task's process.exit()
// fails its future and the pool replaces the thread. loneRunHooks (set in the pool thread by its
// initializer) count the tasks run this way and open the windows, so none of this depends on timing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Event, SystemExit, ThreadPoolExecutor } from "threading";

const T = { timeout: 60_000 };
const internal = new URL("../../dist/internal.js", import.meta.url).href;

type Hooks = { ran?: () => void; beforeStart?: (arg: unknown) => void; queued?: () => void };
type G = { ran?: number; release?: () => void; log?: string[] };

test(
  "tasks awaited one at a time run from their message; an async one's outcome comes once it settles, a task sent meanwhile runs after it",
  T,
  async () => {
    await using ex = new ThreadPoolExecutor({
      maxWorkers: 1,
      initializer: async (url: string) => {
        const hooks = (await import(url)).loneRunHooks as Hooks;
        const g = globalThis as G;
        // (Set whole: a pool thread may run on a worker an earlier one used, whose globals it keeps.)
        Object.assign(g, { ran: 0, log: [], release: undefined });
        Object.assign(hooks, {
          ran: () => {
            g.ran = (g.ran ?? 0) + 1;
          },
          beforeStart: undefined,
          // A lone task left to the pump (the thread is busy) releases the async task below.
          queued: () => g.release?.(),
        });
      },
      initargs: [internal],
    });
    const echo = (x: number) => x;
    for (let i = 0; i < 50; i++) assert.equal(await ex.submit(echo, i), i);
    // The first call went with its target (a batch, the pump), the 49 others alone, run at once.
    assert.equal(await ex.submit(() => (globalThis as G).ran), 49);

    const step = async (x: number) => {
      const g = globalThis as G;
      g.log ??= [];
      g.log.push(`start ${x}`);
      if (x === 1) await new Promise<void>((resolve) => (g.release = resolve));
      g.log.push(`end ${x}`);
      return g.log.join(",");
    };
    assert.equal(await ex.submit(step, 0), "start 0,end 0"); // compiled now (through the pump)
    const first = ex.submit(step, 1); // run at once; awaits until the next one has come
    const second = ex.submit(step, 2); // comes while the first awaits: left to the pump
    assert.equal(await first, "start 0,end 0,start 1,end 1");
    assert.equal(await second, "start 0,end 0,start 1,end 1,start 2,end 2");
    assert.equal(await ex.submit(() => (globalThis as G).ran), 50, "only the first step ran at once");
    assert.equal(ex.stats().completed, 55);
    // An async task that fails: its error, as from the pump.
    const fail = async (x: number) => {
      await null;
      throw new RangeError(`no ${x}`);
    };
    await assert.rejects(ex.submit(fail, 1), /RangeError: no 1/);
    await assert.rejects(ex.submit(fail, 2), /RangeError: no 2/);
    assert.equal(await ex.submit(echo, 7), 7);
  },
);

test(
  "a lone task cancelled just before its CAS to RUNNING is skipped, its function not called; the thread goes on",
  T,
  async () => {
    const ready = new Event();
    const go = new Event();
    await using ex = new ThreadPoolExecutor({
      maxWorkers: 1,
      threadNamePrefix: "LoneCancel",
      initializer: async (url: string, r: Event, g: Event) => {
        const hooks = (await import(url)).loneRunHooks as Hooks;
        Object.assign(globalThis as G, { ran: 0, log: [], release: undefined });
        Object.assign(hooks, {
          ran: () => {
            (globalThis as G).ran = ((globalThis as G).ran ?? 0) + 1;
          },
          beforeStart: (arg: unknown) => {
            if (arg !== "hold") return;
            r.set();
            g.wait();
          },
          queued: undefined,
        });
      },
      initargs: [internal, ready, go],
    });
    const calls = (x: string) => {
      const g = globalThis as G;
      g.log ??= [];
      g.log.push(x);
      return g.log.join(",");
    };
    assert.equal(await ex.submit(calls, "warm"), "warm");
    const held = ex.submit(calls, "hold");
    assert.equal(ready.wait(30), true, "the pool thread reached the window before the CAS");
    assert.equal(held.cancel(), true);
    go.set();
    assert.equal(await ex.submit(calls, "after"), "warm,after", "the cancelled task's function never ran");
    assert.equal(held.cancelled(), true);
    await assert.rejects(Promise.resolve(held), { name: "CancelledError" });
    // (warm went through the pump, hold was skipped before `ran`, after ran at once)
    assert.equal(await ex.submit(() => (globalThis as G).ran), 1);
    const s = ex.stats();
    assert.equal(s.threads, 1);
    assert.equal(s.queued, 0);
  },
);

test(
  "process.exit() in a task run from its message (sync or async): its future fails with SystemExit, the pool replaces the thread",
  T,
  async () => {
    const runs = new Int32Array(new SharedArrayBuffer(4));
    await using ex = new ThreadPoolExecutor({
      maxWorkers: 1,
      threadNamePrefix: "LoneExit",
      initializer: async (url: string, cell: Int32Array) => {
        const hooks = (await import(url)).loneRunHooks as Hooks;
        Object.assign(hooks, { ran: () => void Atomics.add(cell, 0, 1), beforeStart: undefined, queued: undefined });
      },
      initargs: [internal, runs],
    });
    const maybeExit = (x: number) => {
      if (x === 3) process.exit(3);
      return x;
    };
    const maybeExitLater = async (x: number) => {
      await null;
      if (x === 4) process.exit(4);
      return x;
    };
    assert.equal(await ex.submit(maybeExit, 0), 0); // compiles it (the pump)
    await assert.rejects(ex.submit(maybeExit, 3), (e: unknown) => e instanceof SystemExit && e.code === 3);
    assert.equal(Atomics.load(runs, 0), 1, "the exiting call ran at once from its message");
    // The replacement thread: compiles both again through the pump, then runs the exiting one at once.
    assert.equal(await ex.submit(maybeExit, 1), 1);
    assert.equal(await ex.submit(maybeExitLater, 0), 0);
    await assert.rejects(ex.submit(maybeExitLater, 4), (e: unknown) => e instanceof SystemExit && e.code === 4);
    assert.equal(Atomics.load(runs, 0), 2, "the async exiting call ran at once from its message");
    assert.equal(await ex.submit(maybeExitLater, 5), 5);
  },
);
