// The transport: what crosses between threads and how (structured clone, except shared objects,
// which keep their identity; errors keep their class; bad values are TypeErrors naming the path).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Event,
  Future,
  LifoQueue,
  Lock,
  Queue,
  RuntimeError,
  SharedArray,
  SharedDict,
  setExcepthook,
  Thread,
  ThreadPoolExecutor,
} from "threading";
// Internal modules, tested directly (the package exports only the public API).
import { decode, encode } from "../../dist/internal.js";

const T = { timeout: 30_000 };

function roundTrip(value: unknown): unknown {
  const { value: copy, marked } = encode(value, "value");
  return decode(structuredClone(copy), marked);
}

test("plain data round-trips: objects, arrays, Map, Set, Date, RegExp, bigint, typed arrays, cycles", T, () => {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const value = {
    n: 1.5,
    s: "text",
    b: true,
    nil: null,
    u: undefined,
    big: 12345678901234567890n,
    list: [1, [2, [3]]],
    map: new Map<unknown, unknown>([["k", { v: 1 }]]),
    set: new Set([1, "2"]),
    date: new Date(0),
    re: /a+b/gi,
    bytes: new Uint8Array([1, 2, 3]),
    cyclic,
  };
  const back = roundTrip(value) as typeof value;
  assert.deepEqual({ ...back, cyclic: undefined }, { ...value, cyclic: undefined });
  assert.equal((back.cyclic as Record<string, unknown>).self, back.cyclic);
});

test("an instance of a user class arrives as a plain object of its own fields", T, () => {
  class Point {
    constructor(
      public x: number,
      public y: number,
    ) {}
    norm(): number {
      return Math.hypot(this.x, this.y);
    }
  }
  const back = roundTrip(new Point(3, 4)) as Record<string, unknown>;
  assert.deepEqual(back, { x: 3, y: 4 });
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
});

test("values that cannot cross are TypeErrors naming where they sit", T, () => {
  assert.throws(
    () => encode({ a: [1, { f: () => 1 }] }, "args"),
    /^TypeError: args\.a\[1\]\.f cannot be sent to another thread: it is a function/,
  );
  assert.throws(() => encode([Symbol("s")], "item"), /item\[0\].*symbol/);
  assert.throws(() => encode({ w: new WeakMap() }, "item"), /item\.w.*WeakMap/);
  assert.throws(() => encode({ p: Promise.resolve(1) }, "item"), /item\.p.*Promise/);
  assert.throws(() => encode({ "odd key": new WeakSet() }, "x"), /x\["odd key"\]/);
  // What it is, in words: a Proxy is named as one (not by the class its target has), and "an" before a vowel.
  assert.throws(
    () => encode({ p: new Proxy({}, {}) }, "item"),
    /^TypeError: item\.p cannot be sent to another thread: it is a Proxy$/,
  );
  class Opaque {
    readonly f = () => 1;
  }
  assert.throws(() => encode([new Proxy(new Opaque(), {})], "item"), /: it is a Proxy$/);
  assert.throws(() => encode({ k: new (class Endpoint extends WeakSet {})() }, "item"), /: it is an Endpoint$/);
  // ... by how the name is read, not by its first letter alone ('an User' after the line above).
  for (const [C, said] of [
    [class User extends WeakSet {}, "a User"],
    [class Unicorn extends WeakSet {}, "a Unicorn"],
    [class Euro extends WeakSet {}, "a Euro"],
    [class Upload extends WeakSet {}, "an Upload"],
    [class Item extends WeakSet {}, "an Item"],
    [class HTTPAgent extends WeakSet {}, "an HTTPAgent"],
    [class URLCache extends WeakSet {}, "a URLCache"],
    [class Bag extends WeakSet {}, "a Bag"],
  ] as const) {
    assert.throws(() => encode({ k: new C() }, "item"), new RegExp(`: it is ${said}$`), said);
  }
});

test(
  "a Future or an executor cannot be sent: a TypeError saying why, nothing sent (no plain object without their state)",
  T,
  () => {
    // Before, each arrived as a plain object without its methods (a process warning), and in a
    // Thread subclass's field came back after join() and replaced the creator's executor.
    using ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const f = ex.submit(() => 1);
    const future = /it is a Future \(a Future belongs to the thread that submitted its task: send its result instead/;
    const executor = /it is a ThreadPoolExecutor \(an executor belongs to the thread that made it/;
    assert.throws(() => ex.submit((x: unknown) => x, f), {
      name: "TypeError",
      message: /^ThreadPoolExecutor\.submit\(\): args\[0\] /,
    });
    assert.throws(() => ex.submit((x: unknown) => x, { pool: ex }), { name: "TypeError", message: executor });
    const q = new Queue<unknown>();
    assert.throws(() => q.put([new Future()]), { name: "TypeError", message: future });
    assert.equal(q.qsize(), 0);
    const d = new SharedDict<string, unknown>();
    assert.throws(() => d.set("f", f), { name: "TypeError", message: future });
    assert.equal(d.size, 0);
    assert.throws(() => new Thread({ target: (p: unknown) => p, args: [ex] }).start(), {
      name: "TypeError",
      message: executor,
    });
    class Crawler extends Thread {
      pool = ex;
      override run(): void {}
    }
    const c = new Crawler();
    assert.throws(() => c.start(), { name: "TypeError", message: executor });
    assert.equal(c.pool, ex);
    assert.equal(f.result(30), 1, "the future is still this thread's");
    // an exception holding one crosses without it, as any property that cannot cross
    const { value, marked } = encode(Object.assign(new Error("x"), { f, n: 1 }), "exception", { lenientErrors: true });
    const e = decode(structuredClone(value), marked) as Error & { f?: unknown; n?: number };
    assert.equal(e.f, undefined);
    assert.equal(e.n, 1);
  },
);

test("a Proxy is refused as one, without its traps deciding the error", T, () => {
  // A revoked Proxy threw its trap's error ('Cannot perform 'getPrototypeOf' on a proxy that has been
  // revoked', no path); a Proxy of a function ran its get trap for the name (and threw, revoked);
  // a Proxy of a Map threw Map's 'incompatible receiver', of a Lock a private-field error, and one of
  // a Date failed later in postMessage without a path.
  const is = (where: string) =>
    new RegExp(`^TypeError: ${where.replace(/[.[\]]/g, "\\$&")} cannot be sent to another thread: it is a Proxy$`);
  const revokedObject = Proxy.revocable({}, {});
  revokedObject.revoke();
  assert.throws(() => encode({ p: revokedObject.proxy }, "item"), is("item.p"));
  const revokedFunction = Proxy.revocable(function named() {}, {});
  revokedFunction.revoke();
  assert.throws(() => encode([revokedFunction.proxy], "item"), is("item[0]"));
  let trapped = 0;
  const fn = new Proxy(() => 1, {
    get(target, key) {
      trapped++;
      return Reflect.get(target, key);
    },
  });
  assert.throws(() => encode({ f: fn }, "item"), is("item.f"));
  assert.equal(trapped, 0);
  assert.throws(() => encode({ m: new Proxy(new Map([[1, 2]]), {}) }, "item"), is("item.m"));
  assert.throws(() => encode({ d: new Proxy(new Date(), {}) }, "item"), is("item.d"));
  assert.throws(() => encode({ l: [new Proxy(new Lock(), {})] }, "item"), is("item.l[0]"));
  // A Proxy of an array crosses as the array it reads as; what cannot cross inside it is named where it is.
  assert.deepEqual(encode(new Proxy([1, [2]], {}), "item").value, [1, [2]]);
  assert.throws(
    () => encode({ a: new Proxy([1, () => 1], {}) }, "item"),
    /^TypeError: item\.a\[1\] cannot be sent to another thread: it is a function$/,
  );
});

test("errors keep their class, name, message, stack, cause and own properties", T, () => {
  const cause = new RangeError("inner");
  const err = Object.assign(new TypeError("outer", { cause }), { code: "E_X", detail: { n: 1 } });
  const back = roundTrip(err) as TypeError & { code: string; detail: unknown; cause: RangeError };
  assert.ok(back instanceof TypeError);
  assert.equal(back.message, "outer");
  assert.equal(back.stack, err.stack);
  assert.equal(back.code, "E_X");
  assert.deepEqual(back.detail, { n: 1 });
  assert.ok(back.cause instanceof RangeError);
  assert.equal(back.cause.message, "inner");
  const rt = roundTrip(new RuntimeError("misuse")) as Error;
  assert.ok(rt instanceof RuntimeError);
  assert.equal(rt.name, "RuntimeError");
  class MyError extends Error {
    override name = "MyError";
  }
  const mine = roundTrip(new MyError("custom")) as Error;
  assert.ok(mine instanceof Error);
  assert.equal(mine.name, "MyError");
});

test("an exception with a property that cannot cross arrives without it, not as a TypeError about it", T, async () => {
  // An HTTP client's error holding its config (functions) and request (a socket) is still the task's error.
  const withFn = () =>
    Object.assign(
      new RangeError("the task's own error", { cause: Object.assign(new Error("why"), { hook: () => 1 }) }),
      {
        code: "E_TASK",
        transform: [() => 1],
        data: { n: 1 },
        cache: new WeakMap(),
      },
    );
  assert.throws(() => encode(withFn(), "exception"), /exception\.cause\.hook cannot be sent/, "strict by default");
  const { value, marked } = encode(withFn(), "exception", { lenientErrors: true });
  const back = decode(structuredClone(value), marked) as RangeError & Record<string, unknown>;
  assert.ok(back instanceof RangeError);
  assert.equal(back.message, "the task's own error");
  assert.equal(back.code, "E_TASK");
  assert.deepEqual(back.data, { n: 1 });
  assert.equal("transform" in back, false);
  assert.equal("cache" in back, false);
  assert.ok(back.cause instanceof Error);
  assert.equal((back.cause as Error).message, "why");
  assert.equal("hook" in (back.cause as object), false);
  // A cause that cannot cross is left out the same way.
  const c = encode(new Error("x", { cause: () => 1 }), "exception", { lenientErrors: true });
  const e2 = decode(structuredClone(c.value), c.marked) as Error;
  assert.equal(e2.message, "x");
  assert.equal("cause" in e2, false);
  // What a pool task throws, and what a thread's excepthook receives.
  {
    using ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    const f = ex.submit(() => {
      throw Object.assign(new RangeError("in task"), { code: 7, fn: () => 1 });
    });
    const err = f.exception() as RangeError & Record<string, unknown>;
    assert.ok(err instanceof RangeError, `the task's error, not ${String(err)}`);
    assert.equal(err.message, "in task");
    assert.equal(err.code, 7);
    assert.equal("fn" in err, false);
  }
  const seen: unknown[] = [];
  setExcepthook((args) => seen.push(args.excValue));
  try {
    const t = new Thread({
      target: () => {
        throw Object.assign(new TypeError("in thread"), { code: 8, fn: () => 1 });
      },
    });
    t.start();
    t.join();
  } finally {
    setExcepthook(null);
  }
  assert.equal(seen.length, 1);
  const hooked = seen[0] as TypeError & Record<string, unknown>;
  assert.ok(hooked instanceof TypeError);
  assert.equal(hooked.message, "in thread");
  assert.equal(hooked.code, 8);
  assert.equal("fn" in hooked, false);
});

test(
  "a DOMException (AbortError, AbortSignal.timeout()'s TimeoutError) keeps its class, name, code, message and stack",
  T,
  async () => {
    const abort = new DOMException("the operation was aborted", "AbortError");
    const back = roundTrip(abort) as DOMException;
    assert.ok(back instanceof DOMException, "before: a plain Error named AbortError");
    assert.equal(back.name, "AbortError");
    assert.equal(back.code, 20);
    assert.equal(back.message, "the operation was aborted");
    assert.equal(back.stack, abort.stack);
    // One thrown in a thread, as a pool task's failure.
    using ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    await assert.rejects(
      ex.submit(async () => {
        const signal = AbortSignal.timeout(1);
        await new Promise((r) => signal.addEventListener("abort", r));
        signal.throwIfAborted();
      }),
      (e: unknown) => e instanceof DOMException && e.name === "TimeoutError" && e.code === 23,
    );
  },
);

test("shared objects keep their identity: the same object in one thread, the same state in another", T, () => {
  const lock = new Lock();
  const event = new Event();
  const back = roundTrip({ a: lock, b: [lock, event], m: new Map([[lock, 1]]) }) as {
    a: Lock;
    b: [Lock, Event];
    m: Map<Lock, number>;
  };
  assert.equal(back.a, lock);
  assert.equal(back.b[0], lock);
  assert.equal(back.b[1], event);
  assert.equal([...back.m.keys()][0], lock);

  const seen = new Int32Array(new SharedArrayBuffer(8));
  const t = new Thread({
    target: (nested: { deep: { lock: Lock; again: Lock } }, e: Event, out: Int32Array) => {
      out[0] = nested.deep.lock === nested.deep.again ? 1 : 0;
      nested.deep.lock.release(); // the main thread's lock: shared state
      e.set();
    },
    args: [{ deep: { lock, again: lock } }, event, seen],
  });
  lock.acquire();
  t.start();
  assert.equal(event.wait(10), true);
  t.join();
  assert.equal(seen[0], 1);
  assert.equal(lock.locked(), false);
});

test("an own __proto__ key crosses as data and sets no prototype", T, () => {
  const value = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
  const back = roundTrip(value) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.deepEqual(Object.keys(back), ["__proto__", "x"]);
  assert.deepEqual(Object.getOwnPropertyDescriptor(back, "__proto__")?.value, { polluted: true });
  assert.equal((back as { polluted?: boolean }).polluted, undefined);
});

test(
  "a value nested more than 1000 levels deep is a RangeError saying so, from the sender; 1000 levels cross",
  T,
  () => {
    // Before: V8's bare "Maximum call stack size exceeded"; and a thread (4 MB stack) could put an item
    // ~6,000 levels deep that the main thread (984 KB) then failed to rebuild in get(), the item gone.
    const nest = (n: number, obj: boolean): unknown => {
      let v: unknown = 0;
      for (let i = 0; i < n; i++) v = obj ? { o: v } : [v];
      return v;
    };
    const depth = (v: unknown): number => {
      let n = 0;
      for (let x = v; typeof x === "object" && x !== null; n++) x = Array.isArray(x) ? x[0] : (x as { o: unknown }).o;
      return n;
    };
    const tooDeep = {
      name: "RangeError",
      message: /is nested too deeply to be sent to another thread \(more than 1000 levels\)/,
    };
    const q = new Queue<unknown>();
    for (const obj of [false, true]) {
      q.put(nest(1000, obj));
      assert.equal(depth(q.get()), 1000);
      assert.throws(() => q.put(nest(1001, obj)), {
        name: "RangeError",
        message: /^Queue\.put\(\): item is nested too deeply/,
      });
      assert.throws(() => q.put(nest(50_000, obj)), tooDeep);
      assert.equal(q.qsize(), 0);
    }
    assert.throws(() => encode(nest(5000, false), "value"), tooDeep);
    // a thread, with its deeper stack, is held to the same bound: what it puts, main can get
    const t = new Thread({
      target: (q: Queue<unknown>) => {
        let v: unknown = 0;
        for (let i = 0; i < 6000; i++) v = [v];
        try {
          q.put(v);
        } catch (e) {
          q.put(`${(e as Error).name}: ${(e as Error).message}`);
        }
        q.put("after");
      },
      args: [q],
    });
    t.start();
    t.join();
    assert.match(q.get() as string, /^RangeError: Queue\.put\(\): item is nested too deeply/);
    assert.equal(q.get(), "after");
    using ex = new ThreadPoolExecutor({ maxWorkers: 1 });
    assert.throws(() => ex.submit((v: unknown) => v, nest(2000, true)), tooDeep);
    const f = ex.submit(() => {
      let v: unknown = 0;
      for (let i = 0; i < 6000; i++) v = [v];
      return v;
    });
    assert.throws(() => f.result(30), { name: "RangeError", message: /^result is nested too deeply/ });
    assert.equal(ex.submit(() => 5).result(30), 5, "the pool goes on");
  },
);

test(
  "a user's subclass of a shared class: the same object in the other thread, of the base class, with a warning once per class",
  T,
  async () => {
    // Before: nothing said that CountingQueue's put() override and its fields stay in this thread.
    class CountingQueue<T> extends Queue<T> {
      puts = 0;
      override put(item: T, block?: boolean, timeout?: number): void {
        this.puts++;
        super.put(item, block, timeout);
      }
    }
    class Plain extends Lock {}
    // (SharedArray's length was an own field, said to be what the subclass adds)
    class PlainArray extends SharedArray {}
    const warnings: Error[] = [];
    const listener = (w: Error) => warnings.push(w);
    process.on("warning", listener);
    try {
      const q = new CountingQueue<number>();
      const seen = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < 2; i++) {
        const t = new Thread({
          target: (q: Queue<number>, seen: Int32Array) => {
            seen[0] = "puts" in q ? 1 : 2;
            q.put(7);
          },
          args: [q, seen],
        });
        t.start();
        t.join();
      }
      assert.equal(seen[0], 2, "a Queue there");
      assert.deepEqual([q.get(), q.get(), q.puts], [7, 7, 0], "the same queue, the override not called");
      // a library subclass (LifoQueue) and subclasses adding nothing: no warning
      const t = new Thread({
        target: (...a: unknown[]) => a.length,
        args: [new LifoQueue(), new Plain(), new PlainArray("i", 2)],
      });
      t.start();
      t.join();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", listener);
    }
    const ours = warnings.filter((w) => (w as Error & { code?: string }).code === "THREADING_SUBCLASS_NOT_SENT");
    assert.equal(ours.length, 1, ours.map((w) => w.message).join("\n"));
    assert.match(
      ours[0]?.message ?? "",
      /args\[0\] is an instance of class CountingQueue, a subclass of Queue: it arrives in the other thread as the same Queue, without what CountingQueue adds \(put, puts\)/,
    );
  },
);

test("a Node stream (a socket, a file stream) is refused as what it is, where it sits", T, async () => {
  const { createServer, connect } = await import("node:net");
  const { PassThrough } = await import("node:stream");
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const socket = connect((server.address() as { port: number }).port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  try {
    // It read "item.conn.socket._events.end cannot be sent to another thread: it is a function (onReadableStreamEnd)".
    assert.throws(
      () => encode({ conn: { socket } }, "item"),
      /^TypeError: item\.conn\.socket cannot be sent to another thread: it is a Socket$/,
    );
    assert.throws(
      () => encode([new PassThrough()], "item"),
      /^TypeError: item\[0\] cannot be sent to another thread: it is a PassThrough$/,
    );
  } finally {
    socket.destroy();
    server.close();
  }
});
