export {
  ALL_COMPLETED,
  asCompleted,
  asCompletedAsync,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  wait,
  waitAsync,
  type WaitOptions,
} from "./wait.js";
export { Future, InvalidStateError } from "./future.js";
export { type MapOptions, ThreadPoolExecutor, type ThreadPoolExecutorOptions } from "./executor.js";
