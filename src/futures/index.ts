export {
  ALL_COMPLETED,
  asCompleted,
  asCompletedAsync,
  type CompletedFuture,
  type AsCompletedAsyncIterator,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  wait,
  waitAsync,
  type WaitOptions,
} from "./wait.js";
export { Future, InvalidStateError } from "./future.js";
export {
  type ExecutorStats,
  type AnyTarget,
  type ExplicitTarget,
  type MapTarget,
  type ResultOf,
  type ExplicitResult,
  type MapOptions,
  type SubmitOptions,
  ThreadPoolExecutor,
  type ThreadPoolExecutorOptions,
  type TimeStats,
} from "./executor.js";
