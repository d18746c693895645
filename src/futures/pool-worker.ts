/**
 * One pool thread as its executor sees it (as piscina's WorkerInfo): its Thread, its port, the
 * blocks it shares with the executor (state words and statistics, protocol.ts), the futures of the
 * tasks given to it and not yet settled here, and the tasks assigned but not yet posted (outbox).
 * Only the executor's thread uses it.
 */
import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { G, isIdentAlive, SLOT_STATE, slotIndex } from "../shared/runtime.js";
import type { Thread } from "../threads/thread.js";
import type { TargetSpec } from "../transport/target.js";
import { type Future, internals } from "./future.js";
import {
  BUSY_SINCE,
  COMPLETED,
  OUTSTANDING,
  RETIRED,
  RUN_MAX,
  RUN_TOTAL,
  TASK_FIELDS,
  type TaskBatch,
  WAIT_MAX,
  WAIT_TOTAL,
} from "./protocol.js";
import type { Slot } from "./slots.js";
import { targetSpec } from "./targets.js";

/** A task submitted and not settled: the executor's record of it, kept on its future. */
export interface Task {
  id: number;
  key: number;
  mode: number;
  args: unknown;
  marked: boolean;
  /** Its future's word (slots.ts). */
  slot: Slot;
  submittedAt: number;
  /** Moved into the thread it was given to: the task cannot move to another thread. */
  transfer: (ArrayBuffer | MessagePort)[] | undefined;
}

/** The task record of future `f` (undefined once it settled here). */
export function taskOf(f: Future<unknown>): Task | undefined {
  return internals.task(f) as Task | undefined;
}

export function setTask(f: Future<unknown>, task: Task | undefined): void {
  internals.setTask(f, task);
}

/** Adds the statistics `from` of a pool thread into `into` (totals add up, maxima take the larger). */
export function addStats(into: Float64Array, from: Float64Array): void {
  for (const i of [RUN_TOTAL, WAIT_TOTAL, COMPLETED]) (into[i] as number) += from[i] as number;
  for (const i of [RUN_MAX, WAIT_MAX]) into[i] = Math.max(into[i] as number, from[i] as number);
}

export class PoolWorker {
  /** Transferables of the tasks in outbox. */
  transfer: (ArrayBuffer | MessagePort)[] = [];
  readonly futures = new Map<number, Future<unknown>>();
  /** Tasks assigned but not yet posted (TASK_FIELDS each). */
  outbox: unknown[] = [];
  /** Targets and slabs the thread has been sent. */
  readonly targetsSent = new Set<number>();
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
  queue(f: Future<unknown>, task: Task): void {
    this.futures.set(task.id, f);
    if (!this.referenced) {
      this.referenced = true;
      this.port.ref();
    }
    this.outbox.push(
      task.id,
      task.slot.slab,
      task.slot.index,
      task.slot.gen,
      task.key,
      task.mode,
      task.args,
      task.marked,
      task.submittedAt,
    );
    // Moved with the batch that carries the task (so the task stays with this thread).
    if (task.transfer !== undefined) for (const t of task.transfer) this.transfer.push(t);
  }

  /** Posts the outbox, with the targets and the slabs (of `slabs`) the thread has not been sent yet. */
  send(slabs: Int32Array[]): void {
    if (this.outbox.length === 0 || this.dead) return;
    const batch: TaskBatch = { t: this.outbox };
    this.outbox = [];
    const t = batch.t as unknown[];
    for (let i = 4; i < t.length; i += TASK_FIELDS) {
      const key = t[i] as number;
      if (!this.targetsSent.has(key)) {
        this.targetsSent.add(key);
        (batch.f ??= []).push([key, targetSpec(key) as TargetSpec]);
      }
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
    if (this.referenced && this.futures.size === 0) {
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
