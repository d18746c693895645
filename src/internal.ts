/**
 * @internal Internals for the library's own tests, as a bundle entry that shares its code (and so
 * its module instances: registries, the hub connection) with the public entry. Not in the
 * package's exports.
 */
import "./index.js";

// sync/ and shared/ test hooks (issue 9)
export { configTestHooks } from "./logging/config.js";
export { eventHooks } from "./sync/event.js";
export { barrierHooks } from "./sync/barrier.js";
export { semaphoreHooks } from "./sync/semaphore.js";
export { conditionHooks } from "./sync/condition.js";
export { mutexHooks } from "./sync/mutex.js";
export { readWaits } from "./shared/waiting.js";
export {
  addBlockingDuty,
  afterMs,
  call,
  driveAsync,
  driveBlocking,
  park,
  removeBlockingDuty,
  Sleep,
  SpinBackoff,
  sleepHow,
  spinWhile,
  timerHooks,
  until,
} from "./shared/wait.js";
export { decode } from "./transport/decode.js";
export { encode } from "./transport/encode.js";
export {
  decodeTaken,
  readRecord,
  recordSize,
  Staged,
  stage,
  stageItem,
  T_LSTR,
  T_MSTR,
  T_PLAIN,
  T_PSTR,
  T_SSTR,
  T_V8,
  Taken,
  writeRecord,
} from "./queue/codec.js";
export { Data, putError, StorageFull } from "./queue/storage.js";
export { Heap } from "./state/heap.js";
/** SharedDict key encoding (a key's stripe is `dictKey.hash >>> 26` after dictKeyOf). */
export { key as dictKey, keyOf as dictKeyOf } from "./state/key.js";
export { startWorker, threadFlags, withoutRejected } from "./shared/exec-argv.js";
export { tsxApi } from "./transport/loaders.js";
export { hubTestHook, hubWorker } from "./threads/hub-client.js";
export { closing, dynamicImports, rewriteImports, tokenize } from "./transport/js-tokens.js";
export { dockTestHooks } from "./threads/dock.js";
export { startTestHooks } from "./threads/thread.js";
export {
  claimSlot,
  markEnded,
  markFailed,
  markRunning,
  START_FAILED,
  START_LOST,
  startFailed,
  tableTestHooks,
  takeFailure,
} from "./threads/table.js";
export {
  ALIVE_NON_DAEMON,
  DIRECTORY_KIB,
  G,
  isIdentAlive,
  MAX_IDENT,
  MAX_THREADS,
  QREL_OWNER,
  releaseRecord,
  SLOT_IDENT,
  SLOT_NATIVE_ID,
  SLOT_STATE,
  setNextIds,
  stateOf,
  slotIndex,
} from "./shared/runtime.js";
export { freeNames } from "./transport/free-names.js";
export { checkFreeNames } from "./transport/target.js";
export {
  C_EPOCH as FIFO_C_EPOCH,
  C_LOCK as FIFO_C_LOCK,
  GET_BYTES as FIFO_GET_BYTES,
  GET_SLEEPERS as FIFO_GET_SLEEPERS,
  GET_WAITERS as FIFO_GET_WAITERS,
  OWN_GET_BYTES as FIFO_OWN_GET_BYTES,
  P_EPOCH as FIFO_P_EPOCH,
  P_LOCK as FIFO_P_LOCK,
  PUT_BYTES as FIFO_PUT_BYTES,
  PUT_SLEEPERS as FIFO_PUT_SLEEPERS,
  PUT_WAITERS as FIFO_PUT_WAITERS,
  GET_DISORDER as FIFO_GET_DISORDER,
  PUT_DISORDER as FIFO_PUT_DISORDER,
} from "./queue/fifo-layout.js";
export { balanceTestHooks } from "./futures/balance.js";
export { executorTestHooks } from "./futures/executor.js";
export { laneTestHooks, loneRunHooks, OUTCOMES_TAKEN } from "./futures/protocol.js";
export { fifoHooks } from "./queue/fifo.js";
export { lockedHooks } from "./queue/core.js";
export { queueTestHooks } from "./queue/queue.js";
export { turnHooks } from "./queue/engine.js";
export {
  GET_SLEEPERS as LOCKED_GET_SLEEPERS,
  PUT_SLEEPERS as LOCKED_PUT_SLEEPERS,
  GET_DISORDER as LOCKED_GET_DISORDER,
  PUT_DISORDER as LOCKED_PUT_DISORDER,
} from "./queue/locked-layout.js";
export { targetCounts } from "./futures/targets.js";
