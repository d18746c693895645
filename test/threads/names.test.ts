// Thread names of any length (src/shared/runtime.ts writeName/tableName, threads/thread.ts name):
// the table keeps NAME_MAX (122) UTF-16 units and the full length; the start request carries the
// whole name (a dock request over its string limit goes through the hub), so the thread's own
// currentThread().name, its entry in its own enumerate() and the excepthook's args.thread.name are
// the whole name, on a fresh worker, a reused one and `isolated: true`. A cut never splits a pair.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  currentThread,
  dumpThreads,
  enumerate,
  type ExceptHookArgs,
  setExcepthook,
  SimpleQueue,
  Thread,
} from "threading";

const T = { timeout: 120_000 };
const emoji = "\u{1F600}";
const names = [
  "x".repeat(122),
  "y".repeat(123),
  "z".repeat(1000),
  "w".repeat(100000),
  `${"a".repeat(121)}${emoji}tail`,
  `${"b".repeat(120)}${emoji}${emoji}`,
  `é${emoji}ü`,
];

function seen(out: SimpleQueue<string[]>) {
  const me = currentThread();
  out.put([me.name, enumerate().find((t) => t.ident === me.ident)?.name ?? "(missing)"]);
}

for (const isolated of [false, true]) {
  test(`long and non-ASCII names arrive whole (isolated: ${isolated})`, T, () => {
    for (const name of names) {
      // twice: the second run lands on the worker the first one left (reused) unless isolated
      for (let round = 0; round < 2; round++) {
        const out = new SimpleQueue<string[]>();
        const t = new Thread({ target: seen, args: [out], name, isolated });
        t.start();
        t.join();
        assert.equal(t.name, name);
        const [own, listed] = out.get({ timeout: 30 });
        assert.equal(own?.length, name.length, `currentThread().name of a ${name.length}-unit name`);
        assert.equal(own, name);
        assert.equal(listed, name);
      }
    }
  });
}

test("an empty name gets the default", T, () => {
  const t = new Thread({ target: () => {}, name: "" });
  assert.match(t.name, /^Thread-\d+/);
});

test("the excepthook gets the whole name", T, () => {
  const got: string[] = [];
  setExcepthook((a: ExceptHookArgs) => {
    got.push(a.thread?.name ?? "(none)");
  });
  try {
    for (const name of [names[2] as string, names[4] as string]) {
      const t = new Thread({
        target: () => {
          throw new Error("boom");
        },
        name,
      });
      t.start();
      t.join();
    }
  } finally {
    setExcepthook(null);
  }
  assert.deepEqual(got, [names[2], names[4]]);
});

test("a rename after start: the thread sees it; another thread sees the table's prefix", T, () => {
  const out = new SimpleQueue<string[]>();
  const go = new SimpleQueue<number>();
  const t = new Thread({
    target: (o: SimpleQueue<string[]>, g: SimpleQueue<number>) => {
      g.get();
      o.put([currentThread().name]);
      currentThread().name = `${"r".repeat(130)}!`;
      o.put([currentThread().name]);
      g.get();
    },
    args: [out, go],
    name: "short",
  });
  t.start();
  t.name = "q".repeat(500);
  go.put(1);
  const [first] = out.get({ timeout: 30 }) as string[];
  // the thread's own object is a handle: it learns the rename through the table, where a name
  // over 122 units is its prefix and "…" (open: carrying a long rename across whole)
  assert.equal(first, `${"q".repeat(122)}\u2026`);
  const [second] = out.get({ timeout: 30 }) as string[];
  assert.equal(second, `${"r".repeat(130)}!`);
  go.put(1);
  t.join();
  assert.equal(t.name, "q".repeat(500));
  const dump = dumpThreads();
  assert.ok(!dump.includes("\uD83D\u2026"));
});
