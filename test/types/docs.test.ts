// TSDoc on every export: each declaration the package's entry points export (following `export *`
// and the `logging` namespace), and each public member of an exported class or interface, has a
// doc comment in dist/*.d.ts (one per group of overloads). Members named with `_` or a symbol
// (internal hooks) are left out.
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

test("every exported declaration and public member in dist/*.d.ts has a doc comment", { timeout: 120_000 }, () => {
  const entries = ["index", "queue/index", "distributed/index"].map((e) => join(root, "dist", `${e}.d.ts`));
  const program = ts.createProgram(entries, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const documented = (d: ts.Node): boolean =>
    ts.getJSDocCommentsAndTags(d).length > 0 ||
    (ts.isVariableDeclaration(d) && ts.getJSDocCommentsAndTags(d.parent.parent).length > 0);
  const where = (d: ts.Node): string => {
    const sf = d.getSourceFile();
    return `${relative(root, sf.fileName)}:${sf.getLineAndCharacterOfPosition(d.getStart()).line + 1}`;
  };
  const missing = new Set<string>();
  for (const entry of entries) {
    const sf = program.getSourceFile(entry);
    assert.ok(sf, `${entry} is missing: build first`);
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    assert.ok(moduleSymbol);
    const todo: [ts.Symbol, string][] = checker.getExportsOfModule(moduleSymbol).map((s) => [s, ""]);
    for (let next = todo.shift(); next; next = todo.shift()) {
      let [symbol, prefix] = next;
      if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      for (const d of symbol.declarations ?? []) {
        if (ts.isSourceFile(d)) {
          // `export * as logging from "./logging.js"`: the namespace's own exports.
          for (const s of checker.getExportsOfModule(symbol)) todo.push([s, `${prefix}${next[0].name}.`]);
          continue;
        }
        if (!documented(d)) missing.add(`${where(d)} ${prefix}${symbol.name}`);
        if (!ts.isClassDeclaration(d) && !ts.isInterfaceDeclaration(d)) continue;
        const members = d.members as ts.NodeArray<ts.ClassElement | ts.TypeElement>;
        for (const m of members) {
          if (!m.name || !ts.isIdentifier(m.name) || m.name.text.startsWith("_")) continue;
          if (
            ts.getCombinedModifierFlags(m as ts.Declaration) &
            (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)
          )
            continue;
          const name = m.name.text;
          const group = members.filter((o) => o.name && ts.isIdentifier(o.name) && o.name.text === name);
          if (!group.some(documented)) missing.add(`${where(m)} ${prefix}${symbol.name}.${name}`);
        }
      }
    }
  }
  assert.deepEqual([...missing].sort(), [], "exports without a doc comment (add /** ... */ in src)");
});
