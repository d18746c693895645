/// <reference types="node" preserve="true" />
// @types/node for the published types, also when a tsconfig's "types" omits it (see src/index.ts).
/**
 * threading/queue — Python's `queue` module for threads: Queue, LifoQueue, PriorityQueue,
 * SimpleQueue (shared memory, usable from every thread), and the Empty, Full and ShutDown errors.
 */
// The whole library, so that the bundle keeps one shared chunk for all its entries (scripts/bundle.mjs).
import "../index.js";
export { Empty, Full, ShutDown } from "../errors.js";
export { Queue } from "./queue.js";
export { LifoQueue } from "./lifo.js";
export { PriorityQueue } from "./priority.js";
export { SimpleQueue } from "./simple-queue.js";
export type { BlockOptions, Timeout, TimeoutOptions } from "../shared/wait.js";
