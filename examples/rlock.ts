// "RLock (Reentrant) objects - acquire()": a Lock cannot be acquired twice, even by the thread
// that holds it; an RLock can, by its owner, and is free once released as many times.
import { Lock, RLock } from "threading";

let lock: Lock | RLock = new Lock();
console.log("First try :", lock.acquire());
console.log("Second try:", lock.acquire(false));

lock = new RLock();
console.log("First try :", lock.acquire());
console.log("Second try:", lock.acquire(false));
lock.release();
lock.release();
console.log("Released twice, locked:", lock.locked());
