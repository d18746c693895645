/**
 * local: thread-local data, as Python's `threading.local`.
 *
 * Shared state: none. A `local` crosses threads as an id (plus, for a subclass, the constructor
 * arguments and the class source in meta); each thread keeps its own namespace for that id in
 * `namespaces`, a plain Map of this module instance. A worker may run one thread after another
 * with the same module instances (threads/worker.ts): when a thread has ended, its namespaces are
 * dropped (onThreadReset), so the next thread on that worker finds every local empty and a
 * subclass constructor runs again on first use; a pool thread keeps its namespaces across the
 * tasks it runs (one connection per thread).
 * The object is a Proxy: every property access goes to the calling thread's namespace, made empty
 * on first use in that thread. A namespace has the local's class prototype as its prototype, so
 * methods and accessors of a subclass work on it.
 * Subclasses (Python's `__init__` re-run): on first use in a thread, the subclass constructor runs
 * again with the arguments it passed to super(...args): `Reflect.construct` makes the base
 * constructor return the existing proxy (`reinit`), so the subclass body fills this thread's
 * namespace. In another thread the subclass arrives as source (like a Thread subclass), with every
 * export of `threading` in scope; it cannot close over its creating module's variables.
 * Lifetime: the namespace of a local made in this thread lives as long as the object; one that
 * arrived from another thread stays as long as the thread (it may arrive again, e.g. per task).
 */
import {
  kShare,
  adoptedRecord,
  newObjectId,
  registerKind,
  revive,
  type ShareRecord,
  ShareRefused,
} from "../transport/shareable.js";
import { onThreadReset } from "../shared/thread-reset.js";
import { callerFile } from "../transport/target.js";
import { evaluate } from "../transport/target.js";

interface ClassSpec {
  name: string;
  source: string;
}

interface LocalMeta {
  args: unknown[];
  classes: ClassSpec[];
  base: string;
}

interface LocalState {
  id: number;
  proxy: object;
  /** The class to run again in a new thread (`local` itself: nothing to run). */
  ctor: Function;
  args: unknown[];
  /** Reviving the subclass failed here: thrown on first use. */
  error?: unknown;
  origin: string;
}

const namespaces = new Map<number, object>();
const states = new WeakMap<object, LocalState>();
const forget = new FinalizationRegistry<number>((id) => namespaces.delete(id));
let reinit: object | undefined;

// A new thread on this worker sees every local fresh (and re-runs subclass constructors).
onThreadReset(() => namespaces.clear());

const privateField = /(^|[^\w$.])#[A-Za-z_$]/;

function namespaceOf(target: object): object {
  const st = states.get(target) as LocalState;
  let ns = namespaces.get(st.id);
  if (ns === undefined) {
    ns = Object.create(Object.getPrototypeOf(target)) as object;
    namespaces.set(st.id, ns);
    if (st.error !== undefined) throw st.error;
    if (st.ctor !== local) {
      reinit = st.proxy;
      try {
        Reflect.construct(st.ctor, st.args);
      } finally {
        reinit = undefined;
      }
    }
  }
  return ns;
}

const handler: ProxyHandler<object> = {
  get(target, key, receiver) {
    if (key === kShare || key === Symbol.toStringTag) return Reflect.get(target, key, receiver);
    return Reflect.get(namespaceOf(target), key, receiver);
  },
  set(target, key, value) {
    return Reflect.set(namespaceOf(target), key, value);
  },
  has(target, key) {
    return Reflect.has(namespaceOf(target), key);
  },
  deleteProperty(target, key) {
    return Reflect.deleteProperty(namespaceOf(target), key);
  },
  ownKeys(target) {
    return Reflect.ownKeys(namespaceOf(target));
  },
  getOwnPropertyDescriptor(target, key) {
    const d = Reflect.getOwnPropertyDescriptor(namespaceOf(target), key);
    if (d) d.configurable = true; // the proxy target never has it: it must be reported configurable
    return d;
  },
  defineProperty(target, key, descriptor) {
    return Reflect.defineProperty(namespaceOf(target), key, { ...descriptor, configurable: true });
  },
};

/**
 * Thread-local data, as Python's `threading.local()`: the same object in every thread it is
 * passed to, with a separate, initially empty set of attributes in each thread.
 * A subclass constructor runs again in each thread on first use, with the arguments it passed
 * to `super(...args)`; `new local(x)` itself takes no arguments (TypeError, as in Python).
 */
export class local {
  /** Python's `mydata.x = 1`: any attribute, per thread; a subclass may declare typed fields. */
  // biome-ignore lint/suspicious/noExplicitAny: attributes of any type, as Python's
  [attribute: string]: any;

  constructor(...args: unknown[]) {
    if (reinit !== undefined) {
      const proxy = reinit;
      reinit = undefined;
      // biome-ignore lint/correctness/noConstructorReturn: the per-thread proxy is the object
      return proxy as local;
    }
    const record = adoptedRecord();
    let state: Omit<LocalState, "proxy">;
    if (record) {
      const meta = record.meta as LocalMeta | undefined;
      state = { id: record.id, ctor: local, args: meta?.args ?? [], origin: "" };
      if (meta && meta.classes.length > 0) {
        try {
          state.ctor = reviveClass(meta);
          Object.setPrototypeOf(this, state.ctor.prototype);
        } catch (e) {
          state.error = e;
        }
      }
    } else {
      if (new.target === local && args.length > 0) throw new TypeError("Initialization arguments are not supported");
      state = { id: newObjectId(), ctor: new.target, args, origin: new.target === local ? "" : callerFile() };
    }
    const proxy = new Proxy(this, handler);
    const full = { ...state, proxy };
    states.set(this, full);
    states.set(proxy, full);
    if (!record) {
      namespaces.set(full.id, Object.create(Object.getPrototypeOf(this)) as object);
      forget.register(proxy, full.id);
    }
    // biome-ignore lint/correctness/noConstructorReturn: the per-thread proxy is the object
    return proxy as local;
  }

  /** @internal */
  [kShare](): ShareRecord {
    const st = states.get(this) as LocalState;
    if (st.ctor === local) return { kind: "local", id: st.id, buffers: [] };
    return { kind: "local", id: st.id, buffers: [], meta: { args: st.args, classes: classChain(st), base: st.origin } };
  }

  get [Symbol.toStringTag](): string {
    return "local";
  }

  static {
    registerKind("local", (record) => revive(local, record));
  }
}

/** The sources of the classes between the local's class and `local`, base-most first. */
function classChain(st: LocalState): ClassSpec[] {
  const classes: ClassSpec[] = [];
  for (let C = st.ctor; C !== local; C = Object.getPrototypeOf(C)) {
    if (typeof C !== "function") throw new TypeError("local: not a local subclass");
    const source = Function.prototype.toString.call(C);
    if (privateField.test(source)) {
      throw new ShareRefused(
        `local subclass ${C.name} has #private members, which JavaScript cannot copy into another thread (use _name or TypeScript's private)`,
      );
    }
    classes.unshift({ name: C.name, source });
  }
  return classes;
}

/** Evaluates a subclass chain in this thread, each class with its base in scope. */
function reviveClass(meta: LocalMeta): Function {
  let C: Function = local;
  const scope: Record<string, unknown> = {};
  for (const { name, source } of meta.classes) {
    C = evaluate(source, meta.base, { ...scope }) as Function;
    if (name) scope[name] = C;
  }
  return C;
}
