/**
 * The free names of a function target's source: the names it reads that it does not declare
 * itself. A function target travels as source text, without its closure, so such a name exists
 * in the thread only if it is a global, an export of `threading` or an esbuild helper; any other
 * is a variable of the creating scope and would fail there with a bare ReferenceError. start() and
 * submit() use this to raise a TypeError naming them before anything runs (target.ts).
 *
 * Built on the tokenizer (js-tokens.ts), not a parser, and so deliberately conservative: a false
 * "free name" would refuse a correct target, a missed one only leaves the ReferenceError in the
 * thread. So every name in any binding position anywhere in the source (parameters, destructuring
 * patterns with their keys and defaults, var/let/const, function and class names, catch
 * parameters) counts as declared for the whole source, scopes ignored, and a name is a reference
 * only where it cannot be anything else: not after `.`/`?.`, not an object key or a label (a name
 * before `:` outside a `?:`/`case`), not a method name (`name(...) {`), not a member of a class body
 * (field initializers at the class body's level are skipped too), not after `typeof`, `break`,
 * `continue`, not a keyword or contextual keyword (`async`, `get`, `of`, ...), and not a name with
 * a unicode escape.
 */
import { closing, type Token, tokenize } from "./js-tokens.js";

/** How a free name is used: bare (`x`, `x()`), and which properties are read off it (`x.y`). */
export interface FreeName {
  bare: boolean;
  members: Set<string>;
}

const keywords = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await async of get set arguments " +
    "accessor"
  ).split(" "),
);
/** Keywords before a parenthesized head that is not a parameter list: `if (x) {`. */
const headKeywords = new Set(["if", "while", "for", "switch", "with"]);

function isPunct(t: Token | undefined, value: string): boolean {
  return t?.type === "punct" && t.value === value;
}

function isOpen(t: Token | undefined): boolean {
  return t?.type === "punct" && (t.value === "(" || t.value === "[" || t.value === "{");
}

/**
 * The free names of `source` (a function expression), with how each is used. With `read`, also
 * puts there every name the source could read anywhere: each name token not after `.`/`?.`,
 * declared or not, in any scope, after `typeof`, as a key or member (escapes left as written).
 * That is the other side of the conservative coin: a name left out of the free names (declared
 * somewhere in the source, a default value, a class field) may still be read in some scope.
 */
export function freeNames(source: string, read?: Set<string>): Map<string, FreeName> {
  const tokens = tokenize(source);
  const n = tokens.length;
  if (read) {
    for (let k = 0; k < n; k++) {
      const t = tokens[k] as Token;
      if (t.type === "name" && !isPunct(tokens[k - 1], ".") && !isPunct(tokens[k - 1], "?.")) read.add(t.value);
    }
  }
  const declared = new Set<string>();
  /** Tokens that are names at the level of a class body (member names, field initializers). */
  const member = new Uint8Array(n);

  const declareIn = (from: number, to: number): void => {
    for (let k = from; k <= to && k < n; k++) {
      const t = tokens[k] as Token;
      if (t.type === "name") declared.add(t.value);
    }
  };

  for (let k = 0; k < n; k++) {
    const t = tokens[k] as Token;
    const prev = tokens[k - 1];
    const next = tokens[k + 1];
    if (t.type === "name" && (isPunct(prev, ".") || isPunct(prev, "?."))) continue;
    if (t.type === "name") {
      if (t.value === "function") {
        let j = k + 1;
        if (isPunct(tokens[j], "*")) j++;
        if (tokens[j]?.type === "name") declared.add((tokens[j] as Token).value);
        continue;
      }
      if (t.value === "class") {
        if (next?.type === "name" && next.value !== "extends") declared.add(next.value);
        // The body: the first `{` at this depth after the heritage.
        let j = k + 1;
        while (j < n && !isPunct(tokens[j], "{")) j = isOpen(tokens[j]) ? closing(tokens, j) + 1 : j + 1;
        const end = closing(tokens, j);
        for (let m = j + 1; m < end; m++) {
          member[m] = 1;
          if (isOpen(tokens[m])) m = closing(tokens, m);
        }
        continue;
      }
      if (
        t.value === "var" ||
        t.value === "const" ||
        (t.value === "let" && (next?.type === "name" || isOpen(next))) ||
        isUsingDeclaration(tokens, k)
      ) {
        let j = k + 1;
        for (;;) {
          const d = tokens[j];
          if (d?.type === "name") {
            declared.add(d.value);
            j++;
          } else if (isPunct(d, "{") || isPunct(d, "[")) {
            const end = closing(tokens, j);
            declareIn(j, end);
            j = end + 1;
          } else break;
          if (isPunct(tokens[j], "=")) {
            // Skip the initializer: up to a `,` or `;` at this depth, or the end of the enclosing bracket.
            for (j++; j < n; j++) {
              const e = tokens[j] as Token;
              if (isOpen(e)) j = closing(tokens, j);
              else if (e.type === "punct" && (e.value === "," || e.value === ";" || /[)\]}]/.test(e.value))) break;
            }
          }
          if (!isPunct(tokens[j], ",")) break;
          j++;
        }
        continue;
      }
      // A single arrow parameter: `x => ...`.
      if (isPunct(next, "=>")) declared.add(t.value);
      continue;
    }
    // A parameter list: `(...)` followed by `=>`, or by `{` when not an `if (...) {`-style head.
    if (isPunct(t, "(")) {
      const end = closing(tokens, k);
      const after = tokens[end + 1];
      const arrow = isPunct(after, "=>");
      const body = isPunct(after, "{") && !(prev?.type === "name" && headKeywords.has(prev.value));
      if (arrow || body) declareIn(k + 1, end - 1);
    }
  }

  const free = new Map<string, FreeName>();
  for (let k = 0; k < n; k++) {
    const t = tokens[k] as Token;
    if (t.type !== "name" || member[k] || keywords.has(t.value) || declared.has(t.value) || t.value.includes("\\"))
      continue;
    if (isUsingDeclaration(tokens, k)) continue;
    const prev = tokens[k - 1];
    const next = tokens[k + 1];
    if (isPunct(prev, ".") || isPunct(prev, "?.")) continue;
    if (prev?.type === "name" && (prev.value === "typeof" || prev.value === "break" || prev.value === "continue"))
      continue;
    // An object key or a label, unless it is the middle of `a ? b : c` or a `case b:`.
    if (isPunct(next, ":") && !isPunct(prev, "?") && !(prev?.type === "name" && prev.value === "case")) continue;
    // A method: `name(...) {`.
    if (isPunct(next, "(") && isPunct(tokens[closing(tokens, k + 1) + 1], "{")) continue;
    let use = free.get(t.value);
    if (!use) {
      use = { bare: false, members: new Set() };
      free.set(t.value, use);
    }
    const prop = tokens[k + 2];
    if (isPunct(next, ".") && prop?.type === "name") use.members.add(prop.value);
    else use.bare = true;
  }
  return free;
}

/**
 * `using x = ...` / `await using x = ...` (explicit resource management; Node 24+ runs it natively,
 * so a target's source keeps it): `using` is a contextual keyword there, not a name.
 */
function isUsingDeclaration(tokens: readonly Token[], k: number): boolean {
  const t = tokens[k];
  const next = tokens[k + 1];
  return t?.type === "name" && t.value === "using" && next?.type === "name" && isPunct(tokens[k + 2], "=");
}
