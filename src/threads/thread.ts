/**
 * Thread: Python's `threading.Thread` on a real JavaScript thread (a worker_threads Worker).
 *
 * In the creating thread a Thread is the user's object; in every other thread it is a *handle*
 * (built from the thread table) with name, ident, nativeId, daemon, isAlive() and join(). Each
 * thread has one object per thread ident, so enumerate(), currentThread() and a Thread received
 * from another thread agree (`===`).
 *
 * start(): claim a table slot (STARTING), send the target and the encoded arguments (and, for a
 * subclass, its source and own fields) to an idle worker parked in a dock (dock.ts: a plain start,
 * no hub involved) or else to the hub, and wait on the slot until the worker marks it RUNNING. The worker runs run(); when it is over, it sends the subclass's fields back on a
 * MessagePort, then marks the slot ENDED. Because the fields are posted before the slot ends, the
 * creator finds them (receiveMessageOnPort) whenever it sees the thread ended: fields are copied
 * back before isAlive() turns false, even while the creator's event loop is not running.
 */
import { MessageChannel, type MessagePort, type ResourceLimits, receiveMessageOnPort } from "node:worker_threads";
import { RuntimeError } from "../errors.js";
import {
  boot,
  G,
  HUB_DEAD,
  HUB_READY,
  isIdentAlive,
  liveThreads,
  NEXT_THREAD_NUMBER,
  readName,
  ownName,
  tableName,
  SLOT_DAEMON,
  isDaemonWord,
  MAIN_STOPPED,
  SLOT_IDENT,
  SLOT_NATIVE_ID,
  SLOT_STATE,
  STARTING,
  slotIndex,
  stateOf,
  writeName,
} from "../shared/runtime.js";
import {
  checkOptions,
  deadlineOf,
  runDuties,
  type Timeout,
  timeoutMs,
  untilAsync,
  untilBlocking,
  waitAsync,
  SpinBackoff,
  spinWhile,
  waitBlocking,
  checkArgCount,
} from "../shared/wait.js";
import { decode } from "../transport/decode.js";
import { type Encoded, encode } from "../transport/encode.js";
import { kShare, lookup, registerKind, remember, type ShareRecord } from "../transport/shareable.js";
import { checkResourceLimits } from "./resource-limits.js";
import { startFailure } from "../transport/directory.js";
import { onThreadReset } from "../shared/thread-reset.js";
import { firstStartOverdue, firstWorkerLoadsLibrary, handToFirstWorker } from "./first-worker.js";
import { ensureHub, sendToHub } from "./hub-client.js";
import {
  claimSlot as claimThread,
  markEnded as endThread,
  handedOver,
  markFailed,
  START_LOST,
  takeFailure,
} from "./table.js";
import { handToDock, handWokeWorker } from "./dock.js";
import { locate, type SourceLocation } from "../transport/locate.js";
import {
  callerFile,
  placedBase,
  checkFreeNames,
  checkModuleTarget,
  describeTarget,
  type ModuleTarget,
  namespacesRead,
  type TargetSpec,
} from "../transport/target.js";
import { unrefOwn } from "../shared/own-unref.js";

/** Threads marked by markJoinedAtExit(). */
const joinedAtExit = new WeakSet<Thread>();

/**
 * @internal Marks a not yet started pool thread (futures/executor.ts): it is not daemon, yet the
 * exit does not wait for it (its executor finishes its tasks at exit; threads/table.ts claimSlot).
 */
export function markJoinedAtExit(thread: Thread): void {
  joinedAtExit.add(thread);
}

/**
 * Options of `new Thread()`, as Python's keyword arguments; `args` is required when the target
 * needs arguments (`ThreadOptions<[number]>`), optional when it takes none or only optional ones.
 */
// biome-ignore lint/suspicious/noExplicitAny: as Thread
export type ThreadOptions<A extends unknown[] = any[]> = ThreadOptionsBase<A> &
  ([] extends A ? { args?: A | undefined } : { args: A });

/** The options of `new Thread()` whatever the target needs (`ThreadOptions` says when `args` is required). */
// biome-ignore lint/suspicious/noExplicitAny: as Thread
export interface ThreadOptionsBase<A extends unknown[] = any[]> {
  /** What run() calls: a function (sent as source) or `{ module, export }`. */
  target?: ((...args: A) => unknown) | ModuleTarget | undefined;
  /**
   * Arguments for the target; copied into the thread (shared objects stay shared). Checked against
   * `Sendable` of the target's parameters: functions and objects with methods cannot be sent.
   */
  args?: A | undefined;
  /** Default (also for "") "Thread-N", or "Thread-N (fn)" for a named function target. */
  name?: string | undefined;
  /** Default: the creating thread's daemon flag. */
  daemon?: boolean | undefined;
  /**
   * Objects in `args` to move into the thread rather than copy, as worker_threads' transferList:
   * MessagePorts (the usual case) and ArrayBuffers (emptied here).
   */
  transferList?: (MessagePort | ArrayBuffer)[] | undefined;
  /**
   * Limits for the thread's JavaScript heap, as worker_threads' resourceLimits: a thread over them
   * dies (ended, as after process.exit()) instead of exhausting the process. Such a thread gets a
   * worker of its own, so it starts as slowly as a fresh Worker (tens of milliseconds). Node only:
   * on Bun and Deno the constructor throws a RuntimeError saying why (threads/resource-limits.ts).
   */
  resourceLimits?: ResourceLimits | undefined;
  /**
   * Run on a brand-new worker: fresh globals and module instances, as if no thread had run before
   * (a thread normally runs on a worker that ran earlier threads, with the module instances and
   * globals that worker holds). The worker ends with the thread. Default false.
   */
  isolated?: boolean | undefined;
}

/** A class in a subclass chain, sent as source. */
export interface ClassSpec {
  name: string;
  source: string;
  /** Where the class was written (stack frames of its methods then name that file and line). */
  location?: SourceLocation;
  /** Names its source reads that its file binds to threading's namespace (TargetSpec's `namespaces`). */
  namespaces?: string[];
}

/** What the worker receives to run a thread (see worker.ts). */
export interface RunRequest {
  type: "run";
  slot: number;
  ident: number;
  name: string;
  daemon: boolean;
  target: TargetSpec | null;
  args: Encoded;
  /** For subclasses: the chain below the library class `base`, base-most first. */
  classes: ClassSpec[];
  base: string;
  classModule: string | null;
  fields: Encoded | null;
  origin: string;
  copyBack: MessagePort | null;
  transfer: (MessagePort | ArrayBuffer)[];
  resourceLimits: ResourceLimits | null;
  /** A brand-new worker, which ends with the thread (ThreadOptions.isolated). */
  isolated: boolean;
  /** @internal Test (hub's test:pauseAfterIdle): the worker pauses this long between "idle" and ending the thread. */
  testPauseMs?: number;
  /** @internal Test (hub's test:failAtRun): the worker fails this start between markRunning()'s reads and its CAS. */
  testFailAtRun?: boolean;
  /** @internal Test (hub's test:exitAtRun): the worker exits before it marks this start RUNNING. */
  testExitAtRun?: boolean;
}

/**
 * Whether thread `request` needs the whole library before it runs (threads/worker.ts): all do but a
 * plain Thread with a function target whose source reads none of the library (TargetSpec's
 * `library`, from the starter's check) and with arguments that hold no shared object.
 */
export function needsLibrary(request: RunRequest): boolean {
  const target = request.target;
  return !(
    target?.kind === "function" &&
    target.library === false &&
    !request.args.marked &&
    request.fields === null &&
    request.classes.length === 0 &&
    request.classModule === null &&
    request.base === "Thread"
  );
}

/**
 * The name a function target gives its thread ("Thread-N (name)"). An anonymous function written
 * as `{ target: () => ... }` (or held in a variable `target`) is named "target" by JavaScript
 * itself, after the property: it stays unnamed here, as the user gave it no name (CPython's lambda
 * is not named after the keyword either). A function declared as `target` keeps its name.
 */
function targetName(fn: Function): string {
  const name = fn.name;
  if (name !== "target") return name;
  const source = Function.prototype.toString.call(fn);
  return /^(?:async\s+)?(?:function\b\s*\*?\s*target\b|\*?\s*target\s*\()/.test(source) ? name : "";
}

const kAdopt = Symbol("threading.adopt");

/**
 * The internal twin of `startAsync()` that the executor starts its pool threads with: a start that
 * cannot be handed over throws synchronously, so that the task given to that thread fails at once
 * (a blocking `result()` on the main thread never sees a promise's rejection: it waited for ever).
 */
export const kLaunchAsync: unique symbol = Symbol("threading.launchAsync") as typeof kLaunchAsync;

/**
 * What a Thread subclass of the library adds to its handles in other threads (Timer: cancel() and
 * finished, timer.ts): `share` returns it for the ShareRecord (undefined: nothing), `adopt` puts it
 * on the handle that arrives.
 */
export const handleExtras: { share(t: Thread): unknown; adopt(t: Thread, extra: unknown): void } = {
  share: () => undefined,
  adopt: () => {},
};
/** Sets a Thread's target and arguments (from the class's static block: it reaches the private fields). */
let setRunOf: (t: Thread, target: unknown, args: unknown[]) => void;
/**
 * @internal Test hook (test/threads/thread.test.ts): called in start() at "claimed" (the slot is
 * STARTING, the start not handed over yet) and "handed" (handed to a dock or the hub, SLOT_STARTER
 * not cleared yet).
 */
export const startTestHooks: { at?: (point: "claimed" | "handed" | "waited") => void } = {};

/** How long start() waits for the hub to come up before it reports that it could not (ms). */
const HUB_BOOT_TIMEOUT_MS = 30_000;
const HUB_CHECK_MS = 1_000;
/** How often the main thread's first start(), handed to the first worker as it booted, looks whether that worker took it. */
const FIRST_CHECK_MS = 250;
/**
 * How long start() watches the slot of a thread handed to a parked worker (dock.ts) before it
 * sleeps: that worker's wake-up and its RUNNING take 20-100 µs (docs/benchmarks.md).
 */
const DOCKED_SPIN_MS = 0.1;
/**
 * Docked starts' watch for RUNNING: a watch that saw none (the worker had no core to wake on but
 * this thread's, which the watch kept) makes the next ones sleep at once (SpinBackoff).
 */
const runningWatch = new SpinBackoff();

/**
 * start()'s watch of the slot state word `i` of a thread handed to a parked worker (DOCKED_SPIN_MS).
 * A worker that was awake when the start was handed over (dock.ts handWokeWorker(): it watched its
 * dock) holds a core now: the watch is always worth it, and its outcome says nothing of wake-ups.
 */
function spinForRunning(i: number): void {
  if (!handWokeWorker()) spinWhile(G, i, Atomics.load(G, i), DOCKED_SPIN_MS);
  else if (runningWatch.shouldSpin()) runningWatch.spun(spinWhile(G, i, Atomics.load(G, i), DOCKED_SPIN_MS));
}
interface Adoption {
  slot: number;
  ident: number;
  name: string;
  daemon: boolean;
  target?: (...args: unknown[]) => unknown;
  args?: unknown[];
}
let adopting: Adoption | undefined;
let current: Thread | undefined;
// The next thread on this worker is another thread (shared/thread-reset.ts).
onThreadReset(() => {
  current = undefined;
  adopting = undefined;
});

/** The library's own Thread classes, which never travel as source. */
export const libraryClasses = new Map<Function, string>();

/**
 * A library Thread class's method (Timer's), called by the thread's worker on the thread's own
 * object before run(), with its decoded arguments: the object is rebuilt there without running
 * its constructor (kAdopt), so this restores what that constructor made (Timer's function compiled
 * in the thread, its interval, args and Event), also for a user's subclass that overrides run().
 */
export const kSelfReady = Symbol("threading.selfReady");

const privateField = /(?:this\.|[\s;{}])#[A-Za-z_$][\w$]*/;

/**
 * A thread of control, as Python's `threading.Thread`. Pass a `target` (and `args`), or subclass
 * and override `run()`. `start()` runs it on its own JavaScript thread, in parallel with the others.
 */
// biome-ignore lint/suspicious/noExplicitAny: the default lets threads of any target share one type, as API.md has it
export class Thread<A extends unknown[] = any[]> {
  #name: string;
  #daemon: boolean;
  #target: ((...args: A) => unknown) | ModuleTarget | undefined;
  #args: A;
  #transfer: (MessagePort | ArrayBuffer)[] = [];
  #limits: ResourceLimits | null = null;
  #isolated = false;
  #started = false;
  /** Its start() handed it to the first worker as that booted (first-worker.ts): the hub boots once it runs. */
  #firstHanded = false;
  /** Its start was handed to a parked worker in a dock (dock.ts), not to the hub. */
  #docked = false;
  #slot = -1;
  #ident: number | null = null;
  #nativeId: number | null = null;
  #origin: string;
  /** Only in the creating thread of a subclass: where run()'s fields come back. */
  #copyBack: MessagePort | null = null;
  /** True for a handle: a Thread made in another thread (or the main thread's object). */
  #handle = false;

  /**
   * A target that takes no arguments (or only optional ones), a `{ module, export }` target, or
   * none (a subclass's `run()`): `args` may be left out.
   */
  constructor(options?: ThreadOptionsBase<A> & { target?: (() => unknown) | ModuleTarget | undefined });
  /** A target that needs arguments: `args` must be given and fit its parameters. */
  constructor(options: ThreadOptionsBase<A> & { args: A });
  constructor(options: ThreadOptionsBase<A> = {}) {
    // biome-ignore lint/complexity/noArguments: counts what the caller passed, as Python's signature check
    checkArgCount("Thread", arguments.length, 1);
    const adoption = adopting;
    adopting = undefined;
    if (adoption) {
      this.#name = adoption.name;
      this.#daemon = adoption.daemon;
      this.#target = adoption.target as ((...args: A) => unknown) | undefined;
      this.#args = (adoption.args ?? []) as A;
      this.#started = true;
      this.#slot = adoption.slot;
      this.#ident = adoption.ident;
      this.#nativeId = nativeIdOf(adoption.slot);
      this.#handle = true;
      this.#origin = "";
      return;
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Thread(options): options must be an object like { target, args, name, daemon }`);
    }
    // An unknown key (a typo such as `deamon`) is a TypeError, as Python's unexpected keyword argument.
    checkOptions(
      options,
      ["target", "args", "name", "daemon", "transferList", "resourceLimits", "isolated"],
      "Thread(options)",
    );
    const { target: given, args, name, daemon, transferList, resourceLimits, isolated } = options;
    // null is Python's default (`Thread(target=None)`): run() does nothing.
    const target = given === null ? undefined : given;
    if (resourceLimits !== undefined) checkResourceLimits("Thread", resourceLimits);
    if (isolated !== undefined && typeof isolated !== "boolean") {
      throw new TypeError(`Thread: isolated must be a boolean, not ${isolated === null ? "null" : typeof isolated}`);
    }
    this.#isolated = isolated ?? false;
    this.#limits = resourceLimits ?? null;
    if (transferList !== undefined && !Array.isArray(transferList))
      throw new TypeError("Thread: transferList must be an array");
    this.#transfer = transferList ?? [];
    if (
      target !== undefined &&
      typeof target !== "function" &&
      !(typeof target === "object" && target && "module" in target)
    ) {
      throw new TypeError(`Thread: target must be a function or { module, export }, not ${typeof target}`);
    }
    // A module target's keys and types are checked here already (its export names the thread).
    if (target !== undefined && typeof target !== "function") checkModuleTarget(target, "Thread: target");
    if (args !== undefined && !Array.isArray(args)) throw new TypeError("Thread: args must be an array");
    // As CPython's str(name): a number names the thread by its digits (Thread(name=123) is "123").
    if (name !== undefined && name !== null && typeof name !== "string" && typeof name !== "number")
      throw new TypeError(`Thread: name must be a string, not ${typeof name}`);
    if (daemon !== undefined && daemon !== null && typeof daemon !== "boolean")
      throw new TypeError("Thread: daemon must be a boolean");
    this.#target = target;
    this.#args = (args ?? []) as A;
    // The file that made the thread (relative import()s of the target resolve against it): read off
    // the stack (for a library class, Thread or Timer, from the frame that called its constructor),
    // unless the target is a function already sent from the file it is written in, whose
    // description needs no such file (placedBase()).
    const plain = libraryClasses.has(new.target);
    this.#origin =
      (typeof target === "function" && plain ? placedBase(target) : undefined) ??
      callerFile(plain ? new.target : undefined);
    // An empty name (or null, Python's None, or 0) gets the default, as CPython's `name or _newname()`.
    if (name === undefined || name === null || name === "" || (name as unknown) === 0) {
      const n = Atomics.add(G, NEXT_THREAD_NUMBER, 1);
      let suffix = "";
      const fnName = typeof target === "function" ? targetName(target) : "";
      if (fnName) suffix = ` (${fnName})`;
      else if (target && typeof target === "object" && target.export && target.export !== "default")
        suffix = ` (${target.export})`;
      this.#name = `Thread-${n}${suffix}`;
    } else {
      this.#name = String(name);
    }
    this.#daemon = daemon ?? currentThread().daemon;
  }

  /** The thread's name; settable. */
  get name(): string {
    if (this.#handle && this.#ident !== null && Atomics.load(G, slotIndex(this.#slot, SLOT_IDENT)) === this.#ident) {
      // The table keeps NAME_MAX units of a longer name: a name this object knows whole that the
      // table's prefix and length still match (not renamed since) stays whole.
      const [prefix, length] = tableName(this.#slot);
      if (prefix.length === length) this.#name = prefix;
      else if (this.#name.length !== length || !this.#name.startsWith(prefix)) this.#name = `${prefix}\u2026`;
    }
    return this.#name;
  }
  set name(value: string) {
    this.#name = String(value);
    if (this.#ident !== null && Atomics.load(G, slotIndex(this.#slot, SLOT_IDENT)) === this.#ident) {
      writeName(G, this.#slot, this.#name);
    }
  }

  /** Daemon threads are killed when the program exits; settable only before start(). */
  get daemon(): boolean {
    return this.#daemon;
  }
  set daemon(value: boolean) {
    if (this.#started) throw new RuntimeError("cannot set daemon status of active thread");
    if (typeof value !== "boolean") throw new TypeError("Thread.daemon must be a boolean");
    this.#daemon = value;
  }

  /** A process-wide unique number for the thread, set once started (null before). */
  get ident(): number | null {
    return this.#ident;
  }

  /** The kernel thread id (Linux), set once started (null before). */
  get nativeId(): number | null {
    if (this.#nativeId === null && this.#ident !== null) this.#nativeId = nativeIdOf(this.#slot);
    return this.#nativeId;
  }

  /** What the thread does; by default calls `target(...args)`. Subclasses override it. */
  run(): unknown {
    const target = this.#target;
    if (typeof target === "function") return target(...this.#args);
    if (target !== undefined) throw new RuntimeError("a module target runs only in its own thread (call start())");
    return undefined;
  }

  #request(): RunRequest {
    const where = `Thread ${this.#name}`;
    const target = this.#target === undefined ? null : describeTarget(this.#target, `${where}: target`, this.#origin);
    const args = encode(
      this.#args,
      `${where}: args`,
      this.#transfer.length > 0 ? { transfer: new Set(this.#transfer) } : undefined,
    );
    let classes: ClassSpec[] = [];
    // A library class (Timer) is rebuilt as itself in the thread, so that currentThread() there is one.
    let base = libraryClasses.get(this.constructor) ?? "Thread";
    let classModule: string | null = null;
    let fields: Encoded | null = null;
    if (!libraryClasses.has(this.constructor)) {
      let C = this.constructor as Function;
      const chainClasses: Function[] = [];
      while (!libraryClasses.has(C)) {
        const source = Function.prototype.toString.call(C);
        if (privateField.test(source)) {
          throw new TypeError(
            `${where}: class ${C.name} has #private members, which JavaScript cannot copy into a thread (use _name or TypeScript's private)`,
          );
        }
        classes.unshift({ name: C.name, source });
        chainClasses.unshift(C);
        C = Object.getPrototypeOf(C);
        if (typeof C !== "function") throw new TypeError(`${where}: not a Thread subclass`);
      }
      base = libraryClasses.get(C) as string;
      const mod = (this.constructor as { module?: unknown }).module;
      if (typeof mod === "string" || mod instanceof URL) {
        classModule = String(mod);
        classes = classes.slice(-1);
      } else {
        // Classes travel as source, as function targets: refuse the ones that read names of their scope.
        const chain = [base, ...classes.map((c) => c.name)];
        classes.forEach((c, i) => {
          const namespaces = namespacesRead(c.source, this.#origin, chain);
          checkFreeNames(c.source, `${where}: class ${c.name || "(anonymous)"}`, chain, namespaces);
          if (namespaces.length > 0) c.namespaces = namespaces;
          const found = locate(chainClasses[i] as Function, c.source, this.#origin);
          if (found) Object.assign(c, found);
        });
      }
      const own: Record<string, unknown> = {};
      for (const key of Object.keys(this)) own[key] = (this as Record<string, unknown>)[key];
      fields = encode(own, `${where}: this`);
    }
    let copyBack: MessagePort | null = null;
    if (fields !== null) {
      const channel = new MessageChannel();
      this.#copyBack = channel.port1;
      channel.port1.on("message", (m) => this.#applyFields(m));
      unrefOwn(channel.port1);
      copyBack = channel.port2;
    }
    return {
      type: "run",
      slot: -1,
      ident: 0,
      name: this.#name,
      daemon: this.#daemon,
      target,
      args,
      classes,
      base,
      classModule,
      fields,
      origin: this.#origin,
      copyBack,
      transfer: this.#transfer,
      resourceLimits: this.#limits,
      isolated: this.#isolated,
    };
  }

  #applyFields(message: unknown): void {
    const { value, marked } = message as Encoded;
    Object.assign(this, decode(value, marked));
    this.#copyBack?.close();
    this.#copyBack = null;
  }

  #launch(patient: boolean): RunRequest {
    // (a handle, the main thread's object included, is of a started thread: #started)
    if (this.#started) throw new RuntimeError("threads can only be started once");
    const request = this.#request();
    this.#started = true;
    this.#send(request, false, patient);
    return request;
  }

  /**
   * Claims a slot for the thread and hands `request` over: to a parked worker (dock.ts) when it
   * moves nothing (no transferList, no fields to copy back) and needs no worker of its own, else
   * (or `viaHub`) to the hub.
   */
  #send(request: RunRequest, viaHub: boolean, patient = true): void {
    this.#firstHanded = false;
    this.#docked = false;
    const [slot, ident] = claimThread(this.#name, this.#daemon, joinedAtExit.has(this));
    this.#slot = slot;
    this.#ident = ident;
    request.slot = slot;
    request.ident = ident;
    remember(-ident, this);
    const plain =
      !viaHub &&
      request.copyBack === null &&
      request.transfer.length === 0 &&
      !request.isolated &&
      request.resourceLimits === null &&
      Atomics.load(G, HUB_READY) !== HUB_DEAD;
    try {
      startTestHooks.at?.("claimed");
      // The main thread's first start() hands its thread to the first worker as it boots, or waits
      // for it to park (first-worker.ts; startAsync() does not wait); the hub then boots once the
      // thread runs (start(), #untilRunning()).
      let docked = plain && handToDock(request, patient);
      this.#docked = docked;
      if (!docked && plain) {
        const first = handToFirstWorker(request, patient);
        this.#firstHanded = first.handed;
        docked = first.handed || (first.parked && handToDock(request, patient));
      }
      if (!docked) {
        // (the main thread's first worker, if it has run nothing, loads the library while the hub boots)
        if (needsLibrary(request)) firstWorkerLoadsLibrary();
        sendToHub({ type: "start", request }, transferListOf(request));
      } else if (!this.#firstHanded) ensureHub();
      startTestHooks.at?.("handed");
      // (a starter that dies before this leaves SLOT_STARTER naming it: table.ts endOrphanedStarts)
      handedOver(slot, ident);
    } catch (e) {
      endThread(slot, ident);
      this.#unstart();
      throw e instanceof RuntimeError ? new RuntimeError(`can't start new thread: ${e.message}`) : e;
    }
  }

  /**
   * After the wait for RUNNING, takes the start's failure if any (table.ts takeFailure(): the slot
   * stays unclaimable until then, so a thread that ran and ended is never taken for a failed one).
   * A start handed to a parked worker that exited before running it (START_LOST; nothing was
   * transferred) is sent again, through the hub, in a new slot: true then, wait again. A start that
   * no worker will run throws (#failed()).
   */
  #resend(request: RunRequest): boolean {
    startTestHooks.at?.("waited");
    const code = takeFailure(this.#slot, this.#ident as number);
    if (code === START_LOST) {
      this.#send(request, true);
      return true;
    }
    if (code < 0) this.#failed();
    return false;
  }

  /**
   * Starts the thread; returns once it is running (`ident` set, `isAlive()` true).
   * At most once per Thread: a second call is a RuntimeError.
   */
  start(): void {
    const request = this.#launch(true);
    do {
      const i = slotIndex(this.#slot, SLOT_STATE);
      const since = performance.now();
      // A parked worker marks it RUNNING as soon as it wakes: watch the word that long rather than
      // sleep, so that one thread, not two, pays a wake-up (an idle core's takes tens of µs).
      if (this.#docked) spinForRunning(i);
      for (let w = Atomics.load(G, i); this.#starting(w); w = Atomics.load(G, i)) {
        waitBlocking(G, i, w, this.#firstHanded ? FIRST_CHECK_MS : HUB_CHECK_MS);
        // A first worker that has not taken the thread handed to it as it booted may have died:
        // the start goes through the hub (START_LOST: #resend()).
        if (this.#firstHanded && firstStartOverdue()) markFailed(this.#slot, this.#ident as number, START_LOST);
        this.#checkHub(since);
      }
    } while (this.#resend(request));
    this.#bootHubAfterFirst();
  }

  /**
   * After the main thread's first start(), handed to the first worker as it booted: the hub boots
   * now (it serves that thread's requests, and sees its worker exit), not beside the worker's boot.
   */
  #bootHubAfterFirst(): void {
    if (!this.#firstHanded) return;
    this.#firstHanded = false;
    ensureHub();
  }

  /** True while `word`, this thread's slot state word just read, says it is still starting. */
  #starting(word: number): boolean {
    return stateOf(word) === STARTING && Atomics.load(G, slotIndex(this.#slot, SLOT_IDENT)) === this.#ident;
  }

  /** A hub that never came up (its worker failed to boot) would leave start() waiting forever. */
  #checkHub(since: number): void {
    const hub = Atomics.load(G, HUB_READY);
    if (hub === 1 || (hub === 0 && performance.now() - since < HUB_BOOT_TIMEOUT_MS)) return;
    markFailed(this.#slot, this.#ident as number);
  }

  /**
   * A start that no worker will run throws RuntimeError("can't start new thread: ...") with the
   * hub's reason, and leaves the Thread as it was before start() (it may be started again, as in
   * CPython; what its transferList moved is gone).
   */
  #failed(): never {
    const ident = this.#ident as number;
    const hub = Atomics.load(G, HUB_READY);
    const reason =
      startFailure(ident) ??
      (hub === HUB_DEAD
        ? "the threading hub worker has died (see stderr)"
        : hub === 1
          ? "its worker failed to boot (see stderr)"
          : "the threading hub worker failed to boot (see stderr)");
    this.#unstart();
    throw new RuntimeError(`can't start new thread: ${reason} (Thread ${this.#name})`);
  }

  /** Back to the state before start(), after a start that failed. */
  #unstart(): void {
    this.#copyBack?.close();
    this.#copyBack = null;
    this.#started = false;
    this.#slot = -1;
    this.#ident = null;
    this.#nativeId = null;
  }

  /** The async twin of `start()`: resolves once the thread is running. */
  async startAsync(): Promise<void> {
    await this[kLaunchAsync]();
  }

  /**
   * startAsync(), except that a start that cannot be handed over at all (no Worker can be made:
   * `--permission` without `--allow-worker`) throws here, synchronously (for the executor).
   */
  [kLaunchAsync](): Promise<void> {
    return this.#untilRunning(this.#launch(false));
  }

  async #untilRunning(request: RunRequest): Promise<void> {
    do {
      const i = slotIndex(this.#slot, SLOT_STATE);
      const since = performance.now();
      for (let w = Atomics.load(G, i); this.#starting(w); w = Atomics.load(G, i)) {
        await waitAsync(G, i, w, this.#firstHanded ? FIRST_CHECK_MS : HUB_CHECK_MS);
        // (as start(): a first worker that never takes the thread handed to it as it booted)
        if (this.#firstHanded && firstStartOverdue()) markFailed(this.#slot, this.#ident as number, START_LOST);
        this.#checkHub(since);
      }
    } while (this.#resend(request));
    this.#bootHubAfterFirst();
  }

  /** True from start() until run() is over (or the thread died). */
  isAlive(): boolean {
    if (this.#ident === null) return false;
    if (!this.#over()) return true;
    this.#ended();
    return false;
  }

  /** Python 3's spelling of isAlive(). */
  is_alive(): boolean {
    return this.isAlive();
  }

  #ended(): void {
    if (this.#copyBack) {
      const m = receiveMessageOnPort(this.#copyBack);
      if (m) this.#applyFields(m.message);
    }
    runDuties();
  }

  /** Checks that the thread can be joined; returns the deadline of a join of `timeout` seconds. */
  #joinDeadline(timeout: unknown, what: string): number {
    if (this.#ident === null) throw new RuntimeError("cannot join thread before it is started");
    if (this.#ident === boot.ident) throw new RuntimeError("cannot join current thread");
    return deadlineOf(timeoutMs(timeout, what));
  }

  /**
   * The thread has ended; the main thread, once it has reached its exit (G[MAIN_STOPPED], set by
   * lifetime.ts as CPython's _shutdown() stops it before it joins the non-daemon threads).
   */
  #over = (): boolean =>
    !isIdentAlive(this.#slot, this.#ident as number) || (this.#slot === 0 && Atomics.load(G, MAIN_STOPPED) === 1);

  /** The word a join sleeps on: the slot's state, or for the main thread (whose slot stays RUNNING) MAIN_STOPPED. */
  #joinWord(): number {
    return this.#slot === 0 ? MAIN_STOPPED : slotIndex(this.#slot, SLOT_STATE);
  }

  /** Waits until the thread ends, at most `timeout` seconds; check isAlive() afterwards to tell. */
  join(timeout?: Timeout): void {
    const deadline = this.#joinDeadline(timeout, "Thread.join()");
    if (untilBlocking(G, this.#joinWord(), this.#over, deadline)) this.#ended();
  }

  /** The async twin of `join()`. */
  async joinAsync(timeout?: Timeout): Promise<void> {
    const deadline = this.#joinDeadline(timeout, "Thread.joinAsync()");
    if (await untilAsync(G, this.#joinWord(), this.#over, deadline)) this.#ended();
  }

  /** @deprecated Python 2 spelling of `name`. */
  getName(): string {
    return this.name;
  }
  /** @deprecated Python 2 spelling of `name = ...`. */
  setName(name: string): void {
    this.name = name;
  }
  /** @deprecated Python 2 spelling of `daemon`. */
  isDaemon(): boolean {
    return this.daemon;
  }
  /** @deprecated Python 2 spelling of `daemon = ...`. */
  setDaemon(daemonic: boolean): void {
    this.daemon = daemonic;
  }

  /** `<Thread(NAME, started daemon IDENT)>`, as Python's repr (the class name of a subclass). */
  toString(): string {
    const state = this.#ident === null ? "initial" : this.isAlive() ? "started" : "stopped";
    return `<${this.constructor.name}(${this.name}, ${state}${this.#daemon ? " daemon" : ""}${this.#ident !== null ? ` ${this.#ident}` : ""})>`;
  }

  get [Symbol.toStringTag](): string {
    return this.toString();
  }

  /** @internal */
  [kShare](): ShareRecord {
    if (this.#ident === null)
      throw new TypeError(`Thread ${this.#name} can be sent to another thread only once started`);
    const meta: { slot: number; name: string; daemon: boolean; extra?: unknown } = {
      slot: this.#slot,
      name: this.name,
      daemon: this.#daemon,
    };
    const extra = handleExtras.share(this);
    if (extra !== undefined) meta.extra = extra;
    return { kind: "Thread", id: -this.#ident, buffers: [], meta };
  }

  /** @internal Builds this thread's object for a thread known by its slot (handles and workers). */
  static [kAdopt](C: Function, adoption: Adoption): Thread {
    adopting = adoption;
    try {
      return Reflect.construct(Thread, [], C) as Thread;
    } finally {
      adopting = undefined;
    }
  }

  static {
    setRunOf = (t, target, args) => {
      t.#target = target as never;
      t.#args = args;
    };
    libraryClasses.set(Thread, "Thread");
    registerKind("Thread", (record) => {
      const meta = record.meta as { slot: number; name: string; daemon: boolean; extra?: unknown };
      const t = handleFor(meta.slot, -record.id, meta.name, meta.daemon);
      if (meta.extra !== undefined && t.#handle) handleExtras.adopt(t, meta.extra);
      return t;
    });
  }
}

/** In a thread's worker: gives its own object (adoptSelf) the target and arguments that run() calls. */
export function setRun(t: Thread, target: unknown, args: unknown[]): void {
  setRunOf(t, target, args);
}

/** What a run request moves rather than copies. */
export function transferListOf(request: RunRequest): (MessagePort | ArrayBuffer)[] {
  return request.copyBack ? [...request.transfer, request.copyBack] : request.transfer;
}

/** This thread's object for the thread `ident` in `slot` (a handle unless it is known here). */
export function threadFor(slot: number, ident: number): Thread {
  return handleFor(slot, ident);
}

function handleFor(slot: number, ident: number, name?: string, daemon?: boolean): Thread {
  // (a worker's own thread, adoptSelf(), is `current`: no WeakRef per thread there)
  const known = (lookup(-ident) as Thread | undefined) ?? (ident === boot.ident ? current : undefined);
  // An object for an ended thread whose ident has been recycled (after 2^30 starts) is not this one.
  if (known && (known[kShare]().meta as { slot: number }).slot === slot) return known;
  const t = Thread[kAdopt](Thread, {
    slot,
    ident,
    name: name ?? readName(slot),
    daemon: daemon ?? isDaemonWord(Atomics.load(G, slotIndex(slot, SLOT_DAEMON))),
  });
  remember(-ident, t);
  return t;
}

/** Makes the object that represents this very thread in a worker (see worker.ts). */
export function adoptSelf(C: Function, adoption: Adoption): Thread {
  const t = Thread[kAdopt](C, adoption);
  // Found as `current` (handleFor, currentThread) while the thread runs, not through remember():
  // a WeakRef and a finalization record per thread cost the worker a share of its GC time.
  current = t;
  return t;
}

ownName.current = () => currentThread().name;

/** The Thread object of the calling thread. */
export function currentThread(): Thread {
  if (current) return current;
  const known = lookup(-boot.ident) as Thread | undefined;
  if (known) return known;
  current = handleFor(boot.slot, boot.ident);
  return current;
}

/** The main thread's Thread object, named "MainThread". */
export function mainThread(): Thread {
  return handleFor(0, 1, "MainThread", false);
}

/** Every thread alive now, process-wide (started and not yet ended), main first. */
export function enumerate(): Thread[] {
  return liveThreads().map(([slot, ident]) => handleFor(slot, ident));
}

/** How many threads are alive now, process-wide (main included). */
export function activeCount(): number {
  return liveThreads().length;
}

/** The calling thread's ident. */
export function getIdent(): number {
  return boot.ident;
}

/** The calling thread's kernel thread id (Linux; elsewhere a unique number). */
export function getNativeId(): number {
  return nativeIdOf(boot.slot) ?? boot.ident;
}

/** The native id in `slot`, null while its thread has not run (the word is below 0: unsetNativeId) or is 0. */
function nativeIdOf(slot: number): number | null {
  const id = Atomics.load(G, slotIndex(slot, SLOT_NATIVE_ID));
  return id > 0 ? id : null;
}
