/**
 * A Barrier's action in the thread that runs it: the creator's own function, or the target
 * compiled again from its spec (function source or `{ module, export }`) in another thread.
 *
 * A blocking `Barrier.wait()` cannot await, but `compileTarget()` (transport/target.ts) is async.
 * So each thread starts compiling as soon as the Barrier arrives, and when a blocking wait needs
 * the action before that finished, a function action is compiled synchronously (evaluate()), in
 * the same scope a function target gets. A module action cannot be imported synchronously: a blocking
 * wait that needs it before it has loaded throws a RuntimeError saying so (waitAsync() waits for it).
 * A thread's worker awaits `actionsLoading()` after decoding the thread's arguments, so the module
 * actions of Barriers passed to a thread are ready before its target runs.
 * Likewise an action that returns a promise: waitAsync() awaits it before the round is released;
 * a blocking wait() cannot, and throws a RuntimeError instead (callNow()), breaking the barrier.
 */
import { RuntimeError } from "../errors.js";
import { thenable } from "../shared/thenable.js";
import { compileTarget, evaluate, type TargetSpec } from "../transport/target.js";

type Fn = (...args: unknown[]) => unknown;

const loading = new Set<Promise<unknown>>();

/** Settles once every action this thread has started loading is ready (or failed). */
/** True while some action is loading (actionsLoading() would wait). */
export function actionsPending(): boolean {
  return loading.size > 0;
}

export async function actionsLoading(): Promise<void> {
  while (loading.size > 0) await Promise.allSettled([...loading]);
}

/** An action as one thread holds it. */
export class Action {
  readonly spec: TargetSpec;
  #fn: Fn | undefined;
  #failed: { error: unknown } | undefined;
  #loading: Promise<unknown> | undefined;

  /** `fn`: the creator's own function (then nothing is compiled in this thread). */
  constructor(spec: TargetSpec, fn?: Fn) {
    this.spec = spec;
    this.#fn = fn;
    if (fn) return;
    const p = Promise.resolve()
      .then(() => compileTarget(spec))
      .then(
        (f) => {
          this.#fn ??= f;
        },
        (error) => {
          this.#failed = { error };
        },
      )
      .finally(() => loading.delete(p));
    loading.add(p);
    this.#loading = p;
  }

  /** The callable, for a blocking wait (see the file comment). */
  now(): Fn {
    if (this.#fn) return this.#fn;
    if (this.#failed) throw this.#failed.error;
    if (this.spec.kind === "function") {
      this.#fn = compileFunctionSync(this.spec);
      return this.#fn;
    }
    throw new RuntimeError(
      `Barrier action ${this.spec.module} (export ${this.spec.export}) is still being imported in this thread: ` +
        "a blocking wait() cannot wait for an import; use waitAsync(), or let the thread await once first",
    );
  }

  /**
   * Calls the action for a blocking wait. An action that returns a promise (an async function)
   * cannot be awaited there, and the round would be released before the action is over (and its
   * rejection be an unhandled one): that is a RuntimeError, which breaks the barrier as an action
   * that raises does; the promise's own outcome is dropped. waitAsync() awaits it.
   */
  callNow(args: unknown[]): unknown {
    const result = this.now()(...args);
    if (thenable(result)) {
      result.then(undefined, () => {});
      const name = this.spec.kind === "function" ? this.spec.name || "(anonymous)" : this.spec.module;
      throw new RuntimeError(
        `Barrier action ${name} returned a promise: a blocking wait() cannot wait for it, and the action must be ` +
          "over before the parties are released; make it synchronous, or wait with waitAsync() in every party",
      );
    }
    return result;
  }

  /** The callable, once loaded. */
  async ready(): Promise<Fn> {
    if (!this.#fn && this.#loading) await this.#loading;
    return this.now();
  }
}

function compileFunctionSync(spec: Extract<TargetSpec, { kind: "function" }>): Fn {
  return evaluate(
    spec.source,
    spec.base,
    {},
    { name: spec.name, location: spec.location, namespaces: spec.namespaces },
  ) as Fn;
}
