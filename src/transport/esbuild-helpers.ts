/**
 * The helpers esbuild (and so tsx) inserts into compiled function bodies. A function target's
 * source refers to them by name; in the thread that runs it they must exist, so they are put in
 * the target's scope. Same behaviour as esbuild's runtime, written for this library.
 */

const disposeSym = (name: "dispose" | "asyncDispose"): symbol =>
  (Symbol as unknown as Record<string, symbol>)[name] ?? Symbol.for(`Symbol.${name}`);

function typeError(message: string): never {
  throw new TypeError(message);
}

type Entry = [isAsync: boolean, dispose?: () => unknown, value?: unknown];

export const esbuildHelpers: Record<string, unknown> = {
  __defProp: Object.defineProperty,
  __name: <T>(target: T, value: string): T =>
    Object.defineProperty(target as object, "name", { value, configurable: true }) as T,
  __knownSymbol: (name: string, symbol?: symbol) =>
    (Symbol as unknown as Record<string, symbol>)[name] ?? symbol ?? Symbol.for(`Symbol.${name}`),
  __typeError: typeError,
  __publicField: (obj: object, key: PropertyKey, value: unknown) => {
    Object.defineProperty(obj, typeof key !== "symbol" ? `${String(key)}` : key, {
      enumerable: true,
      configurable: true,
      writable: true,
      value,
    });
    return value;
  },
  __async: (self: unknown, args: unknown[], gen: (...a: unknown[]) => Generator) =>
    new Promise((resolve, reject) => {
      const it = gen.apply(self, args);
      const step = (method: "next" | "throw", arg?: unknown) => {
        let r: IteratorResult<unknown>;
        try {
          r = it[method](arg);
        } catch (e) {
          reject(e);
          return;
        }
        if (r.done) resolve(r.value);
        else
          Promise.resolve(r.value).then(
            (v) => step("next", v),
            (e) => step("throw", e),
          );
      };
      step("next");
    }),
  __using: (stack: Entry[], value: unknown, isAsync?: boolean) => {
    if (value != null) {
      if (typeof value !== "object" && typeof value !== "function") typeError("Object expected");
      let dispose: (() => unknown) | undefined;
      if (isAsync) dispose = (value as Record<symbol, () => unknown>)[disposeSym("asyncDispose")];
      if (dispose === undefined) {
        const sync = (value as Record<symbol, () => unknown>)[disposeSym("dispose")];
        dispose =
          isAsync && sync
            ? function (this: unknown) {
                try {
                  sync.call(this);
                } catch (e) {
                  return Promise.reject(e);
                }
              }
            : sync;
      }
      if (typeof dispose !== "function") typeError("Object not disposable");
      stack.push([Boolean(isAsync), dispose, value]);
    } else if (isAsync) {
      stack.push([true]);
    }
    return value;
  },
  __callDispose: (stack: Entry[], error: unknown, hasError: boolean) => {
    const Suppressed =
      (globalThis as unknown as { SuppressedError?: new (e: unknown, s: unknown, m: string) => Error })
        .SuppressedError ??
      function (this: unknown, e: unknown, s: unknown, m: string) {
        const err = new Error(m) as Error & { error: unknown; suppressed: unknown };
        err.name = "SuppressedError";
        err.error = e;
        err.suppressed = s;
        return err;
      };
    const fail = (e: unknown) => {
      error = hasError
        ? new (Suppressed as new (e: unknown, s: unknown, m: string) => Error)(
            e,
            error,
            "An error was suppressed during disposal",
          )
        : e;
      hasError = true;
    };
    const next = (): unknown => {
      for (let entry = stack.pop(); entry; entry = stack.pop()) {
        try {
          const result = entry[1]?.call(entry[2]);
          if (entry[0]) return Promise.resolve(result).then(next, (e) => (fail(e), next()));
        } catch (e) {
          fail(e);
        }
      }
      if (hasError) throw error;
      return undefined;
    };
    return next();
  },
};
