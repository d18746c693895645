/**
 * The targets of this thread's pools: each function (and each source text, e.g. the same arrow
 * function made again in a loop; with the calling file when the source holds an import(), which
 * resolves against it) and each module target is described once (transport/target.ts)
 * and given a key, which tasks carry instead of the target; a pool thread is sent a target's
 * description once, with the first task that needs it. Keys are per thread and never reused.
 *
 * Bounded: the function sources met last (SOURCES_MAX, least recently used first out) keep their
 * keys. A key whose source has left them is dropped once nothing holds it (no task in a pool's
 * table, no submission or map() under way: retainTarget()/releaseTarget()); its pool threads
 * are then told to forget it (onTargetDropped(), pool-worker.ts), and that source, met again, is
 * described again under a new key. So a program submitting ever new sources (a function made
 * from text in a loop) holds at most SOURCES_MAX of them plus those in use, here and in its
 * pool threads. Module targets are few (one per module export) and are kept.
 */
import {
  callerFile,
  checkFreeNames,
  describeTarget,
  isModuleTarget,
  ownName,
  type TargetSpec,
} from "../transport/target.js";

/** How many function sources keep their keys while unused (as transport/target.ts's 256 descriptions). */
export const SOURCES_MAX = 256;

const byFunction = new WeakMap<Function, number>();
/** Source (with its base) -> key, least recently used first; at most SOURCES_MAX. */
const bySource = new Map<string, number>();
/** Key -> its entry in bySource, while it has one. */
const sourceOf = new Map<number, string>();
const byObject = new WeakMap<object, number>();
const byModule = new Map<string, number>();
const specs = new Map<number, TargetSpec>();
let nextKey = 0;
/**
 * How many tasks and submissions under way hold each key (absent or 0: none). A key that stays
 * (a recent source, a module) keeps its entry at 0: a task awaited at a time would otherwise
 * insert and delete it each time (about 0.4 µs a task in V8's Map, against 0.04 for a get and set).
 */
const uses = new Map<number, number>();
/** Keys of function targets whose free names were checked (checkFreeNames) and are all in scope. */
const checked = new Set<number>();
const dropListeners: ((key: number) => void)[] = [];

/** Calls `fn(key)` for each key dropped from now on: no task holds it, and it will never be used again. */
export function onTargetDropped(fn: (key: number) => void): void {
  dropListeners.push(fn);
}

function drop(key: number): void {
  uses.delete(key);
  specs.delete(key);
  checked.delete(key);
  for (const fn of dropListeners) fn(key);
}

/** A task (or a submission under way) holds `key`: its description stays until releaseTarget(). */
export function retainTarget(key: number): void {
  uses.set(key, (uses.get(key) ?? 0) + 1);
}

/** The end of one retainTarget(key). */
export function releaseTarget(key: number): void {
  const n = (uses.get(key) ?? 0) - 1;
  if (n > 0) {
    uses.set(key, n);
    return;
  }
  // A function source that left the recent ones: nothing else can reach its key.
  if (!sourceOf.has(key) && specs.get(key)?.kind === "function") drop(key);
  else uses.set(key, 0);
}

/** The key remember() marked last (the newest of bySource): marking it again changes nothing. */
let newest = -1;

/** Marks `sourceKey` as the one used last; the least recently used past SOURCES_MAX leaves. */
function remember(sourceKey: string, key: number): void {
  newest = key;
  bySource.delete(sourceKey);
  bySource.set(sourceKey, key);
  sourceOf.set(key, sourceKey);
  while (bySource.size > SOURCES_MAX) {
    const [oldest, old] = bySource.entries().next().value as [string, number];
    bySource.delete(oldest);
    sourceOf.delete(old);
    if (!((uses.get(old) ?? 0) > 0)) drop(old);
  }
}

/**
 * The key of target `fn`. Its free names are checked unless `check` is false: a pool with an
 * initializer, which may define globals the tasks read (as Python's initializer sets globals).
 * The caller retains the key (retainTarget()) before anything else may run, for as long as it
 * submits tasks with it.
 */
export function targetKey(fn: unknown, where: string, check = true): number {
  if (typeof fn === "function") {
    let key = byFunction.get(fn);
    if (key !== undefined && !specs.has(key)) key = undefined; // dropped since
    if (key === undefined) {
      const source = Function.prototype.toString.call(fn);
      // An import() in the source resolves against the calling file (the spec's base): then one
      // source from two files is two targets
      const base = source.includes("import") ? callerFile() : undefined;
      const sourceKey = base === undefined ? source : `${base}\u0000${source}`;
      key = bySource.get(sourceKey); // e.g. the same arrow function made again in a loop
      if (key === undefined) {
        key = nextKey++;
        specs.set(key, describeTarget(fn, where, base, false));
      }
      remember(sourceKey, key);
      byFunction.set(fn, key);
    } else if (key !== newest) {
      // (The same target submitted again and again is the newest already: no Map churn per task.)
      const sourceKey = sourceOf.get(key);
      if (sourceKey !== undefined) remember(sourceKey, key);
    }
    if (check && !checked.has(key)) {
      const spec = specs.get(key) as TargetSpec & { kind: "function" };
      checkFreeNames(spec.source, where, ownName(spec.name), spec.namespaces);
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
      key = nextKey++;
      specs.set(key, spec);
      byModule.set(name, key);
    }
    byObject.set(fn, key);
    return key;
  }
  throw new TypeError(`${where} must be a function or { module, export }, not ${fn === null ? "null" : typeof fn}`);
}

/** The description of the target with `key` (one retained, or just returned by targetKey()). */
export function targetSpec(key: number): TargetSpec {
  const spec = specs.get(key);
  if (spec === undefined) throw new Error(`threading: pool target #${key} was dropped while in use`);
  return spec;
}

/** @internal For tests: how many function sources keep their keys, and how many descriptions are held. */
export function targetCounts(): { sources: number; specs: number; inUse: number } {
  let inUse = 0;
  for (const n of uses.values()) if (n > 0) inUse++;
  return { sources: bySource.size, specs: specs.size, inUse };
}
