/**
 * One pool thread as its executor sees it (as piscina's WorkerInfo): its Thread, its port, the
 * blocks it shares with the executor (state words and statistics, protocol.ts), the tasks given to
 * it and not yet settled here (in the order given; no map: an outcome finds its task by its future's
 * word, slots.ts), and the tasks assigned but not yet posted (outbox). Only the executor's thread
 * uses it.
 */
import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { G, isIdentAlive, SLOT_STATE, slotIndex } from "../shared/runtime.js";
import type { Thread } from "../threads/thread.js";
import type { TargetSpec } from "../transport/target.js";
import type { Future } from "./future.js";
import {
  BUSY_SINCE,
  COMPLETED,
  OUTSTANDING,
  RETIRED,
  RUN_MAX,
  RUN_TOTAL,
  type TaskBatch,
  WAIT_MAX,
  WAIT_TOTAL,
} from "./protocol.js";
import type { Slot } from "./slots.js";
import { targetSpec } from "./targets.js";

/** A task's target key, mode and marked flag as one number of the batch (protocol.ts). */
export function taskCode(key: number, mode: number, marked: boolean): number {
  return key * 8 + mode * 2 + (marked ? 1 : 0);
}

/**
 * A task submitted and not settled: the executor's record of it, kept on its future. It is its
 * future's slot too (the word's slab, index, handle and generation, slots.ts): one object a task.
 */
export class Task implements Slot {
  handle = 0;
  gen = 0;
  /** The thread it is given to (undefined until it is). */
  worker: PoolWorker | undefined = undefined;
  constructor(
    /** Its future; undefined once settled (or cancelled) here. */
    public future: Future<unknown> | undefined,
    /** Its target key, mode and marked flag as one number (taskCode()). */
    readonly code: number,
    readonly args: unknown,
    readonly submittedAt: number,
    /** Moved into the thread it was given to: the task cannot move to another thread. */
    readonly transfer: (ArrayBuffer | MessagePort)[] | undefined,
  ) {}
}

/** Adds the statistics `from` of a pool thread into `into` (totals add up, maxima take the larger). */
export function addStats(into: Float64Array, from: Float64Array): void {
  for (const i of [RUN_TOTAL, WAIT_TOTAL, COMPLETED]) (into[i] as number) += from[i] as number;
  for (const i of [RUN_MAX, WAIT_MAX]) into[i] = Math.max(into[i] as number, from[i] as number);
}

export class PoolWorker {
  /** Transferables of the tasks in outbox. */
  transfer: (ArrayBuffer | MessagePort)[] = [];
  /**
   * The tasks given to the thread, in the order given, from `head` on; a task settled (or moved)
   * since stays until the head passes it. `count` is how many are unsettled.
   */
  #tasks: Task[] = [];
  #head = 0;
  count = 0;
  /** Tasks assigned but not yet posted (TASK_FIELDS each). */
  outbox: unknown[] = [];
  /** Targets the thread has been sent, and those the outbox needs and it has not been sent. */
  readonly targetsSent = new Set<number>();
  #newTargets: [number, TargetSpec][] = [];
  slabsSent = 0;
  stopSent = false;
  /** Ended (or retired) and forgotten by the executor. */
  dead = false;
  /** Its port is ref'd: it has tasks out, so the process waits for their outcomes. */
  referenced = false;
  /** Its thread-table slot and ident, once its thread has started (-1 / 0 before). */
  slot = -1;
  ident = 0;

  constructor(
    readonly name: string,
    readonly thread: Thread<unknown[]>,
    readonly port: MessagePort,
    readonly state: Int32Array,
    readonly stats: Float64Array,
  ) {}

  /** Tasks given to the thread and not yet run; RETIRED once it retired (idleTimeout). */
  outstanding(): number {
    return Atomics.load(this.state, OUTSTANDING);
  }

  /**
   * Counts one more task for the thread; false if it has retired. A CAS, not an add: a thread past
   * its idleTimeout may retire (OUTSTANDING 0 -> RETIRED) at any moment.
   */
  reserve(): boolean {
    for (;;) {
      const n = Atomics.load(this.state, OUTSTANDING);
      if (n === RETIRED) return false;
      if (Atomics.compareExchange(this.state, OUTSTANDING, n, n + 1) === n) return true;
    }
  }

  /** Puts a task reserved for the thread in its outbox (posted by send()). */
  queue(task: Task): void {
    task.worker = this;
    this.#tasks.push(task);
    this.count++;
    if (!this.referenced) {
      this.referenced = true;
      this.port.ref();
    }
    const key = Math.floor(task.code / 8);
    if (!this.targetsSent.has(key)) {
      this.targetsSent.add(key);
      this.#newTargets.push([key, targetSpec(key) as TargetSpec]);
    }
    this.outbox.push(task.handle, task.gen, task.code, task.args, task.submittedAt);
    // Moved with the batch that carries the task (so the task stays with this thread).
    if (task.transfer !== undefined) for (const t of task.transfer) this.transfer.push(t);
  }

  /** A task of this thread settled (or was cancelled) here: `task.future` is undefined by now. */
  settled(): void {
    this.count--;
    const tasks = this.#tasks;
    let head = this.#head;
    while (head < tasks.length && (tasks[head] as Task).future === undefined) head++;
    if (head === tasks.length) {
      this.#tasks = [];
      head = 0;
    } else if (head >= 1024 && head * 2 >= tasks.length) {
      this.#tasks = tasks.slice(head);
      head = 0;
    }
    this.#head = head;
  }

  /** The tasks given to the thread and not settled, in the order given. */
  live(): Task[] {
    const out: Task[] = [];
    const tasks = this.#tasks;
    for (let i = this.#head; i < tasks.length; i++) {
      const t = tasks[i] as Task;
      if (t.future !== undefined && t.worker === this) out.push(t);
    }
    return out;
  }

  /** Tasks moved to another thread (balance.ts steal()) are no longer this thread's. */
  moved(tasks: Set<Task>): void {
    this.#tasks = this.#tasks.slice(this.#head).filter((t) => !tasks.has(t));
    this.#head = 0;
    this.count -= tasks.size;
  }

  /** Forgets every task (the thread died: the executor settles or moves them). */
  clear(): void {
    this.#tasks = [];
    this.#head = 0;
    this.count = 0;
  }

  /** Posts the outbox, with the targets and the slabs (of `slabs`) the thread has not been sent yet. */
  send(slabs: Int32Array[]): void {
    if (this.outbox.length === 0 || this.dead) return;
    const batch: TaskBatch = { t: this.outbox };
    this.outbox = [];
    if (this.#newTargets.length > 0) {
      batch.f = this.#newTargets;
      this.#newTargets = [];
    }
    if (this.slabsSent < slabs.length) {
      batch.s = [];
      for (let n = this.slabsSent; n < slabs.length; n++) batch.s.push([n, slabs[n] as Int32Array]);
      this.slabsSent = slabs.length;
    }
    if (this.transfer.length > 0) {
      const transfer = this.transfer;
      this.transfer = [];
      this.port.postMessage(batch, transfer);
    } else this.port.postMessage(batch);
  }

  /** Posts the outbox, then `stop`: the thread ends once it has run what it was given. */
  stop(slabs: Int32Array[]): void {
    if (this.stopSent || this.dead) return;
    this.send(slabs);
    this.stopSent = true;
    this.port.postMessage({ stop: true } satisfies TaskBatch);
  }

  /** Hands every message the thread has posted to `receive`, without the event loop. */
  drain(receive: (message: unknown[]) => void): void {
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (m === undefined) return;
      receive(m.message as unknown[]);
    }
  }

  /** With no task out, the port no longer keeps the process alive. */
  unrefIfIdle(): void {
    if (this.referenced && this.count === 0) {
      this.referenced = false;
      this.port.unref();
    }
  }

  /** The running task's start (ms on the performance.timeOrigin clock), or 0 while idle. */
  busySince(): number {
    return this.stats[BUSY_SINCE] as number;
  }

  /** From the event loop: calls `ended` once the thread has ended in the thread table (keeps no process alive). */
  watch(ended: () => void): void {
    const i = slotIndex(this.slot, SLOT_STATE);
    const again = (): void => {
      if (this.dead) return;
      if (!isIdentAlive(this.slot, this.ident)) {
        ended();
        return;
      }
      const r = Atomics.waitAsync(G, i, Atomics.load(G, i));
      if (r.async) r.value.then(again);
      else queueMicrotask(again);
    };
    again();
  }
}
