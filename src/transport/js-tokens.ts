/**
 * A small JavaScript tokenizer, for what the library must know about a function target's source
 * without a parser dependency: where its real `import(...)` expressions are (target.ts rewrites
 * them), and which names it uses (free-names.ts).
 *
 * It knows what hides code-looking text: string literals, template literals (with `${}` nested to
 * any depth, templates inside substitutions included), regular expression literals (told from a
 * division by the token before the slash, and by what opened the parenthesis before it: `if (x)
 * /re/` is a regex, `(x) / 2` a division), and comments. Everything else is names, numbers and
 * punctuators. It never throws: on source it does not understand (an unterminated literal) the
 * rest becomes one token of that kind.
 */

export type TokenType = "name" | "private" | "number" | "string" | "template" | "regex" | "punct";

/** One token: its type, its text, where it starts and ends in the source (end exclusive). */
export interface Token {
  type: TokenType;
  value: string;
  start: number;
  end: number;
  /** For a template token: true if it is the part after a `}` of a substitution (not its start). */
  templateTail?: boolean;
}

/** Keywords after which a `/` starts a regular expression (an expression is expected there). */
const regexAfterWord = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
  "extends",
]);
/** Keywords whose parenthesized part is followed by a statement: `if (x) /re/.test(s)`. */
const statementParen = new Set(["if", "while", "for", "with"]);

const punctuators = [
  ">>>=",
  "...",
  "===",
  "!==",
  "**=",
  "<<=",
  ">>=",
  ">>>",
  "&&=",
  "||=",
  "??=",
  "=>",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "??",
  "?.",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "<<",
  ">>",
  "**",
];

function isIdStart(c: string): boolean {
  return /[\p{ID_Start}$_\\]/u.test(c);
}
function isIdPart(c: string): boolean {
  return /[\p{ID_Continue}$\\\u200c\u200d]/u.test(c);
}

/** Splits `source` into tokens (comments and whitespace dropped). */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const n = source.length;
  let i = 0;
  // One entry per open `{`, `(` or `[`: for `{`, whether it opened a template substitution; for
  // `(`, whether a statement keyword preceded it.
  const stack: { open: string; template?: boolean; statement?: boolean }[] = [];
  /** The last significant token, and whether a `)` just closed a statement head. */
  let last: Token | undefined;
  let afterStatementParen = false;

  const push = (type: TokenType, start: number, end: number, extra?: Partial<Token>): void => {
    const token: Token = { type, value: source.slice(start, end), start, end, ...extra };
    tokens.push(token);
    last = token;
  };

  const regexAllowed = (afterStatementHead: boolean): boolean => {
    if (!last) return true;
    if (last.type === "name") return regexAfterWord.has(last.value) && !isProperty(tokens);
    if (last.type === "punct") {
      if (last.value === ")") return afterStatementHead;
      if (last.value === "]") return false;
      if (last.value === "}") return true;
      if (last.value === "++" || last.value === "--") return false;
      return true;
    }
    if (last.type === "template") return !last.value.endsWith("`");
    return false;
  };

  /** Reads a template part from `from` (just after its "`" or "}") to its "`" or "${". */
  const templatePart = (start: number, from: number, tail: boolean): void => {
    let j = from;
    while (j < n) {
      const c = source[j];
      if (c === "\\") {
        j += 2;
        continue;
      }
      if (c === "`") {
        push("template", start, j + 1, tail ? { templateTail: true } : undefined);
        i = j + 1;
        return;
      }
      if (c === "$" && source[j + 1] === "{") {
        push("template", start, j + 2, tail ? { templateTail: true } : undefined);
        stack.push({ open: "{", template: true });
        i = j + 2;
        return;
      }
      j++;
    }
    push("template", start, n, tail ? { templateTail: true } : undefined);
    i = n;
  };

  while (i < n) {
    const c = source[i] as string;
    // Whitespace and line terminators.
    if (/[\s\uFEFF]/u.test(c)) {
      i++;
      continue;
    }
    // Comments.
    if (c === "/" && source[i + 1] === "/") {
      while (i < n && !/[\n\r\u2028\u2029]/.test(source[i] as string)) i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    const wasStatementParen = afterStatementParen;
    afterStatementParen = false;
    const start = i;
    // Strings.
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && source[j] !== c && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      push("string", start, Math.min(j + 1, n));
      i = j + 1;
      continue;
    }
    // Templates.
    if (c === "`") {
      templatePart(start, i + 1, false);
      continue;
    }
    // Regular expressions.
    if (c === "/") {
      if (regexAllowed(wasStatementParen)) {
        let j = i + 1;
        let inClass = false;
        while (j < n) {
          const d = source[j];
          if (d === "\\") {
            j += 2;
            continue;
          }
          if (d === "\n") break;
          if (inClass) {
            if (d === "]") inClass = false;
          } else if (d === "[") inClass = true;
          else if (d === "/") break;
          j++;
        }
        j++;
        while (j < n && isIdPart(source[j] as string)) j++;
        push("regex", start, Math.min(j, n));
        i = j;
        continue;
      }
    }
    // Numbers (a leading dot followed by a digit too).
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(source[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < n) {
        const d = source[j] as string;
        if (/[0-9a-zA-Z_.]/.test(d)) j++;
        else if (
          (d === "+" || d === "-") &&
          /[eE]/.test(source[j - 1] as string) &&
          !/^0[xX]/.test(source.slice(start, j))
        )
          j++;
        else break;
      }
      push("number", start, j);
      i = j;
      continue;
    }
    // Names (and #private names).
    if (isIdStart(c) || (c === "#" && isIdStart(source[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < n && isIdPart(source[j] as string)) j += source[j] === "\\" ? 2 : 1;
      j = Math.min(j, n);
      push(c === "#" ? "private" : "name", start, j);
      i = j;
      continue;
    }
    // Punctuators.
    if (c === "{" || c === "(" || c === "[") {
      const statement = c === "(" && last?.type === "name" && statementParen.has(last.value) && !isProperty(tokens);
      stack.push({ open: c, statement });
      push("punct", start, i + 1);
      i++;
      continue;
    }
    if (c === "}" || c === ")" || c === "]") {
      const top = stack.pop();
      if (c === "}" && top?.template) {
        templatePart(start, i + 1, true);
        continue;
      }
      push("punct", start, i + 1);
      afterStatementParen = c === ")" && top?.statement === true;
      i++;
      continue;
    }
    const p = punctuators.find((q) => source.startsWith(q, i));
    // `?.` followed by a digit is `?` then a number (`a?.5:1`).
    const len = p && !(p === "?." && /[0-9]/.test(source[i + 2] ?? "")) ? p.length : 1;
    push("punct", start, i + len);
    i += len;
  }
  return tokens;
}

/** True if the last token is a property name (`x.if`), not a keyword. */
function isProperty(tokens: Token[]): boolean {
  const before = tokens[tokens.length - 2];
  return before?.type === "punct" && (before.value === "." || before.value === "?.");
}

/** Index of the token that closes the bracket opened at `open` (tokens.length if none). */
export function closing(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.type === "template") {
      // A template's substitution opens at its head/middle part and closes at the next tail.
      if (t.value.endsWith("${")) depth++;
      if (t.templateTail) depth--;
      continue;
    }
    if (t.type !== "punct") continue;
    if (t.value === "(" || t.value === "[" || t.value === "{") depth++;
    else if (t.value === ")" || t.value === "]" || t.value === "}") {
      depth--;
      if (depth === 0) return k;
    }
  }
  return tokens.length;
}

/**
 * The tokens of `import(...)` expressions (dynamic imports) in `tokens`: an `import` name not
 * after `.`/`?.` and followed by `(`, and not a method named import (`{ import(x) { ... } }`).
 */
export function dynamicImports(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.type !== "name" || t.value !== "import") continue;
    const next = tokens[k + 1];
    if (next?.type !== "punct" || next.value !== "(") continue;
    const prev = tokens[k - 1];
    if (prev?.type === "punct" && (prev.value === "." || prev.value === "?.")) continue;
    const after = tokens[closing(tokens, k + 1) + 1];
    if (after?.type === "punct" && after.value === "{") continue;
    out.push(t);
  }
  return out;
}

/** `source` with every dynamic `import(` made a call of `replacement` (same length or not). */
export function rewriteImports(source: string, replacement: string): string {
  const imports = dynamicImports(tokenize(source));
  if (imports.length === 0) return source;
  let out = "";
  let at = 0;
  for (const t of imports) {
    out += source.slice(at, t.start) + replacement;
    at = t.end;
  }
  return out + source.slice(at);
}
