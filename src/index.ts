/// <reference types="node" preserve="true" />
// The published types use Node's (worker_threads, Buffer, AbortSignal, URL): this line brings
// @types/node into a user's program also when its tsconfig lists "types" without "node" (TypeScript
// 6 makes [] the default). Without @types/node installed, tsc says so here (README "TypeScript").
/**
 * threading — Python's threading model for TypeScript on Node.js: real threads, and locks, events,
 * conditions, semaphores, barriers, queues and thread pools that live in shared memory.
 */
// First: the first thread worker boots while the rest of the library loads (threads/first-worker.ts).
import "./threads/first-worker.js";
import "./threads/lifetime.js";
import "./threads/dump-signal.js";

export * from "./errors.js";
export {
  TIMEOUT_MAX,
  sleep,
  sleepAsync,
  type Timeout,
  type TimeoutOptions,
  type AcquireOptions,
  type BlockOptions,
} from "./shared/wait.js";
export { Lock } from "./sync/lock.js";
export { Event } from "./sync/event.js";
export { RLock } from "./sync/rlock.js";
export { Condition } from "./sync/condition.js";
export { Semaphore, BoundedSemaphore } from "./sync/semaphore.js";
export { Barrier, type BarrierOptions } from "./sync/barrier.js";
export { local } from "./sync/local.js";
export type { Held } from "./sync/hold.js";
export {
  Thread,
  type ThreadOptions,
  type ThreadOptionsBase,
  currentThread,
  mainThread,
  enumerate,
  activeCount,
  getIdent,
  getNativeId,
} from "./threads/thread.js";
export { Timer } from "./threads/timer.js";
export { dumpThreads } from "./threads/dump.js";
export { excepthook, setExcepthook, type ExceptHookArgs } from "./threads/excepthook.js";
export type { ModuleTarget, Target } from "./transport/target.js";
export type { Sendable, SendableArgs } from "./transport/sendable.js";
export { logging } from "./logging/index.js";
export {
  Value,
  SharedArray,
  SharedDict,
  SharedList,
  type TypeCode,
  type TypedView,
  type LockOption,
} from "./state/index.js";
// From the queue modules, not queue/index.ts: that is the `threading/queue` entry, which loads this file.
export { Queue } from "./queue/queue.js";
export { LifoQueue } from "./queue/lifo.js";
export { PriorityQueue } from "./queue/priority.js";
export { SimpleQueue } from "./queue/simple-queue.js";
export {
  ThreadPoolExecutor,
  type ThreadPoolExecutorOptions,
  type MapOptions,
  type SubmitOptions,
  type ExecutorStats,
  type AnyTarget,
  type ExplicitTarget,
  type MapTarget,
  type ResultOf,
  type ExplicitResult,
  type TimeStats,
  Future,
  InvalidStateError,
  asCompleted,
  asCompletedAsync,
  type CompletedFuture,
  type AsCompletedAsyncIterator,
  wait,
  waitAsync,
  type WaitOptions,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  ALL_COMPLETED,
} from "./futures/index.js";

// Function targets compiled in a thread see every export above in scope (transport/target.ts).
import * as self from "./index.js";
import { provideLibrary } from "./transport/target.js";
provideLibrary(self as unknown as Record<string, unknown>);

// The main thread boots the hub (and its first worker) now, unref'd, so the first start() waits less.
import { startHubEarly } from "./threads/hub-client.js";
startHubEarly();
