// The tokenizer behind function targets (src/transport/js-tokens.ts): real import() expressions are
// rewritten, text that only looks like one (strings, templates, regexes, comments) never is.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Queue, Thread } from "threading";
import { rewriteImports, tokenize } from "../../dist/internal.js";

const R = "__I";
const rw = (s: string) => rewriteImports(s, R);

test("the issue's cases: strings, templates and regexes containing import( are left alone", () => {
  for (const s of [
    `() => "call import(x)"`,
    `() => 'import("./a.js")'`,
    "() => `import(${1})`",
    "() => /import\\(/.test('import(')",
    `() => { // import(x)
      return 1; }`,
    "() => /* import(x) */ 1",
    "() => String.raw`\\import(`",
    "() => x.import(1)",
    "() => x?.import(1)",
    "() => ({ import(a) { return a; } })",
    "() => class { static import(a) { return a; } }",
    "() => import.meta.url",
  ]) {
    assert.equal(rw(s), s, s);
  }
});

test("real import() expressions are rewritten, wherever they stand", () => {
  const cases: [string, string][] = [
    [`async () => import("./a.js")`, `async () => ${R}("./a.js")`],
    [`async () => await import ( "./a.js" )`, `async () => await ${R} ( "./a.js" )`],
    [`async () => import/*c*/("./a.js")`, `async () => ${R}/*c*/("./a.js")`],
    ["async () => `${await import('./a.js')}`", `async () => \`\${await ${R}('./a.js')}\``],
    ["async () => `a${`b${await import('./a.js')}`}`", `async () => \`a\${\`b\${await ${R}('./a.js')}\`}\``],
    [`async (a) => a / 2 / (await import("./m.js")).x`, `async (a) => a / 2 / (await ${R}("./m.js")).x`],
    [
      `async () => { if (x) /import\\(/.test(s); return import("./a.js"); }`,
      `async () => { if (x) /import\\(/.test(s); return ${R}("./a.js"); }`,
    ],
    [`async () => [/[/]import\\(/, import("./a.js")]`, `async () => [/[/]import\\(/, ${R}("./a.js")]`],
    [`async () => "\\"import(" + import("./a.js")`, `async () => "\\"import(" + ${R}("./a.js")`],
  ];
  for (const [source, expected] of cases) assert.equal(rw(source), expected, source);
});

test("regex or division: decided by the token before the slash", () => {
  const kinds = (s: string) => tokenize(s).map((t) => t.type);
  assert.deepEqual(kinds("a / b / c"), ["name", "punct", "name", "punct", "name"]);
  assert.deepEqual(kinds("(a) / b / c"), ["punct", "name", "punct", "punct", "name", "punct", "name"]);
  assert.deepEqual(kinds("x = /b/g"), ["name", "punct", "regex"]);
  assert.deepEqual(kinds("return /b/"), ["name", "regex"]);
  assert.deepEqual(kinds("x.return / 2"), ["name", "punct", "name", "punct", "number"]);
  assert.deepEqual(kinds("if (a) /b/.test(c)").slice(0, 5), ["name", "punct", "name", "punct", "regex"]);
  assert.deepEqual(kinds("f(a) / 2"), ["name", "punct", "name", "punct", "punct", "number"]);
  assert.deepEqual(kinds("a++ / 2"), ["name", "punct", "punct", "number"]);
  assert.deepEqual(kinds("`${a}` / 2"), ["template", "name", "template", "punct", "number"]);
  assert.deepEqual(kinds("[1] / 2"), ["punct", "number", "punct", "punct", "number"]);
});

// Escapers that make any text a literal of each kind.
const asTemplate = (s: string) => `\`${s.replace(/[\\`]/g, "\\$&").replace(/\$\{/g, "\\${")}\``;
const asRegex = (s: string) =>
  `/${s.replace(/[\\/[\]()*+?.{}|^$]/g, "\\$&").replace(/[\n\r\u2028\u2029]/g, "\\n") || "x"}/`;
const text = fc.oneof(
  fc.string(),
  fc.tuple(fc.string(), fc.string()).map(([a, b]) => `${a}import(${b}`),
  fc.constantFrom("import(", 'import("./x.js")', "/*", "*/", "//", "`", "${", "}", "'", '"', "\\", "/"),
);

test("property: a string, template or regex literal of any text evaluates to that text after the rewrite", () => {
  fc.assert(
    fc.property(text, (s) => {
      for (const literal of [JSON.stringify(s), asTemplate(s)]) {
        const source = `() => ${literal}`;
        const out = rw(source);
        assert.equal(out, source);
        assert.equal(new Function(`return (${out})`)()(), s);
      }
      const re = asRegex(s);
      const source = `(x) => ${re}.source`;
      assert.equal(rw(source), source);
    }),
    { numRuns: 300 },
  );
});

test("property: comments of any text are left alone; real imports around them are all rewritten", () => {
  const piece = fc.oneof(
    text.map((s) => ({ code: `/*${s.replace(/\*\//g, "* /")}*/`, real: 0 })),
    text.map((s) => ({ code: `// ${s.replace(/[\n\r\u2028\u2029]/g, " ")}\n`, real: 0 })),
    text.map((s) => ({ code: `${JSON.stringify(s)};`, real: 0 })),
    text.map((s) => ({ code: `${asTemplate(s)};`, real: 0 })),
    text.map((s) => ({ code: `x = ${asRegex(s)};`, real: 0 })),
    fc.constant({ code: "y = a / 2 / b;", real: 0 }),
    fc.constant({ code: 'z = import("./m.js");', real: 1 }),
    fc.constant({ code: 'w = a / import("./m.js") / 2;', real: 1 }),
    fc.constant({ code: "v = `${import('./m.js')}`;", real: 1 }),
    fc.constant({ code: "if (a) /import\\(/.test(b); else import('./m.js');", real: 1 }),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      const source = `async function f(a, b) {\n${pieces.map((p) => p.code).join("\n")}\n}`;
      const out = rw(source);
      const expected = pieces.reduce((n, p) => n + p.real, 0);
      assert.equal(out.split(`${R}(`).length - 1, expected, source);
      // Only the import keywords changed: undoing the rewrite gives the source back.
      assert.equal(out.replaceAll(`${R}(`, "import("), source);
      // And what was code is still code that parses.
      new Function(`return (${out})`);
    }),
    { numRuns: 300 },
  );
});

test("property: the tokenizer never throws, and its tokens are ordered and inside the source", () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(..."ab/*`'\"${}()[]\\\n =.i1#") }), (s) => {
      let at = 0;
      for (const t of tokenize(s)) {
        assert.ok(t.start >= at && t.end > t.start && t.end <= s.length, JSON.stringify(s));
        at = t.end;
      }
    }),
    { numRuns: 1000 },
  );
});

test("in a thread: text that looks like import( arrives unchanged, and real imports still resolve", {
  timeout: 30_000,
}, () => {
  const q = new Queue();
  const t = new Thread({
    target: async (out: Queue) => {
      const path = await import("node:path");
      out.put(["call import(x)", `import(${1})`, /import\(/.test("import("), typeof path.join]);
    },
    args: [q],
  });
  t.start();
  t.join();
  assert.deepEqual(q.get(true, 10), ["call import(x)", "import(1)", true, "function"]);
});
