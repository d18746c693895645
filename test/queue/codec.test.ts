// The item codec: plain data takes the compact fast path (plain.ts) and decodes deep-equal to the
// input and to what the general path (encode + v8.serialize) gives; everything else takes the
// general path and arrives as before. Property tests with fast-check, then the edge cases.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { nodeOnly } from "../child.js";
import v8 from "node:v8";
import fc from "fast-check";
import { LifoQueue, Lock, PriorityQueue, Queue, SimpleQueue, Thread } from "threading";
import {
  decodeTaken,
  readRecord,
  recordSize,
  Staged,
  stage,
  stageItem,
  T_LSTR,
  T_MSTR,
  T_PLAIN,
  T_PSTR,
  T_SSTR,
  T_V8,
  Taken,
  writeRecord,
} from "../../dist/internal.js";
import { Data } from "../../dist/internal.js";

const data = new Data();
const taken = new Taken();

/** Stages, stores at offset 0 of a data buffer, copies out, decodes; returns the value and the record tag. */
function roundTrip(value: unknown, keep = false): { value: unknown; tag: number } {
  const st = new Staged();
  stage(value, st, keep);
  writeRecord(data, 0, st);
  readRecord(data, 0, taken);
  return { value: decodeTaken(taken), tag: st.tag };
}

/**
 * A string through a queue item's path (stageItem), which must take it as a short-string record
 * (SSTR, 1..8 units; MSTR, 9..16; PSTR, 17..32): the value read back.
 */
function asShortStringItem(s: string): unknown {
  const st = new Staged();
  stageItem(s, st);
  assert.equal(st.tag, s.length <= 8 ? T_SSTR : s.length <= 16 ? T_MSTR : T_PSTR);
  writeRecord(data, 0, st);
  readRecord(data, 0, taken);
  return decodeTaken(taken);
}

/** What the general path would give: v8.serialize / deserialize (structured clone). */
function viaV8(value: unknown): unknown {
  return v8.deserialize(v8.serialize(value));
}

const key = fc
  .oneof(
    fc.string(),
    fc.string({ unit: "binary" }),
    fc.constantFrom("id", "name", "0", "12", "constructor", "toString"),
  )
  .filter((k) => k !== "__proto__");
const leaf = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 53),
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme", maxLength: 80 }),
  fc.string({ minLength: 30, maxLength: 300 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
);
const { plain } = fc.letrec((tie) => ({
  plain: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("plain"), { maxLength: 8 }),
  object: fc.dictionary(key, tie("plain"), { maxKeys: 8, noNullPrototype: true }),
}));

test("plain values (objects, arrays, numbers, strings, bigints, ...) decode deep-equal to the input and to the general path", () => {
  fc.assert(
    fc.property(plain, (value) => {
      const got = roundTrip(value);
      assert.deepStrictEqual(got.value, value);
      assert.deepStrictEqual(got.value, viaV8(value));
      if (typeof value === "object" && value !== null)
        assert.equal(got.tag, T_PLAIN, "objects and arrays take the fast path");
    }),
    { numRuns: 2000 },
  );
});

test("short strings, alone and as keys and values: every length 0..40, one-byte (also 128-255) or with a wider unit at each position", () => {
  // (one-byte units are written four to a word and read back by String.fromCharCode up to 8
  // units: plain.ts putString / chars; a wider unit anywhere switches the whole string to UTF-16)
  const strings: string[] = [];
  for (let n = 0; n <= 40; n++) {
    let ascii = "";
    let high = "";
    for (let i = 0; i < n; i++) {
      ascii += String.fromCharCode(32 + ((i * 7) % 95));
      high += String.fromCharCode(i % 2 === 0 ? 255 - i : i);
    }
    strings.push(ascii, high);
    for (let at = 0; at < n; at++) {
      for (const wide of ["\u0100", "\u20ac", "\ud800", "\uffff"])
        strings.push(ascii.slice(0, at) + wide + ascii.slice(at + 1));
    }
  }
  for (const s of strings) {
    const alone = roundTrip(s);
    assert.equal(alone.value, s);
    assert.equal(roundTrip(s, true).value, s);
    const obj = { [s]: s, k: [s, s] };
    assert.deepStrictEqual(roundTrip(obj).value, obj);
  }
  // the same strings again: decoded from the caches of shapes seen before
  for (const s of strings) assert.deepStrictEqual(roundTrip({ [s]: s }).value, { [s]: s });
});

test("a queue's short one-byte strings are SSTR (1..8 units), MSTR (9..16) and PSTR (17..32) records; every other string keeps its format", () => {
  const codes = [0, 1, 32, 65, 127, 128, 200, 255];
  for (let n = 0; n <= 34; n++) {
    for (const c of codes) {
      for (let at = 0; at < Math.max(n, 1); at++) {
        // n units of 'a'..., one of them replaced by c; and the same with a unit >= 256 there
        const base = "abcdefghijklmnopqrstuvwxyzABCDEFGH".slice(0, n);
        for (const unit of [c, 256, 0x3b1, 0xd800]) {
          const s = n === 0 ? "" : base.slice(0, at) + String.fromCharCode(unit) + base.slice(at + 1);
          const st = new Staged();
          stageItem(s, st);
          const sstr = s.length >= 1 && s.length <= 8 && unit < 256;
          const mstr = s.length >= 9 && s.length <= 16 && unit < 256;
          const pstr = s.length >= 17 && s.length <= 32 && unit < 256;
          assert.equal(st.tag === T_SSTR, sstr, JSON.stringify(s));
          assert.equal(st.tag === T_MSTR, mstr, JSON.stringify(s));
          assert.equal(st.tag === T_PSTR, pstr, JSON.stringify(s));
          writeRecord(data, 0, st);
          if (sstr) assert.equal(recordSize(data, 0), 16);
          if (mstr) assert.equal(recordSize(data, 0), 24);
          if (pstr) assert.equal(recordSize(data, 0), s.length <= 24 ? 32 : 40);
          assert.equal(readRecord(data, 0, taken), recordSize(data, 0));
          assert.equal(decodeTaken(taken), s);
          // stage() (SharedDict's records) never makes one
          const plain = new Staged();
          stage(s, plain);
          assert.notEqual(plain.tag, T_SSTR);
          assert.notEqual(plain.tag, T_MSTR);
          assert.notEqual(plain.tag, T_PSTR);
        }
      }
    }
  }
  // non-strings go through stage() unchanged
  for (const v of [1.5, 7, null, undefined, true, { a: "x" }, ["ab"], 10n]) {
    const st = new Staged();
    stageItem(v, st);
    writeRecord(data, 0, st);
    readRecord(data, 0, taken);
    assert.deepStrictEqual(decodeTaken(taken), v);
  }
  // through queues of every kind, mixed with other items (the ring's SKIP and growth included)
  const q = new Queue<unknown>();
  const items: unknown[] = [];
  for (let i = 0; i < 20_000; i++)
    items.push(i % 3 === 0 ? `k${i % 1000}` : i % 3 === 1 ? String.fromCharCode(i % 256) : i);
  for (const x of items) q.put(x);
  for (const x of items) assert.equal(q.get(), x);
});

test("plain values also round-trip when kept across an await (putAsync) and through a real queue", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(plain, { maxLength: 20 }), async (items) => {
      const q = new Queue<unknown>();
      await Promise.all(items.map((x) => q.putAsync(x)));
      for (const x of items) assert.deepStrictEqual(q.get(), x);
    }),
    { numRuns: 100 },
  );
  // A kept record is a copy: staging another item does not overwrite it.
  const a = new Staged();
  stage({ a: 1, s: "first" }, a, true);
  stage({ b: 2, s: "second, and longer" }, new Staged());
  writeRecord(data, 0, a);
  readRecord(data, 0, taken);
  assert.deepStrictEqual(decodeTaken(taken), { a: 1, s: "first" });
});

test("plain values cross to another thread deep-equal", () => {
  const values = fc.sample(plain, { numRuns: 300, seed: 42 });
  const q = new Queue<unknown>();
  const back = new Queue<unknown>();
  const t = new Thread({
    target: (q: Queue<unknown>, back: Queue<unknown>, n: number) => {
      for (let i = 0; i < n; i++) back.put(q.get());
    },
    args: [q, back, values.length],
  });
  t.start();
  for (const v of values) q.put(v);
  for (const v of values) assert.deepStrictEqual(back.get(), v);
  t.join();
});

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
}

test("values that are not plain take the general path and arrive as before", () => {
  const shared = { s: 1 };
  const cyclic: Record<string, unknown> = { name: "c" };
  cyclic.self = cyclic;
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  const withProto = JSON.parse('{"__proto__": {"x": 1}, "y": 2}');
  const cases: unknown[] = [
    new Map([[1, { a: 2 }]]),
    new Set(["a"]),
    new Date(0),
    /x/g,
    new Uint8Array([1, 2, 3]),
    new Point(1, 2),
    { p: new Point(3, 4) },
    [1, new Map()],
    { twice: [shared, shared] },
    cyclic,
    deep,
    withProto,
    new Error("boom"),
    { big: "x".repeat(40_000), more: "y".repeat(40_000) }, // over 64 KiB: its own buffer
  ];
  for (const value of cases) {
    const got = roundTrip(value);
    assert.notEqual(got.tag, T_PLAIN, `${String(value)} must not take the fast path`);
    // (the transport's encode() drops an own "__proto__" key: unchanged here, see below)
    if (!(value instanceof Error) && value !== withProto) assert.deepStrictEqual(got.value, viaV8(value));
  }
  // Structure kept by the general path: one object twice stays one object, cycles stay cycles.
  const twice = roundTrip({ twice: [shared, shared] }).value as { twice: object[] };
  assert.equal(twice.twice[0], twice.twice[1]);
  const c = roundTrip(cyclic).value as Record<string, unknown>;
  assert.equal(c.self, c);
  // An own "__proto__" key never reaches the fast path (which must not set a prototype).
  const p = roundTrip(withProto);
  assert.equal(p.tag, T_V8);
  assert.equal(Object.getPrototypeOf(p.value), Object.prototype);
  assert.equal((p.value as { y: number }).y, 2);
  // Class instances arrive as plain objects of their fields, as before.
  assert.deepStrictEqual(roundTrip(new Point(1, 2)).value, { x: 1, y: 2 });
});

test("shared objects inside plain-looking data take the general path and stay shared", () => {
  const lock = new Lock();
  const q = new Queue<{ lock: Lock; n: number[] }>();
  q.put({ lock, n: [1, 2] });
  const got = q.get();
  assert.equal(got.lock, lock);
  assert.deepStrictEqual(got.n, [1, 2]);
});

test("a put of what cannot cross names the call and where in the item it sits; nothing is queued", async () => {
  const fn = { a: [1, { f: () => 1 }] };
  const puts: [string, (item: unknown) => unknown, () => number][] = [];
  for (const Q of [Queue, LifoQueue, PriorityQueue]) {
    const q = new Q<unknown>();
    puts.push([`${Q.name}.put()`, (item) => q.put(item), () => q.qsize()]);
    puts.push([`${Q.name}.put()`, (item) => q.putNowait(item), () => q.qsize()]);
    puts.push([`${Q.name}.putAsync()`, (item) => q.putAsync(item), () => q.qsize()]);
  }
  const sq = new SimpleQueue<unknown>();
  puts.push(["SimpleQueue.put()", (item) => sq.put(item), () => sq.qsize()]);
  for (const [what, put, size] of puts) {
    const message = new RegExp(
      `^${what.replace(/[().]/g, "\\$&")}: item\\.a\\[1\\]\\.f cannot be sent to another thread: it is a function`,
    );
    await assert.rejects(async () => put(fn), { name: "TypeError", message }, what);
    await assert.rejects(
      async () => put(Symbol("s")),
      { name: "TypeError", message: /: item cannot be sent .*symbol/ },
      what,
    );
    assert.equal(size(), 0, `${what}: nothing queued`);
  }
});

test("what cannot cross is still a TypeError naming where it sits", () => {
  assert.throws(() => stage({ a: [1, { f: () => 1 }] }, new Staged()), {
    name: "TypeError",
    message: /item\.a\[1\]\.f/,
  });
  assert.throws(() => stage(new Proxy({}, {}), new Staged()), TypeError);
  assert.throws(() => stage({ s: Symbol("s") }, new Staged()), TypeError);
  const boom = {
    get x() {
      throw new RangeError("getter");
    },
  };
  assert.throws(() => stage(boom, new Staged()), RangeError);
  // The scratch state is clean after a throw: the next item is fine.
  assert.deepStrictEqual(roundTrip({ after: [1, "two"] }).value, { after: [1, "two"] });
});

test("a shape's made writer takes every kind of value under each key (inline int32 and booleans, the rest generic)", () => {
  const kinds: unknown[] = [
    0,
    -0,
    1,
    -1,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    -(2 ** 31) - 1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    true,
    false,
    null,
    undefined,
    "",
    "s",
    "item 12345",
    "\u20ac",
    "a string longer than thirty-two units, through Buffer.write",
    12n,
    -(2n ** 70n),
    [],
    [1, [true]],
    {},
    { x: { y: -0 } },
  ];
  for (let i = 0; i < 12; i++) roundTrip({ id: i, ok: true, name: "warm" }); // the shape gets its made writer
  for (const a of kinds) {
    for (const b of kinds) {
      const v = { id: a, ok: b, name: a };
      const got = roundTrip(v).value as Record<string, unknown>;
      assert.deepStrictEqual(got, v);
      if (typeof a !== "object" || a === null) assert.ok(Object.is(got.id, a), "-0 stays -0");
      if (typeof b !== "object" || b === null) assert.ok(Object.is(got.ok, b), "-0 stays -0");
    }
  }
  // the top object met again below it (the root is not in the writer's list of objects seen): the general path
  const loop: Record<string, unknown> = { id: 1, ok: true, name: "x" };
  loop.name = [{ back: loop }];
  const arr: unknown[] = [1];
  arr.push([arr]);
  for (const v of [loop, arr]) {
    const got = roundTrip(v);
    assert.equal(got.tag, T_V8);
    const x = got.value as Record<string, unknown> & unknown[];
    if (Array.isArray(x)) assert.equal((x[1] as unknown[])[0], x);
    else assert.equal(((x.name as unknown[])[0] as { back: unknown }).back, x);
  }
});

test("with code generation from strings disallowed, shapes are written and built key by key", {
  ...nodeOnly("Node's --disallow-code-generation-from-strings flag"),
}, () => {
  const internal = new URL("../../dist/internal.js", import.meta.url).href;
  const code = `
    import { decodeTaken, readRecord, Staged, stage, Taken, writeRecord, Data } from ${JSON.stringify(internal)};
    const d = new Data();
    const t = new Taken();
    for (let i = 0; i < 20; i++) {
      const v = { id: i, ok: i % 2 === 0, name: "n" + i, x: [i, -0, 2 ** 40] };
      const st = new Staged();
      stage(v, st);
      writeRecord(d, 0, st);
      readRecord(d, 0, t);
      const got = decodeTaken(t);
      if (JSON.stringify(got) !== JSON.stringify(v) || !Object.is(got.x[1], -0)) throw new Error("round " + i);
    }
    console.log("ok");`;
  const r = spawnSync(
    process.execPath,
    ["--disallow-code-generation-from-strings", "--input-type=module", "-e", code],
    {
      encoding: "utf8",
    },
  );
  assert.equal(r.stdout.trim(), "ok", r.stderr);
});

test("the last shape's made writer makes every check of the general walk before it writes", () => {
  // A stream of one shape: after 8 objects its made writer is tried first for every object
  // (plain.ts put(): the proxy, shared-object, prototype and repeat checks are its own there).
  const item = (i: number): Record<string, unknown> => ({ id: i, name: "n", next: null });
  const again = () => {
    for (let i = 0; i < 12; i++) {
      const got = roundTrip(item(i));
      assert.equal(got.tag, T_PLAIN);
      assert.deepStrictEqual(got.value, item(i));
    }
  };
  again();
  // a Proxy of an object of the shape cannot cross, as on the general path
  assert.throws(() => stage(new Proxy(item(1), {}), new Staged()), TypeError);
  again();
  // the same keys over another prototype: the general path, which refuses it, as before
  const other = Object.assign(Object.create({ inherited: 1 }), item(2));
  assert.throws(() => stage(other, new Staged()), { name: "TypeError", message: /it is an Object/ });
  // (a class instance's fields do cross, by the general path)
  class Item {
    id = 2;
    name = "n";
    next = null;
  }
  let got = roundTrip(new Item());
  assert.notEqual(got.tag, T_PLAIN);
  assert.deepStrictEqual(got.value, item(2));
  again();
  // the same keys, no prototype: plain, arriving as an ordinary object
  const bare = Object.assign(Object.create(null), item(3));
  got = roundTrip(bare);
  assert.equal(got.tag, T_PLAIN);
  assert.equal(Object.getPrototypeOf(got.value), Object.prototype);
  assert.deepStrictEqual({ ...(got.value as object) }, item(3));
  // the top object held again inside, at once or deeper: the general path, the cycle kept
  const self = item(4);
  self.next = self;
  got = roundTrip(self);
  assert.notEqual(got.tag, T_PLAIN);
  assert.equal((got.value as Record<string, unknown>).next, got.value);
  again();
  const deep = item(5);
  deep.next = { list: [1, { up: deep }] };
  got = roundTrip(deep);
  assert.notEqual(got.tag, T_PLAIN);
  const d = got.value as { next: { list: [number, { up: unknown }] } };
  assert.equal(d.next.list[1].up, d);
  // objects of the shape nested in one another, each once: plain
  const chain = item(6);
  chain.next = item(7);
  (chain.next as Record<string, unknown>).next = item(8);
  got = roundTrip(chain);
  assert.equal(got.tag, T_PLAIN);
  assert.deepStrictEqual(got.value, chain);
  // one object of the shape twice: the general path, kept as one object
  const twice = item(9);
  const shared = item(10);
  twice.next = [shared, shared];
  got = roundTrip(twice);
  assert.notEqual(got.tag, T_PLAIN);
  const t = got.value as { next: [object, object] };
  assert.equal(t.next[0], t.next[1]);
  // a shared object under the shape: the general path, still shared
  const lock = new Lock();
  const q = new Queue<Record<string, unknown>>();
  for (let i = 0; i < 12; i++) q.put(item(i));
  q.put({ id: 1, name: "n", next: lock });
  for (let i = 0; i < 12; i++) assert.deepStrictEqual(q.get(), item(i));
  assert.equal(q.get().next, lock);
  again();
});

test("arrays: holes arrive as undefined and extra properties are dropped, as on the general path before", () => {
  // biome-ignore lint/suspicious/noSparseArray: the point of the test
  const holes = [1, , 3];
  const extra = Object.assign([1, 2], { extra: "x" });
  assert.deepStrictEqual(roundTrip(holes).value, [1, undefined, 3]);
  assert.deepStrictEqual(roundTrip(extra).value, [1, 2]);
  // Null-prototype objects arrive as ordinary objects (as encode() made them before).
  const bare = Object.assign(Object.create(null), { a: 1 });
  const got = roundTrip(bare);
  assert.equal(got.tag, T_PLAIN);
  assert.equal(Object.getPrototypeOf(got.value), Object.prototype);
  assert.deepStrictEqual({ ...(got.value as object) }, { a: 1 });
});

test("objects of a repeated shape (cached key blocks, made readers and builders) keep their keys, order and values", () => {
  const keysOf = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(keysOf)
      : typeof v === "object" && v !== null
        ? Object.entries(v).map(([k, x]) => [k, keysOf(x)])
        : v;
  fc.assert(
    fc.property(fc.dictionary(key, plain, { maxKeys: 6, noNullPrototype: true }), (value) => {
      // past the point where a shape gets a made reader and builder (8 sightings)
      for (let i = 0; i < 12; i++) {
        const got = roundTrip(value);
        assert.deepStrictEqual(got.value, value);
        assert.deepStrictEqual(keysOf(got.value), keysOf(value), "same keys in the same order, nested too");
        assert.equal(Object.getPrototypeOf(got.value), Object.prototype);
      }
    }),
    { numRuns: 300 },
  );
  const odd = ['a"b', "c\\d", "e\u2028f", "\ud800", "2", "10", "constructor", "", "x y", "}{`", "'"];
  const o = Object.fromEntries(odd.map((k, i) => [k, { [k]: i }]));
  for (let i = 0; i < 12; i++) {
    const got = roundTrip(o).value as Record<string, unknown>;
    assert.deepStrictEqual(got, o);
    assert.deepStrictEqual(Object.keys(got), Object.keys(o));
  }
  // getters run once each per encoding, in key order, also with a made reader
  const calls: string[] = [];
  const withGetters = {
    get a() {
      calls.push("a");
      return 1;
    },
    get b() {
      calls.push("b");
      return 2;
    },
  };
  for (let i = 0; i < 12; i++) assert.deepStrictEqual(roundTrip(withGetters).value, { a: 1, b: 2 });
  assert.deepStrictEqual(
    calls,
    Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? "a" : "b")),
  );
});

test("a key that a getter deletes as the object is written is left out, as v8.serialize does (also past a shape's made writer)", () => {
  for (let round = 0; round < 30; round++) {
    const make = (): Record<string, unknown> => {
      const o: Record<string, unknown> = { id: round, name: "x", ok: true, v: 1.5 };
      // from round 12 on (the shape has its made writer), reading id deletes the keys after it
      if (round >= 12)
        Object.defineProperty(o, "id", {
          enumerable: true,
          configurable: true,
          get() {
            delete o.ok;
            if (round % 2 === 0) delete o.v;
            return round;
          },
        });
      return o;
    };
    const got = roundTrip(make()).value as object;
    const expected = viaV8(make()) as object;
    assert.deepStrictEqual(got, expected, `round ${round}`);
    assert.deepStrictEqual(Object.keys(got), Object.keys(expected), `round ${round}`);
  }
  // and in an object whose shape was never seen before (the key-by-key writer)
  const once = (): object => {
    const o: Record<string, unknown> = {};
    Object.defineProperty(o, "q0", {
      enumerable: true,
      get() {
        delete o.q2;
        return 0;
      },
    });
    return Object.assign(o, { q1: 1, q2: 2 });
  };
  assert.deepStrictEqual(roundTrip(once()).value, viaV8(once()));
  assert.deepStrictEqual(viaV8(once()), { q0: 0, q1: 1 });
});

test("shapes that alternate, each past its made writer and builder: the last shape (checked first) never stands in for another", () => {
  // Same key count and key-block size as {id, name, ok} but one key different, reordered, a
  // prefix, a superset, an index key (Object.keys puts it first), and the same keys nested.
  const makers: ((i: number) => Record<string, unknown>)[] = [
    (i) => ({ id: i, name: "item", ok: true }),
    (i) => ({ id: i, name: "item", ko: false }),
    (i) => ({ id: i, nam: "item", ok: true }),
    (i) => ({ ok: i % 2 === 0, name: `n${i}`, id: i }),
    (i) => ({ id: i, name: "item" }),
    (i) => ({ id: i, name: "item", ok: true, x: -i }),
    (i) => ({ name: "item", 0: i, ok: null }),
    (i) => ({ id: { id: i, name: "in", ok: false }, name: [{ id: -i, name: "deep", ko: true }], ok: true }),
    () => ({}),
  ];
  const expectKeys = (v: unknown): unknown =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.entries(v).map(([k, x]) => [k, expectKeys(x)])
      : Array.isArray(v)
        ? v.map(expectKeys)
        : v;
  // each shape on its own past COMPILE_AFTER (8) sightings, then every pair alternating, runs of one between
  for (const make of makers) for (let i = 0; i < 12; i++) assert.deepStrictEqual(roundTrip(make(i)).value, make(i));
  let i = 0;
  for (const a of makers) {
    for (const b of makers) {
      for (const pattern of ["abab", "aaab", "abbb"]) {
        for (const c of pattern) {
          const v = (c === "a" ? a : b)(i++);
          const got = roundTrip(v);
          assert.equal(got.tag, T_PLAIN);
          assert.deepStrictEqual(got.value, v);
          assert.deepStrictEqual(expectKeys(got.value), expectKeys(v), "keys in order, nested too");
        }
      }
    }
  }
  // and through a queue, to another thread, in one stream
  const items = Array.from({ length: 3000 }, (_, i) => (makers[(i * 7) % makers.length] as (i: number) => unknown)(i));
  const q = new Queue<unknown>();
  const back = new Queue<unknown>();
  const t = new Thread({
    target: (q: Queue<unknown>, back: Queue<unknown>, n: number) => {
      for (let i = 0; i < n; i++) back.put(q.get());
    },
    args: [q, back, items.length],
  });
  t.start();
  for (const v of items) q.put(v);
  for (const v of items) {
    const got = back.get();
    assert.deepStrictEqual(got, v);
    assert.deepStrictEqual(expectKeys(got), expectKeys(v));
  }
  t.join();
});

test("short one-byte strings come back exact from the table of recent ones: NUL and 128-255 units, trailing NULs, colliding slots", () => {
  // (recentString: 4096 sets of two slots keyed by the length and the packed units, recentMid for
  // 9..16 units: 2048 sets; 40,000 strings meet in every set, and "ab" / "ab\0" / "ab\0\0" pack
  // to the same words)
  const strings: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    const n = 1 + (i % 32);
    let s = "";
    for (let j = 0; j < n; j++) s += String.fromCharCode((i * 7919 + j * 104_729) % 256);
    strings.push(s);
  }
  // every two-unit start followed by 0..14 NULs (0..30 for one start in 16), one after another:
  // the same packed words with another length (some of them meet in one slot)
  for (let x = 0; x < 65_536; x++) {
    const base = String.fromCharCode(x & 255, x >>> 8);
    for (let n = 0; n <= ((x & 15) === 0 ? 30 : 14); n++) {
      const s = base + "\0".repeat(n);
      if (asShortStringItem(s) !== s)
        assert.fail(`${JSON.stringify(s)} came back as ${JSON.stringify(asShortStringItem(s))}`);
    }
  }
  for (let round = 0; round < 3; round++) {
    // forwards, backwards, and as object values and keys (plain.ts STR1)
    const order = round === 1 ? [...strings].reverse() : strings;
    for (const s of order) {
      assert.equal(asShortStringItem(s), s);
      if (round === 2) {
        const got = roundTrip({ [s]: s, v: [s] }).value;
        assert.deepStrictEqual(got, { [s]: s, v: [s] });
      }
    }
  }
});

test("the table of recent short strings: three and more strings of one set in turn, each slot replaced and hit, strings one unit apart", () => {
  // (plain.ts recentString's set index, copied here to find strings that meet in one set: were it
  // changed, these strings would only spread over other sets, and the test would still pass)
  const setOf = (s: string): number => {
    let a = 0;
    let b = 0;
    for (let i = 0; i < s.length; i++) {
      if (i < 4) a |= s.charCodeAt(i) << (8 * i);
      else b |= s.charCodeAt(i) << (8 * (i - 4));
    }
    return Math.imul(a ^ Math.imul(b ^ s.length, 0x85ebca6b), 0x9e3779b1) >>> 20;
  };
  // Strings by set, until some set holds 5 (of every length 1..8)
  const crowded = fiveInOneSet(setOf, (i) =>
    `${String.fromCharCode(33 + (i % 90))}${i.toString(36)}`.slice(0, 1 + (i % 8)),
  );
  // In turn (each miss replaces the slot not used last), in every order of 2, 3, 4 and 5 of them,
  // with repeats (hits in either slot) in between
  checkCrowded(crowded);
  // Strings one unit apart, and one NUL longer or shorter (the same packed words): each comes
  // back as itself after the other was in the table
  for (const s of [
    "item 123",
    "item 124",
    "item 12",
    "item 12\0",
    "a",
    "b",
    "a\0",
    "\0",
    "\0\0",
    "\xff\xff\xff\xff\xff\xff\xff\xff",
    "\xff\xff\xff\xff\xff\xff\xff\xfe",
  ]) {
    for (const t of ["item 123", "item 124", "item 12", "item 12\0", "a", "b", "a\0", "\0", "\0\0"]) {
      assert.equal(asShortStringItem(s), s);
      assert.equal(asShortStringItem(t), t);
      assert.equal(asShortStringItem(s), s);
    }
  }
  // Through a queue (take() decodes SSTR records itself), mixed with numbers and longer strings
  const q = new Queue<unknown>();
  const items: unknown[] = [];
  for (let r = 0; r < 50; r++) for (const s of crowded) items.push(s, r, `${s}${s}${s}`, s.length);
  for (const x of items) q.put(x);
  for (const x of items) assert.equal(q.get(), x);
});

test("the table of recent 9..16-unit strings: five strings of one set in turn, each slot replaced and hit, strings one unit or one NUL apart, alone and in plain data", () => {
  // (plain.ts recentMid's set index, copied here to find strings that meet in one set: were it
  // changed, these strings would only spread over other sets, and the test would still pass)
  const setOf = (s: string): number => {
    const w = [0, 0, 0, 0];
    for (let i = 0; i < s.length; i++) w[i >> 2] = (w[i >> 2] as number) | (s.charCodeAt(i) << (8 * (i & 3)));
    const [a, b, c, d] = w as [number, number, number, number];
    return (
      Math.imul(
        a ^ Math.imul(b ^ Math.imul(c ^ Math.imul(d ^ s.length, 0xc2b2ae35), 0x85ebca6b), 0x27d4eb2f),
        0x9e3779b1,
      ) >>> 21
    );
  };
  const crowded = fiveInOneSet(
    setOf,
    (i) => `user-${i.toString(36)}-${"\xe9xyzuvw".slice(0, i % 8)}`.slice(0, 9 + (i % 8)),
    9,
  );
  checkCrowded(crowded);
  // one unit apart in each word, and one NUL longer or shorter (the same packed words)
  const near = [
    "item 1234",
    "item 1235",
    "item 1234\0",
    "item 1234\0\0\0\0\0\0\0",
    "jtem 1234",
    "item 12345678901",
    "item 12345678902",
    "item 1234567890",
    "item 1234567890\0",
    "\0\0\0\0\0\0\0\0\0",
    "\0\0\0\0\0\0\0\0\0\0",
    "\xff".repeat(16),
    `${"\xff".repeat(15)}\xfe`,
    `\xfe${"\xff".repeat(15)}`,
  ];
  checkNearAndPlain(crowded, near, 8);
});

test("the table of recent 17..32-unit strings: five strings of one set in turn, each slot replaced and hit, strings one unit or one NUL apart, alone and in plain data", () => {
  // (plain.ts recentPacked's set index, copied here to find strings that meet in one set)
  const setOf = (s: string): number => {
    const w = new Int32Array(8);
    for (let i = 0; i < s.length; i++) w[i >> 2] = (w[i >> 2] as number) | (s.charCodeAt(i) << (8 * (i & 3)));
    let h = s.length;
    for (let i = 0; i < (s.length + 3) >> 2; i++) h = Math.imul(h ^ (w[i] as number), 0x9e3779b1);
    return Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 22;
  };
  const crowded = fiveInOneSet(setOf, (i) =>
    `line ${i.toString(36)} ${"\xe9abcdefghijklmnopqrstuvwxyz".repeat(2)}`.slice(0, 17 + (i % 16)),
  );
  checkCrowded(crowded);
  // one unit apart in each word, and one NUL longer or shorter (the same packed words)
  const base = "0123456789abcdefghijklmnopqrstuv";
  const near = [base, base.slice(0, 17), `${base.slice(0, 17)}\0`, `${base.slice(0, 24)}`, `${base.slice(0, 24)}\0`];
  for (let i = 0; i < 32; i += 3) near.push(`${base.slice(0, i)}\xff${base.slice(i + 1)}`);
  near.push("\0".repeat(17), "\0".repeat(32), "\xff".repeat(32), `${"\xff".repeat(31)}\xfe`);
  checkNearAndPlain(crowded, near, 12);
});

/**
 * Five strings `make(i)` (for i = 0, 1, ...; those shorter than `minLength` skipped) that fall in
 * one set of a recent-strings table (`setOf`: a copy of the table's set index).
 */
function fiveInOneSet(setOf: (s: string) => number, make: (i: number) => string, minLength = 0): string[] {
  const bySet = new Map<number, string[]>();
  for (let i = 0; ; i++) {
    const s = make(i);
    if (s.length < minLength) continue;
    const set = setOf(s);
    const list = bySet.get(set) ?? [];
    if (!list.includes(s)) list.push(s);
    bySet.set(set, list);
    if (list.length === 5) return list;
  }
}

/**
 * 2, 3, 4 and 5 strings of one set in turn (each miss replaces the slot not used last), forwards
 * and backwards, with hits of the first in between: each comes back as itself.
 */
function checkCrowded(crowded: string[]): void {
  for (let k = 2; k <= 5; k++) {
    const some = crowded.slice(0, k);
    for (let round = 0; round < 4; round++) {
      for (const s of round % 2 === 0 ? some : [...some].reverse()) {
        assert.equal(asShortStringItem(s), s);
        assert.equal(asShortStringItem(s), s);
        assert.equal(asShortStringItem(some[0] as string), some[0]);
      }
    }
  }
}

/**
 * Strings one unit or one NUL apart (`near`, the same packed words) in pairs; `crowded` and `near`
 * as keys and values of plain data; and through Queue and LifoQueue mixed with numbers, doubled
 * strings and their first `prefix` units (another record kind).
 */
function checkNearAndPlain(crowded: string[], near: string[], prefix: number): void {
  for (const s of near) {
    for (const t of near) {
      assert.equal(asShortStringItem(s), s);
      assert.equal(asShortStringItem(t), t);
      assert.equal(asShortStringItem(s), s);
    }
  }
  // as values and keys of plain data (plain.ts readString takes them from the same table)
  for (const s of [...crowded, ...near]) {
    for (const t of [...crowded, ...near]) {
      const v = { [s]: t, v: [s, t, s], w: { x: s } };
      assert.deepStrictEqual(roundTrip(v).value, v);
    }
  }
  // through every queue kind, mixed with numbers and strings of other records
  const items: string[] = [];
  for (let r = 0; r < 50; r++)
    for (const s of [...crowded, ...near]) items.push(s, `${r}`, `${s}${s}`, s.slice(0, prefix));
  const q = new Queue<unknown>();
  for (const x of items) q.put(x);
  for (const x of items) assert.equal(q.get(), x);
  const lifo = new LifoQueue<unknown>();
  for (const x of items) lifo.put(x);
  for (const x of [...items].reverse()) assert.equal(lifo.get(), x);
}

/** Strings of every kind a program sends: numbers-looking, one-byte, wider, lone surrogates. */
const anyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.string({ unit: fc.constantFrom("a", "\0", "\xff", "\u0100", "\ud800", "\udfff", "\u{1f600}"), maxLength: 24 }),
  fc.string({ unit: "binary", maxLength: 24 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt().map(String),
  fc.string({ minLength: 30, maxLength: 300 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
    minLength: 30,
    maxLength: 300,
  }),
  fc
    .string({
      unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
      minLength: 30,
      maxLength: 300,
    })
    .map((s) => `\u20ac${s}`.slice(1)), // (a string of one-byte units that V8 may hold as two-byte)
);

test("any string comes back exact through a queue item's path (SSTR, MSTR and the rest) and through every queue kind", () => {
  fc.assert(
    fc.property(anyString, (s) => {
      const st = new Staged();
      stageItem(s, st);
      writeRecord(data, 0, st);
      assert.equal(readRecord(data, 0, taken), recordSize(data, 0));
      assert.equal(decodeTaken(taken), s);
    }),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(fc.array(anyString, { maxLength: 30 }), (strings) => {
      const q = new Queue<string>();
      const sq = new SimpleQueue<string>();
      const lifo = new LifoQueue<string>();
      const pq = new PriorityQueue<string>();
      for (const s of strings) {
        q.put(s);
        sq.put(s);
        lifo.put(s);
        pq.put(s);
      }
      for (const s of strings) {
        assert.equal(q.get(), s);
        assert.equal(sq.get(), s);
      }
      for (const s of [...strings].reverse()) assert.equal(lifo.get(), s);
      // (PriorityQueue orders strings by their UTF-16 units, as Python orders str by code points
      // only for BMP text: here only the multiset is compared)
      const got = strings.map(() => pq.get());
      assert.deepStrictEqual([...got].sort(), [...strings].sort());
    }),
    { numRuns: 300 },
  );
  // long ones, around the out-of-line bound (32 Ki units) and past it, one-byte and not
  for (const n of [17, 32, 33, 1000, 32_767, 32_768, 32_769, 65_535, 65_536, 65_537, 100_000]) {
    for (const unit of ["a", "\xe9", "\u20ac", "\ud800"]) {
      const s = `${"x".repeat(n - 1)}${unit}`;
      const q = new Queue<string>();
      q.put(s);
      q.put(unit + s.slice(1));
      assert.equal(q.get(), s);
      assert.equal(q.get(), unit + s.slice(1));
    }
  }
});

test("a queue's strings of 33..65,536 units that fit in one byte a unit are LSTR records (one byte a unit); a wider unit anywhere keeps the string UTF-16", () => {
  const check = (s: string, lstr: boolean) => {
    const st = new Staged();
    stageItem(s, st);
    assert.equal(st.tag === T_LSTR, lstr, `${s.length} units, ${JSON.stringify(s.slice(0, 40))}`);
    if (data.cap < st.size) data.grow(st.size);
    writeRecord(data, 0, st);
    if (lstr) assert.equal(recordSize(data, 0), 8 + ((s.length + 7) & ~7));
    assert.equal(readRecord(data, 0, taken), recordSize(data, 0));
    assert.equal(decodeTaken(taken), s);
    // stage() (SharedDict's records) never makes one
    const plain = new Staged();
    stage(s, plain);
    assert.notEqual(plain.tag, T_LSTR);
  };
  for (const n of [31, 32, 33, 34, 39, 40, 41, 100, 1023, 1024, 1025, 65_535, 65_536, 65_537]) {
    const base = "0123456789abcdefghijklmnopqrstuvwxyz".repeat(Math.ceil(n / 36) + 1).slice(0, n);
    for (const at of [0, 1, Math.floor(n / 2), n - 2, n - 1]) {
      for (const unit of [0, 1, 127, 128, 200, 255, 256, 0x3b1, 0x20ac, 0xd800, 0xdfff, 0xffff]) {
        const s = base.slice(0, at) + String.fromCharCode(unit) + base.slice(at + 1);
        check(s, n > 32 && n <= 65_536 && unit < 256);
        // the same units in a string V8 holds as two-byte (sliced out of a wider one)
        check(`\u20ac${s}`.slice(1), n > 32 && n <= 65_536 && unit < 256);
      }
    }
  }
  // a surrogate pair, a lone surrogate of each kind, at the end of a long one-byte run
  for (const tail of ["\u{1f600}", "\ud83d", "\ude00", "\ude00\ud83d"]) check(`${"x".repeat(100)}${tail}`, false);
  // through every queue kind, mixed with numbers and shorter strings, the ring wrapping and growing
  const items: unknown[] = [];
  for (let i = 0; i < 3000; i++)
    items.push(
      `{"id":${i},"name":"caf\xe9 ${"x".repeat(i % 200)}"}`,
      i,
      `item ${i}`,
      `\u20ac${i}${"y".repeat(i % 50)}`,
    );
  for (const q of [new Queue<unknown>(), new SimpleQueue<unknown>()]) {
    for (const x of items) q.put(x);
    for (const x of items) assert.equal(q.get(), x);
  }
  const lifo = new LifoQueue<unknown>();
  for (const x of items) lifo.put(x);
  for (const x of [...items].reverse()) assert.equal(lifo.get(), x);
  // a bounded queue whose producer waits for room (another thread takes the items)
  const q = new Queue<unknown>(8);
  const back = new Queue<unknown>();
  const t = new Thread({
    target: (q: Queue<unknown>, back: Queue<unknown>, n: number) => {
      for (let i = 0; i < n; i++) back.put(q.get());
    },
    args: [q, back, items.length],
  });
  t.start();
  for (const x of items) q.put(x);
  for (const x of items) assert.equal(back.get(), x);
  t.join();
});

test("a program's own RegExp.prototype.exec does not decide which strings are written one byte a unit", () => {
  const exec = RegExp.prototype.exec;
  const wide = `${"x".repeat(50)}\u20ac`;
  try {
    RegExp.prototype.exec = () => null; // (says "no unit above 255" for every string)
    const st = new Staged();
    stageItem(wide, st);
    assert.notEqual(st.tag, T_LSTR);
    const q = new Queue<string>();
    q.put(wide);
    assert.equal(q.get(), wide);
  } finally {
    RegExp.prototype.exec = exec;
  }
});

test("strings cross to another thread exact (SSTR, MSTR and the rest)", () => {
  const values = fc.sample(anyString, { numRuns: 2000, seed: 7 });
  for (let i = 0; i < 2000; i++) values.push(`item ${i}`, `user-${100_000 + i}`, `{"id":${i},"ok":true}`);
  const q = new Queue<string>();
  const back = new Queue<string>();
  const t = new Thread({
    target: (q: Queue<string>, back: Queue<string>, n: number) => {
      for (let i = 0; i < n; i++) back.put(q.get());
    },
    args: [q, back, values.length],
  });
  t.start();
  for (const v of values) q.put(v);
  for (const v of values) assert.equal(back.get(), v);
  t.join();
});

test("a shape's made builder reads short one-byte strings inline: every length 0..12 around the 8-unit bound, NUL, 128-255 and wider units", () => {
  for (let i = 0; i < 12; i++) roundTrip({ id: i, name: "warm", ok: true, tail: "x" }); // past the made builder
  const units = [0, 1, 65, 127, 128, 255, 0x100, 0xd800];
  for (let n = 0; n <= 12; n++) {
    for (const u of units) {
      for (let at = 0; at < Math.max(n, 1); at++) {
        let s = "";
        for (let j = 0; j < n; j++) s += String.fromCharCode(j === at ? u : 97 + ((j * 5) % 26));
        const v = { id: n, name: s, ok: u > 127, tail: s.slice(0, 3) };
        const got = roundTrip(v);
        assert.equal(got.tag, T_PLAIN);
        assert.deepStrictEqual(got.value, v, JSON.stringify(s));
        assert.deepStrictEqual(Object.keys(got.value as object), ["id", "name", "ok", "tail"]);
      }
    }
  }
});
