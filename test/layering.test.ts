// The library's layers (ARCHITECTURE.md, "Layers"; issue 12): every module of src/ imports only
// from its own layer and the layers below it, and no module that the package barrel (src/index.ts)
// loads imports the barrel. Reads the sources (TypeScript's parser, so comments and strings never
// count), names every import that breaks a rule with its file and line.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

/** Bottom to top: a module may import from its own layer and the ones before it. */
const LAYERS = ["shared", "logging", "transport", "sync", "queue", "state", "threads", "futures", "distributed"];
/** src/ files outside the layer directories: errors.ts is shared; the entries are above everything. */
const TOP_FILES: Record<string, string> = { "errors.ts": "shared" };
const BARREL = "index.ts";
const ABOVE_ALL = new Set([BARREL, "internal.ts"]);

interface Import {
  from: string;
  to: string;
  line: number;
  typeOnly: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Every relative import, export-from and import() of a source file, resolved to a path under src/. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (spec: ts.Expression | undefined, node: ts.Node, typeOnly: boolean): void => {
    if (spec === undefined || !ts.isStringLiteralLike(spec) || !spec.text.startsWith(".")) return;
    const to = relative(src, join(dirname(file), spec.text.replace(/\.js$/, ".ts")));
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    out.push({ from: relative(src, file), to, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, node, typeOnly);
    } else if (ts.isExportDeclaration(node)) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.length > 0 &&
          node.exportClause.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier, node, typeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], node, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, node, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function layerOf(path: string): string | undefined {
  const top = path.split("/")[0] as string;
  if (!path.includes("/")) return TOP_FILES[top];
  return LAYERS.includes(top) ? top : undefined;
}

const all = files(src).map((f) => relative(src, f));
const imports = files(src).flatMap(importsOf);

test("every module sits in a layer", () => {
  const loose = all.filter((f) => !ABOVE_ALL.has(f) && layerOf(f) === undefined);
  assert.deepEqual(loose, [], `modules in no layer (add them to LAYERS or TOP_FILES here): ${loose.join(", ")}`);
});

test("imports go down the layers only: shared -> logging -> transport -> sync -> queue -> state -> threads -> futures -> distributed", () => {
  const bad: string[] = [];
  for (const i of imports) {
    if (ABOVE_ALL.has(i.from)) continue;
    const from = layerOf(i.from);
    const to = ABOVE_ALL.has(i.to) ? "the package entry" : layerOf(i.to);
    if (from === undefined || to === undefined) continue; // reported by the test above
    if (to === "the package entry") continue; // the barrel rule below
    if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) {
      bad.push(`src/${i.from}:${i.line} imports src/${i.to}${i.typeOnly ? " (types)" : ""}: ${from} is below ${to}`);
    }
  }
  assert.deepEqual(bad, [], `imports against the layers:\n  ${bad.join("\n  ")}`);
});

test("logging stands on shared only", () => {
  const bad = imports
    .filter((i) => layerOf(i.from) === "logging" && !["shared", "logging"].includes(layerOf(i.to) ?? ""))
    .map((i) => `src/${i.from}:${i.line} imports src/${i.to}`);
  assert.deepEqual(bad, [], `logging importing more than shared:\n  ${bad.join("\n  ")}`);
});

test("only the bundle's own entries load the barrel, and the barrel reaches none of them (no cycle)", () => {
  // A module loaded by path in a thread (the hub, a thread's worker, the pool's and Timer's module
  // targets, ...) imports the whole library so the bundle keeps one shared chunk for all its
  // entries (scripts/bundle.mjs). Any other module importing the barrel, or the barrel loading such
  // an entry, is a cycle through a half-initialized src/index.ts.
  const bundle = readFileSync(join(root, "scripts", "bundle.mjs"), "utf8");
  const entries = new Set([...bundle.matchAll(/"src\/([^"]+\.ts)"/g)].map((m) => m[1] as string));
  assert.ok(entries.has(BARREL) && entries.size > 5, "the entry points of scripts/bundle.mjs were not found");
  // (The barrel's own `import * as self` only names its exports.)
  const importers = imports.filter((i) => i.to === BARREL && i.from !== BARREL && !i.typeOnly);
  const bad = importers
    .filter((i) => !entries.has(i.from))
    .map(
      (i) =>
        `src/${i.from}:${i.line} imports the package barrel src/index.ts (import the module that defines what it needs)`,
    );
  // What the barrel loads at run time (type-only imports load nothing).
  const reached = new Map<string, string>([[BARREL, BARREL]]);
  const todo = [BARREL];
  for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
    for (const i of imports) {
      if (i.from !== f || i.typeOnly || reached.has(i.to)) continue;
      reached.set(i.to, `${reached.get(f)} -> ${i.to}`);
      todo.push(i.to);
    }
  }
  for (const i of importers) {
    if (reached.has(i.from)) {
      bad.push(
        `src/${i.from}:${i.line} imports the package barrel, which loads it: ${reached.get(i.from)} -> index.ts`,
      );
    }
  }
  assert.deepEqual(bad, [], `imports of the package barrel:\n  ${bad.join("\n  ")}`);
});
