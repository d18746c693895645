// The queues' sleepers counts (engine.ts sleepOn): a sleeper woken by a notify is uncounted by the
// notifier at once, any other by itself; whatever woke them (put, get, shutdown, setMaxsize, a
// timeout), blocking or async, the counts come back to 0, so no later put or get notifies for
// nobody, and a sleeper is never left uncounted while it sleeps (it would miss its wake-up).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Empty, LifoQueue, Queue, ShutDown, sleep, Thread } from "threading";
import { FIFO_GET_SLEEPERS, FIFO_PUT_SLEEPERS, LOCKED_GET_SLEEPERS, LOCKED_PUT_SLEEPERS } from "../../dist/internal.js";

const T = { timeout: 60_000 };

function control(q: object): Int32Array {
  const share = (q as { [k: symbol]: () => { buffers: SharedArrayBuffer[] } })[Symbol.for("threading.share")];
  return new Int32Array(share.call(q).buffers[0] as SharedArrayBuffer);
}

/** Waits (bounded) until h[i] is n. */
function until(h: Int32Array, i: number, n: number): void {
  const end = Date.now() + 20_000;
  while (Atomics.load(h, i) !== n) {
    assert.ok(Date.now() < end, `count ${i} stuck at ${Atomics.load(h, i)}, expected ${n}`);
    sleep(0.005);
  }
}

for (const [Kind, GS, PS] of [
  [Queue, FIFO_GET_SLEEPERS, FIFO_PUT_SLEEPERS],
  [LifoQueue, LOCKED_GET_SLEEPERS, LOCKED_PUT_SLEEPERS],
] as const) {
  test(
    `${Kind.name}: sleepers are uncounted when woken by put, get, shutdown, setMaxsize or a timeout`,
    T,
    async () => {
      // getters woken by puts (two blocked threads, then one async getter)
      let q = new Kind<number>();
      let h = control(q);
      const getter = () => new Thread({ target: (qq: Queue<number>) => qq.get(true, 30), args: [q] });
      const ts = [getter(), getter()];
      for (const t of ts) t.start();
      until(h, GS, 2);
      q.put(1);
      q.put(2);
      for (const t of ts) t.join(30);
      assert.equal(Atomics.load(h, GS), 0);
      const mine = q.getAsync(30);
      until(h, GS, 1);
      const putter = new Thread({ target: (qq: Queue<number>) => qq.put(3), args: [q] });
      putter.start();
      assert.equal(await mine, 3);
      putter.join(30);
      assert.equal(Atomics.load(h, GS), 0);
      // the notifier uncounts the sleeper it woke at once: main's async getter is woken while main
      // is blocked in join() (its callback cannot run), and the putting thread already sees 0
      const later = q.getAsync(30);
      until(h, GS, 1);
      const seen = new Int32Array(new SharedArrayBuffer(4));
      const t = new Thread({
        target: (qq: Queue<number>, hh: Int32Array, gs: number, out: Int32Array) => {
          qq.put(4);
          out[0] = Atomics.load(hh, gs) + 1;
        },
        args: [q, h, GS, seen],
      });
      t.start();
      t.join(30);
      assert.equal((seen[0] as number) - 1, 0, "uncounted by the put that woke it, before it ran");
      assert.equal(await later, 4);
      assert.equal(Atomics.load(h, GS), 0);
      // a timeout
      assert.throws(() => q.get({ timeout: 0.05 }), Empty);
      assert.equal(Atomics.load(h, GS), 0);
      // putters woken by a get and by setMaxsize
      q = new Kind<number>(1);
      h = control(q);
      q.put(0);
      const p1 = new Thread({ target: (qq: Queue<number>) => qq.put(1, true, 30), args: [q] });
      p1.start();
      until(h, PS, 1);
      assert.equal(q.get(), 0);
      p1.join(30);
      assert.equal(Atomics.load(h, PS), 0);
      const p2 = new Thread({ target: (qq: Queue<number>) => qq.put(2, true, 30), args: [q] });
      p2.start();
      until(h, PS, 1);
      q.maxsize = 2;
      p2.join(30);
      assert.equal(Atomics.load(h, PS), 0);
      // getters (blocking and async) and a putter woken by shutdown
      q = new Kind<number>(1);
      h = control(q);
      const g = new Thread({
        target: (qq: Queue<number>) => {
          try {
            qq.get(true, 30);
          } catch (e) {
            if (!(e instanceof Error) || e.name !== "ShutDown") throw e;
          }
        },
        args: [q],
      });
      g.start();
      const ga = q.getAsync(30);
      until(h, GS, 2);
      q.shutdown();
      await assert.rejects(ga, ShutDown);
      g.join(30);
      assert.equal(g.isAlive(), false);
      assert.equal(Atomics.load(h, GS), 0);
    },
  );
}
