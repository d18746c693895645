/**
 * Synchronous evaluation of source text in the scope a function target gets in a thread: every
 * export of `threading` under its own name, esbuild's helpers, and `import()` resolved against the
 * file that made the object. Used where a shared object must turn source back into a function or
 * class without awaiting (a blocking Barrier.wait(), reviving a local subclass).
 * TODO(lead): threads/target.ts's evaluate() does the same asynchronously (only its first call
 * needs to await the library); a synchronous export there would replace this copy.
 */
import * as lib from "../index.js";
import { esbuildHelpers } from "../threads/helpers.js";
import { beforeUserImport } from "../threads/loaders.js";

let scope: { names: string[]; values: unknown[] } | undefined;

/** Evaluates the expression `source` with the library in scope, plus `extra` names. */
export function evaluateSync(source: string, base: string, extra: Record<string, unknown> = {}): unknown {
  if (!scope) {
    const entries = Object.entries({ ...esbuildHelpers, ...(lib as Record<string, unknown>) });
    scope = { names: entries.map(([k]) => k), values: entries.map(([, v]) => v) };
  }
  const names: string[] = [];
  const values: unknown[] = [];
  scope.names.forEach((name, i) => {
    if (!(name in extra)) {
      names.push(name);
      values.push(scope?.values[i]);
    }
  });
  const importer = async (specifier: unknown) => {
    await beforeUserImport();
    const s = String(specifier);
    return import(s.startsWith("./") || s.startsWith("../") ? new URL(s, base).href : s);
  };
  const body = `"use strict"; return (${source.replace(/(?<![\w$.])import\s*\(/g, "__threadingImport(")});`;
  const extraNames = Object.keys(extra);
  const make = new Function(...names, "__threadingImport", ...extraNames, body);
  return make(...values, importer, ...extraNames.map((k) => extra[k]));
}
