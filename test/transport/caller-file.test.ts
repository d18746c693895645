// callerFile() (transport/target.ts): the user file a relative module target resolves against is
// the first file outside the library that the stack trace names, as the trace names it: under
// source maps (tsx, --enable-source-maps) the original file. With source maps on, the frames are
// read unmapped and only those outside the library are mapped (the library's own source maps are
// never parsed for it); what it finds must be what the whole mapped trace names.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

const T = { timeout: 120_000 };
const lib = new URL("../../dist/index.js", import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), "threading-caller-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// gen/app.mjs says (inline source map) that it was made from orig/app.mjs, line for line; each
// directory has its own work.mjs, which says which one ran.
const app = (prelude: string): string => {
  const lines = [
    prelude,
    `const { Thread } = await import(${JSON.stringify(lib)});`,
    `const t = new Thread({ target: { module: "./work.mjs", export: "run" } });`,
    "t.start();",
    "t.join();",
  ];
  const map = {
    version: 3,
    sources: ["../orig/app.mjs"],
    names: [],
    mappings: ["AAAA", ...lines.slice(1).map(() => "AACA")].join(";"),
  };
  return `${lines.join("\n")}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString("base64")}\n`;
};
for (const sub of ["gen", "orig"]) {
  mkdirSync(join(dir, sub));
  writeFileSync(join(dir, sub, "work.mjs"), `export function run() { console.log(${JSON.stringify(sub)}); }\n`);
}
// A prepareStackTrace of the program's own (as source-map-support installs): callerFile() reads the
// stack as that one writes it, here the frames unmapped.
const ownPrepare =
  "Error.prepareStackTrace = (e, sites) => [String(e), ...sites.map((s) => '    at ' + s)].join('\\n');";
writeFileSync(join(dir, "gen", "app.mjs"), app(""));
writeFileSync(join(dir, "gen", "own.mjs"), app(ownPrepare));
writeFileSync(join(dir, "orig", "app.mjs"), "// (the original of gen/app.mjs)\n");

function run(flags: string[], file: string): string {
  const r = spawnSync(process.execPath, [...flags, join(dir, "gen", file)], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test(
  "a relative module target resolves against the file the stack trace names, with and without source maps",
  T,
  () => {
    assert.equal(run([], "app.mjs"), "gen");
    assert.equal(run(["--enable-source-maps"], "app.mjs"), "orig");
    // A program's own Error.prepareStackTrace is read as it writes the stack.
    assert.equal(run(["--enable-source-maps"], "own.mjs"), "gen");
  },
);

// A function target's relative import() resolves against the file that made the thread (API.md),
// also when the same function object was started before from another file, and a Timer's too. A
// function with no import() started again from its own file needs no stack (target.ts placedBase()):
// its stack frames in the thread still name the line it is written on.
mkdirSync(join(dir, "a"));
mkdirSync(join(dir, "b"));
for (const sub of ["a", "b"]) {
  writeFileSync(join(dir, sub, "work.mjs"), `export function run() { console.log(${JSON.stringify(sub)}); }\n`);
}
writeFileSync(
  join(dir, "a", "targets.mjs"),
  [
    `import { Thread, Timer } from ${JSON.stringify(lib)};`,
    `export const importer = () => import("./work.mjs").then((m) => m.run());`,
    "",
    "",
    `export const thrower = () => { throw new Error("where"); };`,
    "export function startHere(fn) { const t = new Thread({ target: fn }); t.start(); t.join(); }",
    "",
  ].join("\n"),
);
writeFileSync(
  join(dir, "b", "app.mjs"),
  [
    `import { Thread, Timer, excepthook, setExcepthook } from ${JSON.stringify(lib)};`,
    `import { importer, thrower, startHere } from "../a/targets.mjs";`,
    "startHere(importer);", // made in a/: prints a
    "const t = new Thread({ target: importer });", // made here: prints b
    "t.start(); t.join();",
    `const timer = new Timer(0, () => import("./work.mjs").then((m) => m.run()));`, // b
    "timer.start(); timer.join();",
    "setExcepthook((args) => console.log(args.excValue.stack.split('\\n')[1].trim().replace(/^.*\\//, '')));",
    "startHere(thrower);", // frames name a/targets.mjs line 5 column 38, both times
    "const u = new Thread({ target: thrower });",
    "u.start(); u.join();",
    "",
  ].join("\n"),
);

test(
  "relative import() of a function target resolves against the file that made the thread, whichever file made it first",
  T,
  () => {
    const r = spawnSync(process.execPath, [join(dir, "b", "app.mjs")], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["a", "b", "b", "targets.mjs:5:38)", "targets.mjs:5:38)"]);
  },
);
