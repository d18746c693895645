/**
 * One pool thread as its executor sees it (as piscina's WorkerInfo): its Thread, its port, the
 * blocks it shares with the executor (state words and statistics, protocol.ts), the tasks given to
 * it and not yet settled here (in the order given), and the tasks assigned but not yet posted
 * (outbox); and the executor's TaskTable, where a task is found by its future word's handle
 * (slots.ts). Only the executor's thread uses them.
 */
import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { G, isIdentAlive, SLOT_STATE, slotIndex } from "../shared/runtime.js";
import { atomicsWaitAsync } from "../shared/wait.js";
import type { Thread } from "../threads/thread.js";
import type { TargetSpec } from "../transport/target.js";
import type { Future } from "./future.js";
import {
  BUSY_SINCE,
  CALL1,
  COMPLETED,
  LANE_OUTCOME_FIELDS,
  LANE_SLOTS,
  LANE_TASK_FIELDS,
  type Lanes,
  LONE_UNDEFINED,
  laneTestHooks,
  OUTCOMES_TAKEN,
  OUTSTANDING,
  RETIRED,
  RUN_MAX,
  RUN_TOTAL,
  TASK_FIELDS,
  type TaskBatch,
  WAIT_MAX,
  WAIT_TOTAL,
} from "./protocol.js";
import { onTargetDropped, releaseTarget, retainTarget, targetSpec } from "./targets.js";
import { unrefOwn } from "../shared/own-unref.js";

/** A task's target key, mode and marked flag as one number of the batch (protocol.ts). */
export function taskCode(key: number, mode: number, marked: boolean): number {
  return key * 8 + mode * 2 + (marked ? 1 : 0);
}

/**
 * The tasks of an executor submitted and not settled there, by the handle of their future's word
 * (slots.ts; a handle is one task's at a time): a column per field, no object per task (1e5
 * pending tasks as objects were copied by every young-generation collection). A handle's future
 * (`future[h]`) is undefined while no task holds it.
 */
export class TaskTable {
  /** The task's future. */
  readonly future: (Future<unknown> | undefined)[] = [];
  /** The generation of its word the task holds now (Slots.renewHandle() moves it). */
  readonly gen: number[] = [];
  /** The thread it is given to (undefined until it is). */
  readonly worker: (PoolWorker | undefined)[] = [];
  /** Its target key, mode and marked flag as one number (taskCode()). */
  readonly code: number[] = [];
  readonly args: unknown[] = [];
  /** When it was submitted (ms on the performance.timeOrigin clock). */
  submitted = new Float64Array(1024);
  /** Buffers and ports moved into the thread it was given to: the task cannot move to another thread. */
  readonly transfer = new Map<number, (ArrayBuffer | MessagePort)[]>();

  add(
    h: number,
    gen: number,
    f: Future<unknown>,
    code: number,
    args: unknown,
    submittedAt: number,
    transfer: (ArrayBuffer | MessagePort)[] | undefined,
  ): void {
    // Handles are taken densely from 0 (slots.ts): each column grows by one at a time.
    this.future[h] = f;
    this.gen[h] = gen;
    this.worker[h] = undefined;
    this.code[h] = code;
    this.args[h] = args;
    retainTarget(Math.floor(code / 8));
    if (h >= this.submitted.length) {
      const grown = new Float64Array(this.submitted.length * 2);
      grown.set(this.submitted);
      this.submitted = grown;
    }
    this.submitted[h] = submittedAt;
    if (transfer !== undefined) this.transfer.set(h, transfer);
  }

  /** The task at `h` settled (or was cancelled) here: the handle holds no task any more. */
  remove(h: number): void {
    if (this.future[h] !== undefined) releaseTarget(Math.floor((this.code[h] as number) / 8));
    this.future[h] = undefined;
    this.worker[h] = undefined;
    this.args[h] = undefined;
    if (this.transfer.size > 0) this.transfer.delete(h);
  }

  /** Whether the task given to `w` at `h`, generation `gen`, is still there and unsettled. */
  holds(h: number, gen: number, w: PoolWorker): boolean {
    return this.future[h] !== undefined && this.gen[h] === gen && this.worker[h] === w;
  }
}

/** Adds the statistics `from` of a pool thread into `into` (totals add up, maxima take the larger). */
export function addStats(into: Float64Array, from: Float64Array): void {
  for (const i of [RUN_TOTAL, WAIT_TOTAL, COMPLETED]) (into[i] as number) += from[i] as number;
  for (const i of [RUN_MAX, WAIT_MAX]) into[i] = Math.max(into[i] as number, from[i] as number);
}

/** This thread's pool workers (of every executor it made), until they are dead. */
const poolWorkers = new Set<PoolWorker>();
onTargetDropped((key) => {
  for (const w of poolWorkers) w.forget(key);
});

export class PoolWorker {
  /** Transferables of the tasks in outbox. */
  transfer: (ArrayBuffer | MessagePort)[] = [];
  /**
   * The tasks given to the thread, in the order given, as handle and generation pairs, from `head`
   * on; a task settled (or moved) since stays until the head passes it (TaskTable.holds() tells).
   * `count` is how many are unsettled.
   */
  #tasks: number[] = [];
  #head = 0;
  count = 0;
  /** Tasks assigned but not yet posted (TASK_FIELDS each). */
  outbox: unknown[] = [];
  /** Targets the thread has been sent, and those the outbox needs and it has not been sent. */
  readonly targetsSent = new Set<number>();
  #newTargets: [number, TargetSpec][] = [];
  /** Targets sent to the thread and dropped since (targets.ts): it is told to forget them. */
  #forgotten: number[] = [];
  slabsSent = 0;
  stopSent = false;
  /** Ended (or retired) and forgotten by the executor. */
  dead = false;
  /** forgotten()'s promise and its resolve, once asked for. */
  #gone: Promise<void> | undefined;
  #goneResolve: (() => void) | undefined;
  /** Its port is ref'd: it has tasks out, so the process waits for their outcomes. */
  referenced = false;
  /** When its port was seen closed with tasks out while its thread was still alive in the table (executor #check), else 0. */
  closedAt = 0;
  /** Its thread-table slot and ident, once its thread has started (-1 / 0 before). */
  slot = -1;
  ident = 0;
  /** Lone tasks posted, lone outcomes taken (protocol.ts: the k-th is in slot k mod LANE_SLOTS). */
  #loneSent = 0;
  #loneTaken = 0;

  constructor(
    readonly name: string,
    readonly thread: Thread<unknown[]>,
    readonly port: MessagePort,
    readonly state: Int32Array,
    readonly stats: Float64Array,
    readonly table: TaskTable,
    readonly lanes: Lanes,
  ) {
    poolWorkers.add(this);
    const start = laneTestHooks.loneStart;
    if (start !== undefined) {
      this.#loneTaken = start;
      Atomics.store(state, OUTCOMES_TAKEN, start);
    }
    laneTestHooks.made?.(state);
  }

  /** Ended (or retired) and forgotten by the executor: `dead`, and no longer told of dropped targets. */
  markDead(): void {
    this.dead = true;
    poolWorkers.delete(this);
    this.#goneResolve?.();
  }

  /** Resolves once the executor has forgotten the thread (markDead()). */
  forgotten(): Promise<void> {
    if (this.dead) return Promise.resolve();
    this.#gone ??= new Promise<void>((resolve) => {
      this.#goneResolve = resolve;
    });
    return this.#gone;
  }

  /** Target `key` was dropped (targets.ts): a thread that was sent it forgets it with its next batch. */
  forget(key: number): void {
    if (!this.targetsSent.delete(key)) return;
    // Not posted yet (its only task was cancelled before the outbox went): it is not sent at all.
    const unsent = this.#newTargets.findIndex(([k]) => k === key);
    if (unsent >= 0) this.#newTargets.splice(unsent, 1);
    else this.#forgotten.push(key);
  }

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

  /** Puts the task at `h`, reserved for the thread, in its outbox (posted by send()). */
  queue(h: number): void {
    const table = this.table;
    const gen = table.gen[h] as number;
    const code = table.code[h] as number;
    table.worker[h] = this;
    this.#tasks.push(h, gen);
    this.count++;
    if (!this.referenced) {
      this.referenced = true;
      this.port.ref();
    }
    const key = Math.floor(code / 8);
    if (!this.targetsSent.has(key)) {
      this.targetsSent.add(key);
      this.#newTargets.push([key, targetSpec(key) as TargetSpec]);
    }
    this.outbox.push(h, gen, code, table.args[h], table.submitted[h]);
    // Moved with the batch that carries the task (so the task stays with this thread).
    const transfer = table.transfer.size > 0 ? table.transfer.get(h) : undefined;
    if (transfer !== undefined) for (const t of transfer) this.transfer.push(t);
  }

  /** A task of this thread settled (or was cancelled) here: TaskTable.remove() was called. */
  settled(): void {
    this.count--;
    const tasks = this.#tasks;
    const table = this.table;
    let head = this.#head;
    while (head < tasks.length && !table.holds(tasks[head] as number, tasks[head + 1] as number, this)) head += 2;
    if (head === tasks.length) {
      this.#tasks = [];
      head = 0;
    } else if (head >= 1024 && head * 2 >= tasks.length) {
      this.#tasks = tasks.slice(head);
      head = 0;
    }
    this.#head = head;
  }

  /** The handles of the tasks given to the thread and not settled, in the order given. */
  live(): number[] {
    const out: number[] = [];
    const tasks = this.#tasks;
    const table = this.table;
    for (let i = this.#head; i < tasks.length; i += 2) {
      const h = tasks[i] as number;
      if (table.holds(h, tasks[i + 1] as number, this)) out.push(h);
    }
    return out;
  }

  /** Tasks moved to another thread (balance.ts steal()) are no longer this thread's. */
  moved(handles: Set<number>): void {
    const kept: number[] = [];
    const tasks = this.#tasks;
    for (let i = this.#head; i < tasks.length; i += 2) {
      if (!handles.has(tasks[i] as number)) kept.push(tasks[i] as number, tasks[i + 1] as number);
    }
    this.#tasks = kept;
    this.#head = 0;
    this.count -= handles.size;
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
    if (this.#sendLone(slabs)) return;
    const batch: TaskBatch = { t: this.outbox };
    this.outbox = [];
    if (this.#forgotten.length > 0) {
      batch.x = this.#forgotten;
      this.#forgotten = [];
    }
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

  /**
   * Posts the outbox as a lone task (protocol.ts) when it is one CALL1 task and nothing else, and
   * its slot is free (OUTSTANDING, which counts it, at most LANE_SLOTS); false otherwise.
   */
  #sendLone(slabs: Int32Array[]): boolean {
    const out = this.outbox;
    if (out.length !== TASK_FIELDS || this.#newTargets.length > 0 || this.#forgotten.length > 0) return false;
    if (this.slabsSent < slabs.length || this.transfer.length > 0) return false;
    const code = out[2] as number;
    if (((code >> 1) & 3) !== CALL1 || Atomics.load(this.state, OUTSTANDING) > LANE_SLOTS) return false;
    if (out[3] === undefined && !LONE_UNDEFINED) return false;
    const ring = this.lanes.tasks;
    const at = (this.#loneSent % LANE_SLOTS) * LANE_TASK_FIELDS;
    ring[at] = out[0] as number;
    ring[at + 1] = out[1] as number;
    ring[at + 2] = code;
    ring[at + 3] = out[4] as number;
    this.#loneSent++;
    const arg = out[3];
    this.outbox = [];
    this.port.postMessage(arg);
    return true;
  }

  /** Where in lanes.outcomes the next lone outcome's handle, generation and status are (protocol.ts). */
  loneOutcome(): number {
    return (this.#loneTaken % LANE_SLOTS) * LANE_OUTCOME_FIELDS;
  }

  /** The lone outcome at loneOutcome() has been read: the thread may write its slot again. */
  tookLone(): void {
    this.#loneTaken++;
    Atomics.store(this.state, OUTCOMES_TAKEN, this.#loneTaken);
  }

  /** Posts the outbox, then `stop`: the thread ends once it has run what it was given. */
  stop(slabs: Int32Array[]): void {
    if (this.stopSent || this.dead) return;
    this.send(slabs);
    this.stopSent = true;
    this.port.postMessage({ stop: true } satisfies TaskBatch);
  }

  /** Hands every message the thread has posted to `receive`, without the event loop. */
  drain(receive: (message: unknown) => void): void {
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (m === undefined) return;
      receive(m.message);
    }
  }

  /** With no task out, the port no longer keeps the process alive. */
  unrefIfIdle(): void {
    if (this.referenced && this.count === 0) {
      this.referenced = false;
      unrefOwn(this.port);
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
      const r = atomicsWaitAsync(G, i, Atomics.load(G, i));
      if (r.async) r.value.then(again);
      else queueMicrotask(again);
    };
    again();
  }
}
