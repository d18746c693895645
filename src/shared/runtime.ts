/**
 * The process-wide shared state every thread of one program sees, and who "this thread" is.
 *
 * One `SharedArrayBuffer` (the *global block*) is made by the main thread and handed to every
 * thread at creation. It holds the process-wide counters and the thread table:
 *
 *   G[JOB_MODULES_USED]   bits: which of crypto (1), zlib (2), WebCrypto (4), net (8), fs.promises (16) a
 *                         thread's code has loaded on a worker (threads/reuse.ts: later workers wrap their
 *                         thread-pool jobs, and net's unrefs, at boot)
 *   G[NEXT_THREAD_NUMBER] the N of "Thread-N", counted process-wide from 1
 *   G[NEXT_IDENT]         the next thread ident (main is 1) in its low 30 bits; past MAX_IDENT they
 *                         start again at 2, and bit 30 (IDENTS_WRAPPED) says so: from then on an
 *                         ident still in use by a live thread is skipped (table.ts). As in CPython,
 *                         an ident may be recycled once its thread has ended.
 *   G[ALIVE_NON_DAEMON]   non-daemon threads started and not yet ended (keeps the process alive): never
 *                         below their number; above it for good when a thread was killed between
 *                         counting one and publishing it, so the exit wait goes by the table
 *                         (threads/table.ts keepsProcess) once this is above 0
 *   G[THREAD_EPOCH]       bumped before every change of the table that may make a thread keep the
 *                         process alive (a claim) or end one (threads/table.ts), so a scan of the
 *                         table knows whether it saw one state of it
 *   G[HOOK_OWNER(_SLOT)]  ident and slot of the thread whose excepthook applies, 0 = the default hook
 *   G[LOG_*]              the logging configuration made by basicConfig (see logging/)
 *   G[HUB_READY]          1 once the hub worker serves, HUB_DEAD once it has died
 *   G[DUMP_WATCHER]       1 while the hub answers SIGUSR2 with the hang report
 *   G[DIRECTORY_KIB]      KiB held by the buffer directory for items not yet taken (bounded)
 *   G[FIRST_LIBRARY]      1 once the main thread has sent the hub a first start that needs the whole
 *                         library: the first thread worker loads it at once (threads/first-worker.ts)
 *   table                 MAX_THREADS slots, one per thread that is starting, running, or ended
 *   G64[NEXT_ID64]        (64-bit, after the table) ids of shared objects, never reused nor wrapping
 *   G64[NEXT_REF64]       (64-bit) refs of the buffer directory (transport/directory.ts), never reused
 *   G64[PARK_STAMP64]     (64-bit) counts the parkings of idle workers in docks (threads/dock.ts)
 *   G64[DOCK64 + 2d ...]  (64-bit) dock d: its state word and the last thread it was handed
 *                         (threads/dock.ts: starts handed to idle workers directly)
 *   dock bytes            (after the 64-bit words) DOCK_BYTES per dock: the run request handed over
 *
 * Object ids and directory refs are separate 64-bit counters handed out as JS numbers (below 2^53:
 * at a billion a second that takes 104 days; past it they raise instead of wrapping). A 32-bit id
 * wrapped after 2^31 objects or queued items holding shared memory and aliased: an object decoded
 * as another, or (negative ids) as a Thread, whose records are kept under -ident.
 *
 * A slot is [state, ident, nativeId, daemon, mailbox, nameLength, name..., wait record (shared/waiting.ts), death,
 * linger, starter, claimer]; nameLength is the name's full length in UTF-16 units and name its
 * first NAME_MAX units only (a longer name travels whole in the start request and in the Thread
 * objects that know it; the table's prefix, and "…", is what dumps and other threads' handles
 * see: writeName, tableName). Its state word is the futex that
 * join() waits on. A slot belongs to the thread with that ident while state != FREE; once ENDED it
 * may be taken again by a new thread (with a new ident), so a holder always checks the ident.
 * (FAILED and LOST are ended too, but the slot is taken again only once its starter has seen them.)
 * Its nativeId word is below 0 until the thread runs (unsetNativeId: one value per generation).
 * The state word also holds the slot's *generation*, `word = generation << STATE_BITS | state`,
 * bumped by every claim: a CAS on the whole word fails once the slot has been taken again, so a
 * late writer (the hub ending a thread that already ended itself) never touches the new thread
 * (threads/table.ts). Read the state with stateOf(word).
 */
import { isMainThread, type MessagePort, type ResourceLimits, workerData } from "node:worker_threads";
import { RuntimeError } from "../errors.js";
import { threadFlags } from "./exec-argv.js";

/**
 * Which of crypto (bit 1), zlib (bit 2), WebCrypto (bit 4), net (bit 8) and fs.promises (bit 16) a thread's code has
 * loaded on some worker: later workers wrap their thread-pool jobs (and net's unrefs) at boot (threads/reuse.ts). (Was
 * the 32-bit object id counter.)
 */
export const JOB_MODULES_USED = 0;
export const NEXT_THREAD_NUMBER = 1;
export const NEXT_IDENT = 2;
export const ALIVE_NON_DAEMON = 3;
export const HOOK_OWNER = 4;
export const HOOK_OWNER_SLOT = 5;
export const LOG_VERSION = 6;
export const LOG_LEVEL = 7;
export const LOG_FORMAT_LENGTH = 8;
export const LOG_FORMAT = 9;
export const LOG_FORMAT_MAX = 1022;
/** The slot and ident of the thread writing the logging configuration (0 = none): see logging/config.ts. */
export const LOG_WRITER_SLOT = LOG_FORMAT + LOG_FORMAT_MAX;
export const LOG_WRITER_IDENT = LOG_WRITER_SLOT + 1;
/** 1 once the hub (threads/hub.ts) serves; start() gives up with an error if it never does. */
export const HUB_READY = LOG_WRITER_IDENT + 1;
/** The value of G[HUB_READY] once the hub has died (threads/table.ts markHubDead). */
export const HUB_DEAD = 2;
/** 1 while the hub listens for SIGUSR2 (threads/dump-signal.ts): the main thread then leaves the signal to it. */
export const DUMP_WATCHER = HUB_READY + 1;
/** KiB of buffers registered in the hub's directory by put and not yet taken (transport/directory.ts). */
export const DIRECTORY_KIB = DUMP_WATCHER + 1;
/** Bumped before a claim and before a thread's end (threads/table.ts keepsProcess). */
export const THREAD_EPOCH = DIRECTORY_KIB + 1;
/**
 * 1 once the main thread's start of a thread that needs the whole library went to the hub while
 * the first thread worker (threads/first-worker.ts) had run nothing: that worker loads the library
 * at once rather than wait for a start in its dock first.
 */
export const FIRST_LIBRARY = THREAD_EPOCH + 1;
/**
 * 1 once the main thread has reached its exit (threads/lifetime.ts): as CPython's _shutdown() stops
 * the main thread before it joins the non-daemon ones, its Thread object is no longer alive and
 * join()s of it return (its slot stays RUNNING: its locks and waits are still a live thread's).
 */
export const MAIN_STOPPED = FIRST_LIBRARY + 1;
const TABLE = MAIN_STOPPED + 1;

/** Thread-slot states. */
export const FREE = 0;
export const STARTING = 1;
export const RUNNING = 2;
export const ENDED = 3;
/** Being taken by a new thread: the ident is not yet written. */
export const CLAIMING = 4;
/**
 * Ended without having run: its start failed (no worker will run it). Not claimable until its
 * starter has taken the failure (threads/table.ts takeFailure: then ENDED).
 */
export const FAILED = 5;
/**
 * Ended without having run: handed to a parked worker that exited before it ran a line (its
 * start() starts it again through the hub). Not claimable until its starter has taken it, as FAILED.
 */
export const LOST = 6;
/** Low bits of a slot's state word that hold the state; the generation is above them. */
export const STATE_BITS = 3;
const STATE_MASK = (1 << STATE_BITS) - 1;
/** The state (FREE, STARTING, ...) in a slot's state word. */
export function stateOf(word: number): number {
  return word & STATE_MASK;
}
/** The state word of the next generation of a slot whose word is `word`, in `state` (28-bit generations, wrapping). */
export function nextGeneration(word: number, state: number): number {
  return (((word >>> STATE_BITS) + 1) & 0xfffffff) * (1 << STATE_BITS) + state;
}
/**
 * The nativeId word of a slot whose thread (of the generation of `word`) has not run yet: below 0,
 * and another value for each generation, so that only the worker of that very thread can replace
 * it (a CAS, threads/table.ts markRunning), never a late one in a slot claimed again since.
 */
export function unsetNativeId(word: number): number {
  return -1 - (word >>> STATE_BITS);
}
/** `word` with the same generation and another state. */
export function withState(word: number, state: number): number {
  return (word & ~STATE_MASK) | state;
}

export const SLOT_STATE = 0;
export const SLOT_IDENT = 1;
export const SLOT_NATIVE_ID = 2;
/** 0 not daemon, 1 daemon, DAEMON_POOL (threads/table.ts claimSlot), either with DAEMON_HELD. */
export const SLOT_DAEMON = 3;
/**
 * SLOT_DAEMON of a pool thread: not daemon (reads as false, as CPython's executor threads), yet not
 * counted in ALIVE_NON_DAEMON: its executor finishes its tasks at exit (futures/executor.ts).
 */
export const DAEMON_POOL = 2;
/**
 * A bit of SLOT_DAEMON: the thread (daemon, or a pool thread) ended with executors whose tasks its
 * worker's exit finishes: it is counted in ALIVE_NON_DAEMON, and keeps the process alive, until the
 * hub has seen that worker exit and ended it (threads/table.ts holdProcess).
 */
export const DAEMON_HELD = 4;
/** True when the SLOT_DAEMON word `word` says daemon (Thread.daemon). */
export function isDaemonWord(word: number): boolean {
  return (word & ~DAEMON_HELD) === 1;
}
/** True when a live thread whose SLOT_DAEMON word is `word` keeps the process alive (counted in ALIVE_NON_DAEMON). */
export function keepsProcessWord(word: number): boolean {
  return word === 0 || (word & DAEMON_HELD) !== 0;
}
/** Bumped (and notified) by the hub when it has posted a reply to this thread (transport/directory.ts). */
export const SLOT_MAILBOX = 4;
export const SLOT_NAME_LENGTH = 5;
export const SLOT_NAME = 6;
export const NAME_MAX = 122;
/** What the thread is waiting on (shared/waiting.ts), for the hang report (threads/dump.ts). */
export const SLOT_WAIT = SLOT_NAME + NAME_MAX;
export const WAIT_WORDS = 17;
/**
 * What the thread's worker died of under it, written by the hub before it marks the thread ended
 * (threads/hub.ts endDead), 0 at the claim: DEATH_NONE (not known to have died so), DEATH_OOM (out of
 * memory: ERR_WORKER_OUT_OF_MEMORY), DEATH_ERROR (another error of its worker). Read with deathOf().
 */
export const SLOT_DEATH = SLOT_WAIT + WAIT_WORDS;
export const DEATH_NONE = 0;
export const DEATH_OOM = 1;
export const DEATH_ERROR = 2;
/**
 * The ident of the slot's ended thread while its worker still runs code that thread left (a
 * callback it did not await; the worker is reused), else 0: written by the worker before it marks
 * the thread ENDED, cleared when that worker starts its next thread or exits (the hub). Such code
 * holds queue locks under that ident (lockOwner), so a waiter judges its holder by the worker, not
 * the ended thread (identHolds). The slot is not taken again, nor its ident given again, meanwhile.
 */
export const SLOT_LINGER = SLOT_DEATH + 1;
/**
 * The ident its starter's code runs under (lockOwner) while the slot is STARTING and its start()
 * has not handed the start over yet (to a dock or to the hub), else 0: written by claimSlot()
 * before STARTING, cleared by the starter once it has handed the start over (handedOver()) or by
 * the hub once it has the request. A STARTING slot whose starter no longer holds (identHolds:
 * its worker died inside start()) would never run nor end: the hub ends it when a worker exits
 * (threads/table.ts endOrphanedStarts).
 */
export const SLOT_STARTER = SLOT_LINGER + 1;
/**
 * Who claims the slot, or claimed it last: the claimer's ident (lockOwner), written by a CAS
 * before the slot leaves FREE/ENDED for CLAIMING (from 0, from a value below 0, or from a claimer
 * that no longer holds: identHolds), so a CLAIMING slot always names its claimer; -ident (its
 * starter) from STARTING on, so a FAILED or LOST slot names the starter that is to take the
 * failure. A CLAIMING slot whose claimer, or a FAILED/LOST slot whose starter, no longer holds
 * is given back (ENDED) by threads/table.ts recoverSlots.
 */
export const SLOT_CLAIMER = SLOT_STARTER + 1;
export const SLOT_INTS = SLOT_CLAIMER + 1;
/** How many threads may exist (starting or alive) at once, process-wide. */
export const MAX_THREADS = 4096;
/**
 * After the table: one record of QTURN_WORDS words per slot, the turn of the blocking queue wait
 * its thread is in (queue/engine.ts, "Turns"), kept apart from the slots so that a scan of every
 * thread's record reads one contiguous run of memory:
 *   [QTURN_KEY_LO]  the queue's object id, low 32 bits
 *   [QTURN_KEY_HI]  0 = no wait; else (id / 2^32) * 256 + the side's sequence word, plus
 *                   QTURN_DISORDERED while the wait is counted in its side's DISORDER word,
 *                   QTURN_DUTIES while its thread runs its duties inside the wait
 *   [QTURN_TICKET]  the wait's ticket (its place: taken once per wait)
 *   [QTURN_IDENT]   the ident it waits under (lockOwner): a record of a thread that no longer
 *                   holds its slot (slotHolds) is stale and ignored
 * Written only by the thread itself, under the queue side's lock (the key last, cleared first).
 */
export const QTURN = TABLE + MAX_THREADS * SLOT_INTS;
export const QTURN_WORDS = 4;
export const QTURN_KEY_LO = 0;
export const QTURN_KEY_HI = 1;
export const QTURN_TICKET = 2;
export const QTURN_IDENT = 3;
/** QTURN_KEY_HI's flag: the wait is counted in its side's DISORDER word. */
export const QTURN_DISORDERED = 1 << 29;
/** QTURN_KEY_HI's flag: the waiting thread runs its duties (an excepthook) inside the wait (queue/engine.ts, "Turns"). */
export const QTURN_DUTIES = 1 << 30;
/**
 * After the QTURN records: one record per slot (three words, QREL_WORDS apart), the queue lock its thread is
 * releasing (queue/fifo.ts, "Death"): set in the straight run that clears the lock's owner word,
 * right before the compare-exchange that frees the lock, and cleared straight after it. A thread
 * can die at that compare-exchange's entry, before it acts: then the lock stays held with its owner
 * word 0, and this record is what names the dead holder (a waiter claims it and puts the owner word
 * back: fifo.ts claimDeadRelease). Written only by the thread itself:
 *   [QREL_KEY_LO]  the queue's object id, low 32 bits
 *   [QREL_KEY_HI]  (id / 2^32) * 2 + the lock (0: P_LOCK, 1: C_LOCK)
 *   [QREL_OWNER]   the owner word the lock had (the holder's ident, its mark); 0 = no release under way
 * A slot whose record is set is not claimed again (threads/table.ts tryClaim): only a thread that
 * died in that instant leaves one, until a waiter on that lock claims it. Code that runs under no
 * slot (a worker before its first thread, the hub: no queue code) writes the spare record after
 * the last slot's, which nobody reads.
 */
export const QREL = (QTURN + MAX_THREADS * QTURN_WORDS + 15) & ~15;
/**
 * A record's stride: one 64-byte cache line each (QREL starts on one), as every put and get writes
 * its thread's record twice: records of threads side by side in one line made their cores trade it
 * (2 producers -> 2 consumers ~20% slower).
 */
export const QREL_WORDS = 16;
export const QREL_KEY_LO = 0;
export const QREL_KEY_HI = 1;
export const QREL_OWNER = 2;
/** The index in G of the release record of code running under `slot` (below 0: the spare one). */
export function releaseRecord(slot: number): number {
  return QREL + (slot < 0 ? MAX_THREADS : slot) * QREL_WORDS;
}
/** Where the 64-bit words start, after the tables (an even Int32 index: the BigInt64 view is aligned). */
const WIDE = (QREL + (MAX_THREADS + 1) * QREL_WORDS + 1) & ~1;
/** G64 words: the next shared-object id, the next directory ref, then the docks (threads/dock.ts). */
const NEXT_ID64 = 0;
const NEXT_REF64 = 1;
/** G64: how many times an idle worker has been parked in a dock (each parking's stamp, threads/dock.ts). */
export const PARK_STAMP64 = 2;
/** G64: the first dock's words; dock d has DOCK_WORDS words from DOCK64 + d * DOCK_WORDS. */
export const DOCK64 = 3;
/** Words of one dock: its state word, the last thread (slot, ident) it took. */
export const DOCK_WORDS = 2;
/** How many docks there are (idle workers beyond them wait in the hub only). */
export const MAX_DOCKS = 16;
/** Bytes of one dock's request area (a request that does not fit goes through the hub). */
export const DOCK_BYTES = 8192;
const WIDE_WORDS = DOCK64 + MAX_DOCKS * DOCK_WORDS;
/** Idents stay below this: guards store `ident << 1` in one Int32 word (state/guard.ts). */
export const MAX_IDENT = 2 ** 30 - 1;
/** Set in G[NEXT_IDENT] once idents have wrapped around (see the file comment). */
export const IDENTS_WRAPPED = 2 ** 30;

/** What a thread receives from its creator to join the process-wide state. */
export interface Bootstrap {
  global: SharedArrayBuffer;
  /** The hub's end for this thread: control messages (start a thread, look up an object). */
  hubPort: MessagePort | null;
  slot: number;
  ident: number;
  /** The Node flags threads run with (see shared/exec-argv.ts). */
  execArgv: string[];
  /** The resourceLimits threads get from the main thread's memory and stack flags (shared/exec-argv.ts). */
  resourceLimits: ResourceLimits | null;
  /** The tsx loader the process runs under, registered in a thread on demand (transport/loaders.ts). */
  tsx: string | null;
  /**
   * When the process started, in ms on the clock of performance.timeOrigin + performance.now()
   * (the epoch's, to a fraction of a ms): logging's relativeCreated counts from it in every thread.
   * A Worker's own process.uptime() counts from the Worker's start on Deno.
   */
  startedAt: number;
}

const inherited: Bootstrap | undefined = (workerData as { threading?: Bootstrap } | null)?.threading;

function makeRoot(): Bootstrap {
  const bytes = WIDE * 4 + WIDE_WORDS * 8 + MAX_DOCKS * DOCK_BYTES;
  const global = new SharedArrayBuffer(bytes);
  const g = new Int32Array(global);
  const g64 = new BigInt64Array(global, WIDE * 4, WIDE_WORDS);
  g64[NEXT_ID64] = 1n;
  g64[NEXT_REF64] = 1n;
  g[NEXT_THREAD_NUMBER] = 1;
  g[NEXT_IDENT] = 2;
  g[LOG_LEVEL] = 30; // WARNING, as Python's root logger
  // The main thread takes slot 0 with ident 1.
  const base = TABLE;
  g[base + SLOT_STATE] = RUNNING;
  g[base + SLOT_IDENT] = 1;
  g[base + SLOT_NATIVE_ID] = process.pid;
  writeName(g, 0, "MainThread");
  return {
    global,
    hubPort: null,
    slot: 0,
    ident: 1,
    startedAt: performance.timeOrigin + performance.now() - process.uptime() * 1000,
    ...threadFlags(process.execArgv),
  };
}

/** This thread's bootstrap: inherited from the creator, or made here in the root (main) thread. */
export const boot: Bootstrap = inherited ?? makeRoot();
/** The global block as 32-bit words. */
export const G = new Int32Array(boot.global);
/** The global block's 64-bit words (counters, docks). */
export const G64 = new BigInt64Array(boot.global, WIDE * 4, WIDE_WORDS);
/**
 * The index in G of the low 32 bits of G64[word] (a scan that needs only those reads them with a
 * 32-bit load: no BigInt made, threads/dock.ts).
 */
export function lowHalfInG(word: number): number {
  return WIDE + 2 * word + LOW_HALF;
}
/** 0 where the low half of a 64-bit word comes first in memory (little endian), else 1. */
const LOW_HALF = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
/** The request area of dock `dock` (threads/dock.ts): a 4-byte length, then the bytes. */
export function dockBytes(dock: number): Uint8Array {
  return new Uint8Array(boot.global, WIDE * 4 + WIDE_WORDS * 8 + dock * DOCK_BYTES, DOCK_BYTES);
}
/** True in the thread that made the global block (the program's main thread). */
export const isRoot = inherited === undefined;
/** True when this is a worker that `threading` did not start (rare: a hand-made Worker). */
export const isForeignWorker = !isMainThread && inherited === undefined;

/** Index in G of word `word` of thread slot `slot`. */
export function slotIndex(slot: number, word: number): number {
  return TABLE + slot * SLOT_INTS + word;
}

/**
 * Writes thread `slot`'s name into the table: SLOT_NAME_LENGTH holds the name's full length in
 * UTF-16 code units, SLOT_NAME its first NAME_MAX units only. A longer name is kept whole by the
 * Thread objects that know it (the starter's, and the started thread's own, which its start request
 * carries whole): the table's prefix serves dumps and the other threads' handles (tableName()).
 */
export function writeName(g: Int32Array, slot: number, name: string): void {
  const n = Math.min(name.length, NAME_MAX);
  const base = slotIndex(slot, SLOT_NAME);
  for (let i = 0; i < n; i++) g[base + i] = name.charCodeAt(i);
  Atomics.store(g, slotIndex(slot, SLOT_NAME_LENGTH), name.length);
}

/**
 * Thread `slot`'s name as the table has it: [prefix, full length]. The prefix is the whole name
 * when it is no longer than NAME_MAX; a cut one never ends in half a surrogate pair.
 */
export function tableName(slot: number): [string, number] {
  const length = Atomics.load(G, slotIndex(slot, SLOT_NAME_LENGTH));
  let n = Math.min(length, NAME_MAX);
  const base = slotIndex(slot, SLOT_NAME);
  if (n < length && n > 0) {
    const last = G[base + n - 1] as number;
    if (last >= 0xd800 && last <= 0xdbff) n--;
  }
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(G[base + i] as number);
  return [s, length];
}

/**
 * The calling thread's name for logging's %(threadName)s: the table's (readName) until
 * threads/thread.ts sets `current` to currentThread().name, which knows a long name whole.
 */
export const ownName: { current: () => string } = { current: () => readName(boot.slot) };

/** Thread `slot`'s name from the table; a name longer than NAME_MAX is its prefix and "…". */
export function readName(slot: number): string {
  const [prefix, length] = tableName(slot);
  return prefix.length < length ? `${prefix}\u2026` : prefix;
}

/** A fresh process-wide id for a shared object (a positive integer, never reused). */
export function nextObjectId(): number {
  return take64(NEXT_ID64, "shared object ids");
}

/** A fresh ref for the buffer directory (a positive integer, never reused; transport/directory.ts). */
export function nextBufferRef(): number {
  return take64(NEXT_REF64, "buffer directory refs");
}

function take64(word: number, what: string): number {
  const n = Atomics.add(G64, word, 1n);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) {
    Atomics.sub(G64, word, 1n);
    throw new RuntimeError(`threading: ${what} exhausted (2^53 handed out)`);
  }
  return Number(n);
}

/** @internal Test hook: sets the next shared-object id and directory ref, or thread ident (to start near a wrap point). */
export function setNextIds(next: { id?: number; ident?: number }): void {
  if (next.id !== undefined) {
    Atomics.store(G64, NEXT_ID64, BigInt(next.id));
    Atomics.store(G64, NEXT_REF64, BigInt(next.id));
  }
  if (next.ident !== undefined) Atomics.store(G, NEXT_IDENT, next.ident);
}

/**
 * True while the thread with `ident` in `slot` has not ended. The ident is read on both sides of
 * the state: a new owner writes its ident before it publishes STARTING, so a state read between two
 * equal ident reads belongs to that ident.
 */
export function isIdentAlive(slot: number, ident: number): boolean {
  if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return false;
  const state = stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE)));
  if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) return false;
  return state === STARTING || state === RUNNING;
}

/**
 * What the ended thread `ident` in `slot` died of (SLOT_DEATH), or DEATH_NONE once the slot is
 * another thread's (the ident is read after the word: a new claim writes its ident before it clears it).
 */
export function deathOf(slot: number, ident: number): number {
  const death = Atomics.load(G, slotIndex(slot, SLOT_DEATH));
  return Atomics.load(G, slotIndex(slot, SLOT_IDENT)) === ident ? death : DEATH_NONE;
}

/**
 * The ident (and thread-table slot) this thread's code holds locks under (their owner words: queue
 * locks, Lock/RLock, SharedDict's) and waits under (a Condition's wait nodes, a Barrier's
 * occupants): the running thread's; once it has ended, still its ident and slot while its worker
 * runs what it left (SLOT_LINGER), until the worker's next thread (boot.ident is 0 and boot.slot
 * -1 then). Never 0 in a thread's code (0, slot -1: a worker before its first thread, the hub).
 */
export const lockOwner = { ident: boot.ident, slot: boot.slot, rel: releaseRecord(boot.slot) };

/** Makes this thread's code hold locks under `ident` and `slot` from now on (lockOwner). */
export function setLockOwner(ident: number, slot: number): void {
  lockOwner.ident = ident;
  lockOwner.slot = slot;
  lockOwner.rel = releaseRecord(slot);
}

/**
 * The slot whose release record (QREL) a thread which no longer holds (slotHolds) left set for the
 * queue lock keyed `lo`, `hi` (QREL_KEY_LO, QREL_KEY_HI), or -1: that thread died releasing the
 * lock, which it still holds. The caller reads the record's owner again, checks it again and claims
 * it with a compare-exchange (queue/fifo.ts claimDeadRelease).
 */
export function deadReleaseSlot(lo: number, hi: number): number {
  for (let slot = 0; slot < MAX_THREADS; slot++) {
    const r = QREL + slot * QREL_WORDS;
    // (plain reads first: almost every record is clear)
    if (G[r + QREL_OWNER] === 0 || G[r + QREL_KEY_LO] !== lo) continue;
    const own = Atomics.load(G, r + QREL_OWNER);
    if (own === 0 || Atomics.load(G, r + QREL_KEY_HI) !== hi || Atomics.load(G, r + QREL_KEY_LO) !== lo) continue;
    if (!slotHolds(slot, own & MAX_IDENT)) return slot;
  }
  return -1;
}

/**
 * True while code that holds locks under `ident` (lockOwner) can still run: its thread is starting
 * or running, or it ended and its worker still runs (SLOT_LINGER names it). A holder of whom this
 * is false is dead: its worker has exited (queues take such a holder's lock over).
 */
export function identHolds(ident: number): boolean {
  // (0: a worker before its first thread, or the hub: no queue code runs there)
  if (ident === 0) return true;
  for (let slot = 0; slot < MAX_THREADS; slot++) {
    if (Atomics.load(G, slotIndex(slot, SLOT_LINGER)) === ident) return true;
    if (Atomics.load(G, slotIndex(slot, SLOT_IDENT)) !== ident) continue;
    const s = stateOf(Atomics.load(G, slotIndex(slot, SLOT_STATE)));
    if ((s === STARTING || s === RUNNING) && Atomics.load(G, slotIndex(slot, SLOT_IDENT)) === ident) return true;
  }
  return false;
}

/**
 * identHolds() for code known to run under `slot` (lockOwner.slot): its thread (`ident`) is
 * starting or running, or it ended and its worker still runs what it left (the slot's SLOT_LINGER
 * names it). A slot below 0 (a worker before its first thread, the hub) holds.
 */
export function slotHolds(slot: number, ident: number): boolean {
  if (slot < 0) return true;
  return isIdentAlive(slot, ident) || Atomics.load(G, slotIndex(slot, SLOT_LINGER)) === ident;
}

/** [slot, ident] of every thread that is starting or running, in slot order (main first). */
export function liveThreads(): [number, number][] {
  const out: [number, number][] = [];
  for (let slot = 0; slot < MAX_THREADS; slot++) {
    const w = Atomics.load(G, slotIndex(slot, SLOT_STATE));
    const s = stateOf(w);
    if (s !== STARTING && s !== RUNNING) continue;
    const ident = Atomics.load(G, slotIndex(slot, SLOT_IDENT));
    if (Atomics.load(G, slotIndex(slot, SLOT_STATE)) === w) out.push([slot, ident]);
  }
  return out;
}
