/**
 * The hang report: `dumpThreads()` lists every thread of the process — name, ident, daemon, state —
 * what each one is waiting on (the primitive's kind and id, blocking or async, since when) and who
 * holds the locks they wait for, and names the deadlock cycles among them.
 *
 * Everything is read from shared memory: the thread table and each thread's wait record
 * (shared/waiting.ts), which every thread publishes itself when a wait really sleeps. So the
 * report is right while the threads it describes — even every other thread, main included — are
 * blocked; it is printed on SIGUSR2 by a thread whose event loop is free (threads/dump-signal.ts).
 *
 * Lock owners: a waiter publishes the owner of the Lock/RLock it sleeps on as it read it when it
 * went to sleep (it does not wake to re-read it: shared/waiting.ts). For the locks this thread
 * knows (has sent or received), the report reads the owner live instead, and lists those held even
 * when nobody waits for them.
 */
import {
  ALIVE_NON_DAEMON,
  CLAIMING,
  ENDED,
  FAILED,
  FREE,
  LOST,
  G,
  MAIN_STOPPED,
  MAX_THREADS,
  RUNNING,
  readName,
  SLOT_DAEMON,
  isDaemonWord,
  keepsProcessWord,
  SLOT_IDENT,
  SLOT_NATIVE_ID,
  SLOT_STATE,
  STARTING,
  boot,
  liveThreads,
  slotIndex,
  stateOf,
} from "../shared/runtime.js";
import { readWaits, type SeenWait } from "../shared/waiting.js";
import * as FIFO from "../queue/fifo-layout.js";
import * as LOCKED from "../queue/locked-layout.js";
import { isShareable, kShare, knownObjects } from "../transport/shareable.js";

const STATES: Record<number, string> = {
  [FREE]: "FREE",
  [STARTING]: "STARTING",
  [RUNNING]: "RUNNING",
  [ENDED]: "ENDED",
  [CLAIMING]: "CLAIMING",
  [FAILED]: "FAILED",
  [LOST]: "LOST",
};

interface LockSeen {
  kind: "Lock" | "RLock";
  id: number;
  locked: boolean;
  owner: number;
  count: number;
}

/** The Locks and RLocks this thread holds objects for, read live. */
function knownLocks(): Map<number, LockSeen> {
  const out = new Map<number, LockSeen>();
  for (const [id, obj] of knownObjects()) {
    if (!isShareable(obj)) continue;
    const record = obj[kShare]();
    if (record.kind !== "Lock" && record.kind !== "RLock") continue;
    const w = new Int32Array(record.buffers[0] as SharedArrayBuffer);
    const v = Atomics.load(w, 0);
    // Word 0 of both is an owned mutex, `(ident + 1) << 1 | waiters` of the holder; an RLock's word
    // 1 counts its levels beyond the first (sync/lock.ts, sync/rlock.ts, sync/mutex.ts).
    out.set(id, {
      kind: record.kind,
      id,
      locked: v !== 0,
      owner: v !== 0 ? (v >>> 1) - 1 : 0,
      count: record.kind === "RLock" ? (v !== 0 ? Atomics.load(w, 1) + 1 : 0) : 1,
    });
  }
  return out;
}

/** Slot of the thread `ident` (alive or ended, while its slot is not reused), or -1. */
function slotOf(ident: number): number {
  for (let slot = 0; slot < MAX_THREADS; slot++) {
    if (
      Atomics.load(G, slotIndex(slot, SLOT_IDENT)) === ident &&
      stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE))) !== FREE
    )
      return slot;
  }
  return -1;
}

/** `"Thread-3" (ident 5)`, with ", ended" when that thread is over. */
function who(ident: number): string {
  if (ident === 0) return "(the hub)";
  const slot = slotOf(ident);
  if (slot < 0) return `ident ${ident} (ended)`;
  const state = stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE)));
  return `"${readName(slot)}" (ident ${ident}${state === ENDED || state === FAILED || state === LOST ? ", ended" : ""})`;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

function age(since: number, now: number): string {
  return `for ${Math.max(0, (now - since) / 1000).toFixed(3)} s (since ${clock(since)})`;
}

/** The owner of a waited-for lock: live when this thread knows the lock, else as the waiter saw it. */
function ownerOf(w: SeenWait, locks: Map<number, LockSeen>): { held: boolean; owner: number; count: number } {
  const live = locks.get(w.id);
  if (live !== undefined && live.kind === w.kind) return { held: live.locked, owner: live.owner, count: live.count };
  return { held: true, owner: w.owner, count: 0 };
}

/** What a waiter on word `index` of a queue's control block waits for. */
function queueWord(kind: string, index: number): string {
  const ring = kind === "Queue" || kind === "SimpleQueue";
  if (index === (ring ? FIFO.DONE : LOCKED.UNFINISHED)) return "for its unfinished tasks (join)";
  if (index === (ring ? FIFO.NE_SEQ : LOCKED.NE_SEQ)) return "for an item (get)";
  if (index === (ring ? FIFO.NF_SEQ : LOCKED.NF_SEQ)) return "for room (put)";
  if (ring && index === FIFO.P_LOCK) return "for its producers' lock";
  if (ring && index === FIFO.C_LOCK) return "for its consumers' lock";
  if (!ring && index === LOCKED.LOCK) return "for its lock";
  return `on word ${index}`;
}

function describeWait(w: SeenWait, locks: Map<number, LockSeen>, now: number): string {
  let what: string;
  switch (w.kind) {
    case "Lock":
    case "RLock": {
      const o = ownerOf(w, locks);
      what = `${w.kind}#${w.id}, ${
        !o.held
          ? "now free"
          : o.owner !== 0
            ? `held by ${who(o.owner)}${o.count > 1 ? ` ${o.count} times` : ""}`
            : "held (holder not recorded)"
      }`;
      break;
    }
    case "Thread": {
      const slot = slotOf(w.id);
      const state =
        slot < 0
          ? "ended"
          : slot === 0 && Atomics.load(G, MAIN_STOPPED) === 1
            ? "stopped, at its exit"
            : (STATES[stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE)))] ?? "?");
      what = `Thread ${who(w.id)} to start or end (start()/join(); it is ${state})`;
      break;
    }
    case "hub reply":
      what = "a reply from the hub (a queue item's shared buffer)";
      break;
    case "exit": {
      const counted = Atomics.load(G, ALIVE_NON_DAEMON);
      const live = liveThreads().filter(
        ([slot]) => slot > 0 && keepsProcessWord(Atomics.load(G, slotIndex(slot, SLOT_DAEMON))),
      );
      what = `the non-daemon threads to end (process exit; ${counted} counted, ${live.length} live${
        counted > live.length ? ": more counted than left (a thread killed while it started or ended one)" : ""
      })`;
      break;
    }
    case "Future":
      what = "Futures (result()/exception()/wait()/asCompleted())";
      break;
    case "sleep":
      what = "sleep()";
      break;
    case "internal word":
      what = `an internal word (index ${w.index})`;
      break;
    case "Queue":
    case "SimpleQueue":
    case "LifoQueue":
    case "PriorityQueue":
      what = `${w.kind}#${w.id}, ${queueWord(w.kind, w.index)}`;
      // (a wait on one of its locks: who holds it, as the waiter last read its owner word)
      if (w.owner !== 0) what += `, held by ${who(w.owner)}`;
      break;
    default:
      what = `${w.kind}#${w.id}`;
  }
  return `${what} ${age(w.since, now)}`;
}

interface ThreadSeen {
  slot: number;
  ident: number;
  blocking: SeenWait | null;
}

/** Deadlock cycles among threads blocked on locks: "A waits for L1 held by B, which waits for L2 held by A". */
function cycles(threads: ThreadSeen[], locks: Map<number, LockSeen>): string[] {
  const next = new Map<number, { w: SeenWait; owner: number }>();
  for (const t of threads) {
    const w = t.blocking;
    if (w === null || (w.kind !== "Lock" && w.kind !== "RLock")) continue;
    const o = ownerOf(w, locks);
    if (o.held && o.owner !== 0 && o.owner !== t.ident) next.set(t.ident, { w, owner: o.owner });
  }
  const out: string[] = [];
  const reported = new Set<number>();
  for (const start of next.keys()) {
    const path: number[] = [];
    let at: number | undefined = start;
    while (at !== undefined && !path.includes(at) && path.length <= next.size) {
      path.push(at);
      at = next.get(at)?.owner;
    }
    if (at === undefined || !path.includes(at)) continue;
    const loop = path.slice(path.indexOf(at));
    if (loop.some((i) => reported.has(i))) continue;
    for (const i of loop) reported.add(i);
    const parts = loop.map((i) => {
      const e = next.get(i) as { w: SeenWait; owner: number };
      return `${who(i)} waits for ${e.w.kind}#${e.w.id} held by ${who(e.owner)}`;
    });
    out.push(`DEADLOCK: ${parts.join("; ")}`);
  }
  return out;
}

/**
 * The hang report: every thread of the process (name, ident, daemon, state, kernel thread id), what
 * each waits on — the primitive's kind and id, blocking or async (the count of pending async waits
 * and the oldest one), since when — who holds the Locks and RLocks they wait for, the locks this
 * thread knows that are held, and any deadlock cycle. Read from shared memory only: it works while
 * every other thread is blocked. Also printed to stderr on SIGUSR2.
 */
export function dumpThreads(): string {
  const now = Date.now();
  const locks = knownLocks();
  const live = liveThreads();
  const lines: string[] = [
    `threading: ${live.length} thread(s) in process ${process.pid} at ${new Date(now).toISOString()}, reported by ${
      boot.slot >= 0 ? who(boot.ident) : "the hub"
    }`,
  ];
  const seen: ThreadSeen[] = [];
  for (const [slot, ident] of live) {
    const state = STATES[stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE)))] ?? "?";
    const daemon = isDaemonWord(Atomics.load(G, slotIndex(slot, SLOT_DAEMON)));
    const native = Atomics.load(G, slotIndex(slot, SLOT_NATIVE_ID));
    lines.push(
      `  "${readName(slot)}" ident=${ident} daemon=${daemon} ${state}${native > 0 ? ` native=${native}` : ""}`,
    );
    const waits = readWaits(slot, ident);
    seen.push({ slot, ident, blocking: waits.blocking });
    if (waits.blocking !== null) lines.push(`    blocking: waits on ${describeWait(waits.blocking, locks, now)}`);
    if (waits.asyncCount > 0) {
      lines.push(
        `    async: ${waits.asyncCount} wait(s) pending${
          waits.oldestAsync !== null ? `; the oldest on ${describeWait(waits.oldestAsync, locks, now)}` : ""
        }`,
      );
    }
    if (waits.blocking === null && waits.asyncCount === 0)
      lines.push("    not waiting in threading (running, or idle in its event loop)");
  }
  const held = [...locks.values()].filter((l) => l.locked);
  if (held.length > 0) {
    lines.push("  held locks known to the reporting thread:");
    for (const l of held) {
      lines.push(
        `    ${l.kind}#${l.id} held by ${l.owner !== 0 ? who(l.owner) : "(holder not recorded)"}${l.kind === "RLock" ? `, count ${l.count}` : ""}`,
      );
    }
  }
  for (const c of cycles(seen, locks)) lines.push(`  ${c}`);
  return `${lines.join("\n")}\n`;
}
