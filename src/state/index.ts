/** Shared state: Value, SharedArray (numbers in shared memory), SharedDict and SharedList. */
export { Value } from "./value.js";
export { SharedArray } from "./shared-array.js";
export type { TypeCode, TypedView } from "./typecode.js";
export type { LockOption } from "./own-lock.js";
export { SharedDict } from "./dict.js";
export { SharedList } from "./list.js";
