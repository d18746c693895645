/**
 * The targets of this thread's pools: each function (and each source text, e.g. the same arrow
 * function made again in a loop; with the calling file when the source holds an import(), which
 * resolves against it) and each module target is described once (transport/target.ts)
 * and given a key, which tasks carry instead of the target; a pool thread is sent a target's
 * description once, with the first task that needs it. Keys are per thread.
 */
import {
  callerFile,
  checkFreeNames,
  describeTarget,
  isModuleTarget,
  ownName,
  type TargetSpec,
} from "../transport/target.js";

const byFunction = new WeakMap<Function, number>();
const bySource = new Map<string, number>();
const byObject = new WeakMap<object, number>();
const byModule = new Map<string, number>();
const specs: TargetSpec[] = [];
/** Keys of function targets whose free names were checked (checkFreeNames) and are all in scope. */
const checked = new Set<number>();

/**
 * The key of target `fn`. Its free names are checked unless `check` is false: a pool with an
 * initializer, which may define globals the tasks read (as Python's initializer sets globals).
 */
export function targetKey(fn: unknown, where: string, check = true): number {
  if (typeof fn === "function") {
    let key = byFunction.get(fn);
    if (key === undefined) {
      const source = Function.prototype.toString.call(fn);
      // An import() in the source resolves against the calling file (the spec's base): then one
      // source from two files is two targets
      const base = source.includes("import") ? callerFile() : undefined;
      const sourceKey = base === undefined ? source : `${base}\u0000${source}`;
      key = bySource.get(sourceKey); // e.g. the same arrow function made again in a loop
      if (key === undefined) {
        key = specs.push(describeTarget(fn, where, base, false)) - 1;
        bySource.set(sourceKey, key);
      }
      byFunction.set(fn, key);
    }
    if (check && !checked.has(key)) {
      const spec = specs[key] as TargetSpec & { kind: "function" };
      checkFreeNames(spec.source, where, ownName(spec.name));
      checked.add(key);
    }
    return key;
  }
  if (isModuleTarget(fn)) {
    let key = byObject.get(fn);
    if (key !== undefined) return key;
    const spec = describeTarget(fn, where) as TargetSpec & { kind: "module" };
    const name = `${spec.module}#${spec.export}`;
    key = byModule.get(name);
    if (key === undefined) {
      key = specs.push(spec) - 1;
      byModule.set(name, key);
    }
    byObject.set(fn, key);
    return key;
  }
  throw new TypeError(`${where} must be a function or { module, export }, not ${fn === null ? "null" : typeof fn}`);
}

/** The description of the target with `key`. */
export function targetSpec(key: number): TargetSpec {
  return specs[key] as TargetSpec;
}
