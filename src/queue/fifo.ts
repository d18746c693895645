/**
 * The FIFO engine of Queue and SimpleQueue: a byte ring with two locks (Michael & Scott's two-lock
 * queue, on a ring of variable-size records), so that producers and consumers never take the same
 * lock and meet only at two words.
 *
 * Control block: fifo-layout.ts (imported as FIFO), one 64-byte line per group: the words both
 * engines share (SHUTDOWN, MAXSIZE); the producers' P_LOCK, TAIL, PUT_BYTES, CAP_P; the consumers'
 * C_LOCK, HEAD, GET_BYTES, OWN_GET_BYTES, CAP_C, and DONE, DONE_EPOCH; "not empty" (NE_SEQ, GET_WAITERS,
 * GET_SLEEPERS, GET_ASYNC_SLEEPERS); "not full" (the same for putters).
 *
 * P_LOCK and C_LOCK are each one word holding a lock and a count, so that taking the lock is one
 * atomic operation and publishing a put (a get) and releasing the lock is one more:
 *   bit 0  L  locked
 *   bit 1  S  someone may sleep on the word for the lock (its release notifies one)
 *   bit 2  X  P_LOCK: getters may be registered (GET_WAITERS); C_LOCK: putters may be (PUT_WAITERS)
 *   bits 3-31 the items ever put (P_LOCK) / taken (C_LOCK), wrapping around (mod 2^29; only
 *          differences are used: qsize = puts - gets, never above 2^28 since a record takes >= 8
 *          of the ring's < 2^31 bytes).
 * Only the holder of the lock changes the count; X is set and cleared by the other side (below).
 *   lock:    fetch-or L; was L clear -> held. Else spin (at most SPIN_MS, while nobody sleeps on it),
 *            then loop { fetch-or L|S; was L clear -> held (with S: others may sleep); sleep while
 *            the word is what that fetch-or left }.
 *   release(+n items): compare-exchange the word as held -> count+n with L and S cleared, X kept
 *            (retried when S or X changed meanwhile); notify one if S was set.
 * This is Drepper's mutex ("Futexes are tricky", #2 with #3's release): a waiter sleeps only on a
 * value with S, and a release that clears S notifies; a woken waiter sets S again, so while anyone
 * sleeps the word has S or a wake is on its way.
 *
 * PUT_BYTES / GET_BYTES count the ring bytes (SKIPs included), wrapping around as int32: ring
 * bytes in use = PUT_BYTES - OWN_GET_BYTES. TAIL and PUT_BYTES change only under P_LOCK; HEAD and
 * OWN_GET_BYTES only under C_LOCK, which publishes OWN_GET_BYTES to GET_BYTES (Atomics.store) when it
 * is a sixteenth of the ring ahead; a producer that finds no room by GET_BYTES takes C_LOCK and
 * reads OWN_GET_BYTES (and publishes it) before it grows the ring. SHUTDOWN, MAXSIZE and CAP_*
 * change only under P_LOCK (CAP_* and the shutdown discard under both locks: always P_LOCK first,
 * then C_LOCK).
 *
 *   put:  (stage outside any lock) lock P; SHUTDOWN -> ShutDown; while puts - gets >= MAXSIZE
 *           { Full / wait on NF_SEQ as below }; find room for the record at TAIL (else at 0 after a
 *           SKIP; else, by OWN_GET_BYTES under C_LOCK, the same; else grow: under C_LOCK, grow the
 *           buffer, move a wrapped ring's [0, TAIL) to the old end, CAP_P = CAP_C = new size);
 *           copy the record in; TAIL, PUT_BYTES; release P with puts+1 (this
 *           publishes the record); if it had X and GET_WAITERS > 0 { NE_SEQ++; if GET_SLEEPERS > 0
 *           { notify(NE_SEQ, 1); GET_SLEEPERS and GET_WAITERS -= the woken } }
 *   get:  lock C; while puts - gets == 0 { SHUTDOWN -> ShutDown; non-blocking / out of time ->
 *           Empty; [a blocking getter: its ticket once, GET_TICKETS++, and GET_DISORDER++ once
 *           it sleeps out of its place, GET_FIRST past its ticket when its wait ends: engine.ts
 *           "Turns", which also has a woken getter give an item to an older one]; GET_WAITERS++; seq = NE_SEQ; fetch-or X into P_LOCK; re-read the puts (items
 *           now: GET_WAITERS--, take); release C; spin, then sleep on NE_SEQ while == seq; lock C;
 *           GET_WAITERS-- (unless a notify woke it: see below); if it is now 0, clear X in P_LOCK }
 *         (engine.ts waitTurn: one slow path for both engines, blocking and async; a blocking
 *         get's first sleep runs the same steps inline, in RingEngine.get, and goes on in waitTurn
 *         for anything but an item with nobody out of place)
 *         copy the record at HEAD out (past a SKIP); HEAD, OWN_GET_BYTES [GET_BYTES]; release C
 *         with gets+1; if it had X and PUT_WAITERS > 0 { NF_SEQ++; if PUT_SLEEPERS > 0
 *         notify(NF_SEQ, 1) }; decode
 *   shutdown(immediate): lock P, lock C; SHUTDOWN = 1 [discard: DISCARD_N = puts - gets; SHUTDOWN
 *         = 2; walk the records for their directory refs; HEAD = TAIL, OWN_GET_BYTES = GET_BYTES =
 *         PUT_BYTES]; NE_SEQ++; NF_SEQ++; release C [with gets = puts; DONE += DISCARD_N;
 *         SHUTDOWN = 1]; notify every getter, putter (and joiner); release P
 *   setMaxsize: lock P; GIVEN_MAXSIZE = as given, MAXSIZE = n; NF_SEQ++; notify every putter; release P
 *   taskDone: loop { e = DONE_EPOCH; done = DONE; u = cached puts - done, trusted when 2 <= u < 2^28
 *         and e <= the cache's epoch + 1; else u = puts - done (P_LOCK loaded, the cache with it);
 *         u == 0 -> RangeError; CAS DONE done -> done+1 [DONE_EPOCH++ when done+1 is a multiple of
 *         2^20]; at u == 1 notify DONE (every joiner) }
 *   join: while (puts - (done = DONE)) != 0 sleep on DONE while == done
 *
 * Task tracking without a count of unfinished tasks: a put counts as a task by its count in
 * P_LOCK, so it costs no atomic operation of its own. Unfinished tasks = puts - DONE, mod 2^29:
 * exact while fewer than 2^29 (536,870,912) tasks are unfinished at once (the one-lock engine's
 * UNFINISHED word: 2^31 - 1). A joiner reads DONE before the puts and sleeps on DONE: the
 * task_done() that leaves none unfinished changes DONE and notifies after the joiner read it, so
 * its wait returns; a put meanwhile only makes the joiner look again. The discard adds to DONE at
 * most the tasks unfinished (task_done() may run ahead of get(), as in CPython).
 *
 * DONE is on the consumers' line, and task_done() does not load P_LOCK (the producers' line) on
 * every call: each thread keeps the puts it last loaded (a lower bound: puts only grow) with the
 * DONE_EPOCH it loaded before them. cached puts - DONE >= 2 then says at least 2 tasks are
 * unfinished, so this one may be done and leaves some (no RangeError, no joiner to wake); at 0 or
 * 1 it reloads P_LOCK, which tells. The cache is stale by what DONE moved since, which the epoch
 * bounds: DONE_EPOCH is bumped after each CAS that carries DONE to a multiple of 2^20 (and by the
 * multiples a discard passes), so at most 1 past the cache's epoch DONE moved < 2^20 * (2 + the
 * bumps still pending, one per thread between its CAS and its add, or lost to a stack overflow
 * raised at that add) << 2^28; the true cached puts - DONE then lies in (-2^28, 2^29), and the
 * count taken mod 2^29 is trusted only in [2, 2^28). The cache is only this thread's: nothing of
 * it is left behind by a thread that dies, and a recovery changes DONE only by the discard.
 *
 * No lost wake-up. Between a producer and a getter (the putter / consumer pair is the mirror
 * image, on C_LOCK, PUT_WAITERS, NF_SEQ): the getter increments GET_WAITERS, reads NE_SEQ, sets X
 * in P_LOCK (a read-modify-write), then reads P_LOCK's count; the producer's release is a
 * read-modify-write of P_LOCK too, so the two are ordered: either the getter's fetch-or came first
 * (then the release sees X, reads GET_WAITERS > 0 and bumps NE_SEQ after the getter read it: its
 * wait returns at once or is notified — the sleeper counts itself in GET_SLEEPERS before
 * Atomics.wait, the waker reads GET_SLEEPERS after its bump, one of them sees the other), or the
 * release came first and the getter's re-read sees the item and it does not sleep. X is cleared
 * only under C_LOCK when GET_WAITERS is 0 (the last registered getter, back under the lock, or a
 * consumer that reloads the puts), and getters register only under C_LOCK, so X is never cleared
 * while a getter that set it is registered; a stale X costs a producer one load of GET_WAITERS.
 * The waker that wakes a sleeper takes it out of GET_WAITERS as well as GET_SLEEPERS (Atomics.notify
 * says how many it woke, and only those are answered "ok"; any other sleeper unregisters itself back
 * under C_LOCK): on a loaded machine a woken getter may not run for milliseconds, and while it
 * stayed registered every put paid a bump of NE_SEQ and two loads for it. A sleeper is registered
 * while it sleeps, so the count never drops below the getters that may still need a bump. (The
 * waker claims the sleeper in GET_SLEEPERS before its notify and gives the claim back if it woke
 * nobody: engine.ts wakeOne, which says why a waker that finds the count at 0 then loses no wake.)
 * Shutdown and setMaxsize bump the sequence words while holding the lock under which waiters read
 * them, so a waiter that read the old value wakes. Each put wakes one getter and each get one
 * putter; a woken waiter re-checks under its lock and takes the item even if its time has just run
 * out (as CPython re-checks _qsize() first), so a wake-up is never wasted while another waiter
 * sleeps.
 *
 * Memory order of the data: a producer writes the record bytes before the release of P_LOCK that
 * counts it, and a consumer reads them after an Atomics.load of P_LOCK that saw that count; a
 * consumer reads a record before the Atomics.store of GET_BYTES (or the release of C_LOCK) that
 * frees its bytes, and producers reuse those bytes only after loading GET_BYTES (or taking
 * C_LOCK). Growth and the discard hold both locks, so no consumer is reading while the ring moves.
 *
 * Per-thread caches (this object): a producer keeps the last gets and GET_BYTES it loaded, a
 * consumer the last puts. A stale value only underestimates the other side's progress (the queue
 * looks fuller to producers, emptier to consumers), so it is reloaded when it would say "full",
 * "no room" or "empty". Other threads of the same side moving the count do not make a cache wrong,
 * only staler, so it is kept across them (two producers would otherwise each reload the consumers'
 * line on nearly every put); it is reloaded once this side has moved 2^20 items (2^29 bytes) past
 * the point where it was loaded. How far this side moved is measured by its count and PUT_BYTES,
 * which wrap around (2^29 items, 2^32 bytes: a thread idle while the others moved that much would
 * find its cache looking fresh, and a consumer would take records that are not there, a producer
 * write over unread ones), so each side also keeps an epoch word that cannot wrap in practice:
 * P_EPOCH, bumped under P_LOCK every 2^20 puts and every 2^28 bytes of PUT_BYTES, C_EPOCH under
 * C_LOCK every 2^20 gets (and by 2 when shutdown(true) moves the gets). A cache is trusted only
 * while its side's epoch is at most 1 past the one it was loaded at, so that side moved fewer than
 * 2^21 items and 2^29 bytes since, and the counts' differences are exact. That bounds them: a
 * producer's puts - cached gets is at most 2^28 (queued then) + 2^20 < 2^29 and its PUT_BYTES -
 * cached GET_BYTES at most the ring plus a sixteenth (< 2^31 * 17/16) + 2^29 < 2^32, both taken
 * unsigned; a consumer's cached puts - gets lies in (-2^20, 2^28), taken signed: so the
 * wrap-around never makes a stale cache look fresh.
 *
 * Death. The locks guard only word updates and one copy of already-encoded bytes (no user code,
 * no waiting, no allocation except a buffer growth). A thread that dies outside them changes
 * nothing or everything (a put or get is published by the same compare-exchange that releases its
 * lock); one that dies asleep leaves GET_WAITERS / PUT_WAITERS one too high (spare bumps, and X
 * stays set: a load per publish, nothing else), a stale turn record (ignored), if it slept
 * out of its place, GET_DISORDER / PUT_DISORDER one too high until the next scan lowers it
 * (engine.ts "Turns": meanwhile a wake wakes every sleeper), and, if it was the oldest,
 * GET_FIRST / PUT_FIRST at its ticket until the next scan raises it (meanwhile a waiter woken
 * alone scans); one that dies waiting for a lock a stale S (one spare notify). A thread dies (its worker terminated, out of memory — resourceLimits or a
 * growth —, the process.exit() of a worker) only where V8 checks for interrupts: at a call, a
 * return, a loop's back edge, and the entry of an Atomics call, before it acts (an allocation that
 * fails only asks for such a stop; plain stores are not such points: a probe that called
 * worker.terminate() on a worker looping over plain stores and Atomics calls found it stopped
 * before each kind of Atomics call, never after one had acted and before the next plain store,
 * nor between two plain stores; Node 20, 22, 24, 26). So between two such points a holder's
 * stores happen all or none, an Atomics call's effect and the plain stores straight after it too,
 * and the code under the locks is laid out in straight runs for it:
 *
 * Owner words. P_OWNER (C_OWNER) is the lock word's index + 3: the acquire that takes the lock
 * stores the thread's ident there (lockOwner: below), straight after its winning fetch-or (no point in between); the
 * release clears it straight before its compare-exchange (and puts it back while a retry keeps the
 * lock). So whenever the lock is held the word names its holder, or is 0 for those two instants
 * (never a thread that does not hold it: a recovery never takes a live thread's lock, even one the
 * OS stopped between two instructions). The release's compare-exchange is an Atomics call, where
 * a thread can stop, leaving the lock held with the owner word 0: so the release first writes its
 * thread's release record (shared/runtime.ts QREL: this queue's id, the lock, the owner word it
 * clears), in the same straight run, and clears the record straight after the compare-exchange
 * (and before a retry gives the owner word back). A dead thread's record is set exactly when it
 * died at that compare-exchange (or at the test hook just before it), holding the lock; its slot is
 * not claimed again meanwhile, so its record stays until a waiter claims it (claimDeadRelease: a
 * compare-exchange of the record's owner from the dead ident to 0, then, straight after it, the
 * owner word put back as the holder had it), which makes it a dead holder as any other. A live
 * thread whose release threw there (a stack overflow) puts its owner word back from its record,
 * with GAVE_UP ("Exceptions"). The uncontended put/get gains two plain stores on its own line
 * (owner, clear) and two to its release record (its owner, set and cleared; the queue's key is
 * written only when it changed): no Atomics call. A waiter that slept on the lock sleeps
 * CHECK_MS at most; once the owner word has not changed for CHECK_MS (0: it looks for a dead
 * thread's release record first) it looks the ident up in the
 * thread table (shared/runtime.ts identHolds: idents are not reused while one holds), and when
 * nothing can run under it any more it takes the lock over: a compare-exchange of the owner word from the
 * dead ident to its own (one waiter wins; the lock word stays held). Waiters asleep on NE_SEQ,
 * NF_SEQ or DONE, who wait for what a dead holder would have sent, look every IDLE_CHECK_MS
 * (engine.ts) and take a dead holder's lock (which recovers it).
 * Code a thread left running after it ended (a callback it did not await, which its worker, reused,
 * runs after the thread's end: un-awaited microtasks, an operation in flight it lets finish) takes
 * the locks under that thread's ident too (lockOwner keeps it until the worker's next thread), and
 * the slot says so (SLOT_LINGER, set before the thread is marked ENDED, cleared by the worker's next
 * thread or, once the worker has exited, by the hub): identHolds judges such a holder by its worker.
 * Without that, such code ran with ident 0 (or, settling, with the ended ident): a waiter that saw
 * it hold a lock 50 ms (preempted) took it over from a live holder.
 *
 * Where a holder can die and what it leaves (the words a put or get writes are the holder's
 * private work until its release publishes the count: producers read TAIL, PUT_BYTES, P_EPOCH only
 * under P_LOCK, consumers HEAD, OWN_GET_BYTES, C_EPOCH only under C_LOCK; only GET_BYTES is read
 * outside, and it is stored in the get's straight run):
 *   put   before its words (in isFull, sync, roomOrGrow, writeRecord; the SKIP and the record are
 *         past TAIL, unpublished): nothing. Its words TAIL, PUT_BYTES, P_EPOCH, its release record
 *         (owner ident | MARK), the owner word's clear and the publishing compare-exchange are one
 *         straight run: all or nothing, but for a stop at that compare-exchange's entry, where the
 *         record names the dead holder, marked: complete but unpublished. Only when that
 *         compare-exchange fails (S or X changed) does the put go on to a retry loop (a back
 *         edge) with its words written: it first stores the mark (P_OWNER = ident | MARK, 2^30):
 *         complete but unpublished.
 *   get   before its words (sync, readRecord): nothing. Its words HEAD, OWN_GET_BYTES, [C_EPOCH],
 *         [for a record holding directory refs (items over 64 KiB, shared objects)
 *         TAKEN_AT/TAKEN_N/TAKEN_E: where the record is; its bytes are not freed in GET_BYTES, so
 *         they stay intact until the get is published or recovered] are one straight run; then,
 *         now and then, GET_BYTES is published (an Atomics call, where a thread can stop: the
 *         owner word is marked first; before, a get killed there had moved HEAD unmarked and its
 *         recovery dropped an item), and the release, marked on a retry as for a put: a marked get is complete
 *         (its bytes may be freed in GET_BYTES already, so producers may be writing over them,
 *         unless it holds refs) but unpublished.
 *   growth (a put's roomOrGrow, both locks): before the buffer grows: nothing (HEAD, TAIL are
 *         only read). After it grew (the buffer cannot shrink): the words still describe the old
 *         ring of CAP_C bytes; layOut() then moves a wrapped ring's [0, TAIL) past the old end
 *         and writes TAIL (HEAD = 0 if empty), CAP_P, CAP_C in one straight run.
 *   discard (shutdown(true), both locks): DISCARD_N, DISCARD_HEAD and SHUTDOWN = 2 first; the
 *         walk (for the records' directory refs, reclaimed after P_LOCK is released) only reads;
 *         one straight run moves the consumers' words (discardWords); C_LOCK is released with the
 *         gets moved up to the puts; then, still under P_LOCK, countDiscarded's successful
 *         compare-exchange of DONE is followed straight by SHUTDOWN = 1 (a plain store; the
 *         DONE_EPOCH bump, an Atomics call, comes after it: before, a thread killed at that bump
 *         left SHUTDOWN == 2 with DONE counted, and its recovery counted the discard twice when
 *         more tasks were unfinished than discarded). SHUTDOWN == 2 with P_LOCK
 *         held by a dead thread = DONE not yet counted (C_LOCK still held, or released).
 *   setMaxsize, shutdown(false), a waiter registering or giving up: their words are single stores
 *         (setMaxsize's two, the reported value then MAXSIZE, straight after each other, no call between);
 *         what may be missing is the bump and wake that follow (MAXSIZE raised, putters asleep).
 * Recovery (repair(), holding both locks, P_LOCK first: a waiter for C_LOCK that does not hold
 * P_LOCK takes it first; one that holds it — a growth, a shutdown, a recovery of P_LOCK — takes
 * C_LOCK over directly): a marked put is published (its record was complete before the mark) and
 * a marked get too (its item went with its dead thread, as if it had died just after get()
 * returned; a record with directory refs has them reclaimed: TAKEN_N and TAKEN_E match the gets
 * and C_EPOCH); an unmarked one never happened (the words are those of the published count). A buffer
 * longer than CAP_C is a growth to finish: layOut() from the old ring (P and C are unmarked then:
 * the growth comes before the put's words). SHUTDOWN == 2: the discard again (discardWords), the
 * gets moved up to the puts (by 0 if C_LOCK was released already) as C_LOCK is released, then its
 * DISCARD_N tasks counted done and SHUTDOWN = 1, as shutdown() orders them (its records are
 * walked from DISCARD_HEAD for their directory refs: intact, as no put or growth came since). Then GET_BYTES = OWN_GET_BYTES, both epochs + 2 (every
 * cache reloads), NE_SEQ++ and NF_SEQ++, C_LOCK released (with the get, or the discard), every
 * getter, putter and joiner woken (each re-checks), P_LOCK released (with the put). A recovering
 * thread killed half-way leaves what a holder would (the owner words keep the dead holder's mark):
 * the next one redoes it. The refs found are reclaimed (a hub round trip) once repair() is done,
 * after the locks — under P_LOCK when this thread held it already —; a recovering thread killed
 * before that leaks them (only then). The waiter then takes the lock as usual. A marked holder is also looked for at once (deadMarked: no CHECK_MS, as a live holder is
 * marked only during its release's retry) by whoever its unpublished work would mislead: a
 * getter that finds the queue empty (items(): it gives C_LOCK back, takes P_LOCK over, then C_LOCK
 * again), a putter that finds it full (room(), holding P_LOCK: C_LOCK over alone), and qsize()
 * when either lock is held (publishDead): so get_nowait(), short timed gets and qsize()/empty()
 * see a dead put's item without a producer or a getter asleep for IDLE_CHECK_MS. Shutdown and setMaxsize wake before their last release, so that a thread that dies after
 * it has nothing left undone.
 *
 * Exceptions. Nothing under the locks throws but a growth refused past the largest size
 * (storage.ts StorageFull, before anything changed: the locks are released, and it is thrown) and
 * a stack overflow (RangeError), which V8 raises at a call: at any call, the release's own
 * included, so a catch that released the lock could overflow again (the lock then held for ever
 * by a thread that lives on, which no waiter takes over), and one that released it after a growth,
 * a discard or a marked put stopped half-way would publish the half. So the public calls (put,
 * get, their async twins, shutdown, setMaxsize, join) catch what comes out of them and, in straight
 * code with no call, set GAVE_UP (bit 31) in the owner word of each lock this thread still holds,
 * then rethrow: a waiter takes such a lock over after CHECK_MS and repairs as for a dead holder
 * (this thread too, when it comes back). The async twins await their driver inside that catch:
 * its first steps run on the caller's stack, under the lock (before, a rejection there bypassed the
 * catch and left the lock held by a live thread); their later steps run from the event loop, on a
 * short stack. (Code a thread left running after it ended gives up under its ident as well.) The
 * release's compare-exchange (and the test hook just before it), where the owner word is 0, has a
 * catch of its own (freeLock, store, take): the owner word back with GAVE_UP, the record cleared.
 *
 * A thread that dies between a publishing release and the wake that follows leaves the waiter it
 * would have woken asleep until its next IDLE_CHECK_MS look, after which it re-checks under its
 * lock and finds the item (the room). Not recovered: the directory buffers (items over 64 KiB) of
 * a get or a discard whose thread died after publishing it and before reclaiming them (the get
 * had not decoded its item yet; the discard had released P_LOCK), or whose recovering thread died
 * after its repair and before reclaiming them, are leaked.
 */
import { Empty, Full, ShutDown } from "../errors.js";
import {
  deadReleaseSlot,
  G,
  lockOwner,
  MAX_IDENT,
  QREL_KEY_HI,
  QREL_KEY_LO,
  QREL_OWNER,
  releaseRecord,
  slotHolds,
} from "../shared/runtime.js";
import {
  deadlineOf,
  driveAsync,
  driveBlocking,
  expired,
  park,
  remaining,
  sliceMs,
  spinWhile,
  type Steps,
  type WaitResult,
  waitBlocking,
} from "../shared/wait.js";
import { SPIN_MS } from "../sync/mutex.js";
import {
  decodeTaken,
  readRecord,
  reclaim,
  Staged as StagedRecord,
  stageItem,
  warmCodec,
  recordRefs,
  recordSize,
  type Staged,
  T_LARGE,
  T_MSTR,
  T_NUM,
  T_SKIP,
  T_SSTR,
  T_V8,
  Taken,
  writeRecord,
} from "./codec.js";
import { recentMid, recentString } from "./plain.js";
import {
  CHECK_MS,
  DISCARDING,
  type Engine,
  endTurn,
  IDLE_CHECK_MS,
  identAlive,
  takeTicket,
  type Side,
  SPIN,
  sleeperHow,
  takesTurns,
  type TurnState,
  turnHooks,
  waitTurn,
  wakeAll,
  wakeOne,
} from "./engine.js";
import * as FIFO from "./fifo-layout.js";
import { HEADER_WORDS, QID_HI, QID_LO } from "./layout.js";
import { Data, StorageFull } from "./storage.js";

// The bits of P_LOCK and C_LOCK (the file comment).
/** Locked. */
const L = 1;
/** Someone may sleep on the word for the lock: its release notifies one. */
const S = 2;
/** P_LOCK: getters may be registered (GET_WAITERS); C_LOCK: putters may be (PUT_WAITERS). */
const X = 4;
/** One item in the count (bits 3-31). */
const ONE = 8;
/** The count bits of a word (the count times ONE). */
const COUNT = ~7;

/** A lock's owner word (P_OWNER, C_OWNER) is its lock word's index + OWNER. */
const OWNER = 3;
/** The owner word's thread ident bits (idents are below 2^30). */
const IDENT = (1 << 30) - 1;
/** The owner word's publication mark: the holder's put (get) has written all its words (file comment). */
const MARK = 1 << 30;
/**
 * The owner word's give-up bit: the holder (alive) left the lock held after an exception it could
 * not release it in (a stack overflow: file comment, "Exceptions"); taken over as a dead holder's.
 */
const GAVE_UP = 1 << 31;

/** Unfinished tasks are counted mod 2^29: puts (P_LOCK's count) - DONE. */
const TASKS = (1 << 29) - 1;

/** Unfinished tasks: the puts (P_LOCK `p`'s count) not matched by DONE `done`. */
function unfinished(p: number, done: number): number {
  return ((p >>> 3) - done) & TASKS;
}

/** Items from count bits `b` up to count bits `a` (int32 wrap-around; negative if `a` is behind). */
function between(a: number, b: number): number {
  return ((a - b) | 0) >> 3;
}

/**
 * The value of P_LOCK / C_LOCK as this thread last took it (its count bits are this side's count:
 * only the holder changes them). A lock is never held across an await, so one of each is enough.
 */
let heldP = 0;
let heldC = 0;

/** Takes the lock of word `i`: one fetch-or when it is free; returns the word as taken (L set). */
function acquire(h: Int32Array, i: number): number {
  const old = Atomics.or(h, i, L);
  if ((old & L) === 0) {
    // (the owner word in the same straight run as the fetch-or that took the lock: file comment)
    h[i + OWNER] = lockOwner.ident;
    return old | L;
  }
  return acquireSlow(h, i);
}

/**
 * The lock is held: spin while nobody sleeps on it (its holder is likely about to release it), at
 * most SPIN_MS; then set S and sleep while the word is unchanged. After sleeping, the lock is
 * taken with S set (others may still sleep: its release notifies the next), as Drepper's mutex.
 */
function acquireSlow(h: Int32Array, i: number): number {
  const until = performance.now() + SPIN_MS;
  for (let n = 1; ; n++) {
    const v = Atomics.load(h, i);
    if ((v & L) === 0) {
      const old = Atomics.or(h, i, L);
      if ((old & L) === 0) {
        h[i + OWNER] = lockOwner.ident;
        return old | L;
      }
    } else if ((v & S) !== 0 || ((n & 31) === 0 && performance.now() >= until)) break;
  }
  // Sleeps CHECK_MS at most: a holder whose owner word stays the same that long is looked up in
  // the thread table, and a dead one's lock is taken over and repaired (file comment, "Death").
  let seen = -1;
  let since = 0;
  for (;;) {
    const old = Atomics.or(h, i, L | S);
    if ((old & L) === 0) {
      h[i + OWNER] = lockOwner.ident;
      return old | L | S;
    }
    waitBlocking(h, i, old | L | S, CHECK_MS);
    const own = Atomics.load(h, i + OWNER);
    if (own !== seen) {
      seen = own;
      since = performance.now();
    } else if (performance.now() - since >= CHECK_MS) {
      // (owner 0 that long: a holder killed at its release's compare-exchange, named by its
      // release record, whose owner word claimDeadRelease() puts back)
      const dead = own !== 0 ? own : claimDeadRelease(h, i);
      if (dead !== 0 && (dead < 0 || !identAlive(dead & IDENT))) {
        takeOver(h, i, dead);
        seen = -1;
      }
    }
  }
}

// (freeLock() writes these as literals)
if (QREL_KEY_LO !== 0 || QREL_KEY_HI !== 1 || QREL_OWNER !== 2 || QID_LO !== 76 || QID_HI !== 77)
  throw new Error("threading: internal error: fifo.ts freeLock() names the release record's words by other indices");

/**
 * The step that frees the lock of word `i` (P_LOCK or C_LOCK): one compare-exchange from `e` to
 * `next`; returns the word as it was. Around it, in one straight run (file comment, "Death"): this
 * thread's release record (QREL) set to the lock and its owner word `own`, the owner word cleared,
 * [the compare-exchange], the record cleared, and, when it failed (the lock still held), the owner
 * word given back. An exception at the compare-exchange (a stack overflow) or at the test hook
 * just before it gives the lock up (the owner word back with GAVE_UP: "Exceptions").
 */
function freeLock(h: Int32Array, i: number, e: number, next: number, own: number): number {
  // (QREL_KEY_LO, QREL_KEY_HI, QREL_OWNER and QID_LO, QID_HI as literals, G in a local: the bundle
  // loads imported constants on every use)
  const g = G;
  const rec = lockOwner.rel;
  g[rec] = h[76] as number;
  g[rec + 1] = ((h[77] as number) << 1) | (i === FIFO.C_LOCK ? 1 : 0) | 0;
  g[rec + 2] = own;
  h[i + OWNER] = 0;
  let r: number;
  try {
    fifoHooks.beforeRelease?.(i === FIFO.P_LOCK ? "P:release" : "C:release");
    r = Atomics.compareExchange(h, i, e, next);
  } catch (x) {
    h[i + OWNER] = own | GAVE_UP;
    g[rec + 2] = 0;
    throw x;
  }
  g[rec + 2] = 0;
  if (r !== e) h[i + OWNER] = own;
  return r;
}

/**
 * Releases the lock of word `i` taken as `held` and adds `delta` (a multiple of ONE) to its count,
 * in one compare-exchange (retried when S or X changed meanwhile); clears L and S, keeps X.
 * Notifies one sleeper when S was set. Returns the word as it was just before.
 */
function release(h: Int32Array, i: number, held: number, delta: number): number {
  // (the owner word given back by freeLock() while a retry — S or X changed — keeps the lock held)
  const own = h[i + OWNER] as number;
  let e = held;
  for (;;) {
    const r = freeLock(h, i, e, ((e & ~3) + delta) | 0, own);
    if (r === e) break;
    e = r;
  }
  if ((e & S) !== 0) Atomics.notify(h, i, 1);
  return e;
}

function lockP(h: Int32Array): void {
  heldP = acquire(h, FIFO.P_LOCK);
}
function unlockP(h: Int32Array): void {
  release(h, FIFO.P_LOCK, heldP, 0);
}
function lockC(h: Int32Array): void {
  heldC = acquire(h, FIFO.C_LOCK);
}
function unlockC(h: Int32Array): void {
  release(h, FIFO.C_LOCK, heldC, 0);
}

/**
 * Lock `i` (P_LOCK or C_LOCK) held with its owner word 0 by a thread that died at its release's
 * compare-exchange (file comment, "Death"): claims that thread's release record (a
 * compare-exchange of the record's owner from the dead holder's to 0: one claimer wins) and, in
 * the same straight run, puts the owner word back as the holder left it before it cleared it.
 * Returns that owner word (takeOver() then recovers the lock from it), or 0 when there is no such
 * holder. (A scan of every slot's record: only for a lock whose owner word stayed 0.)
 */
function claimDeadRelease(h: Int32Array, i: number): number {
  if ((Atomics.load(h, i) & L) === 0 || Atomics.load(h, i + OWNER) !== 0) return 0;
  const lo = h[QID_LO] as number;
  const hi = ((h[QID_HI] as number) << 1) | (i === FIFO.C_LOCK ? 1 : 0) | 0;
  const slot = deadReleaseSlot(lo, hi);
  if (slot < 0) return 0;
  const rec = releaseRecord(slot);
  // (read and checked again: the compare-exchange below is from this value, whose ident is a dead
  // thread's, never given again; a dead thread's record changes only by its claim)
  const own = Atomics.load(G, rec + QREL_OWNER);
  if (own === 0 || slotHolds(slot, own & MAX_IDENT)) return 0;
  if (Atomics.load(G, rec + QREL_KEY_LO) !== lo || Atomics.load(G, rec + QREL_KEY_HI) !== hi) return 0;
  if (Atomics.compareExchange(G, rec + QREL_OWNER, own, 0) !== own) return 0;
  h[i + OWNER] = own;
  return own;
}

/**
 * Takes over the lock of word `i` (P_LOCK or C_LOCK) from the dead thread whose owner word is
 * `dead`, repairs the queue and releases what it took (file comment, "Death"); the caller then
 * takes the lock as usual. Nothing happens when another waiter took it over first. Recovery runs
 * holding both locks, P_LOCK first: a waiter for C_LOCK that does not hold P_LOCK takes it first
 * (as usual: a producer holding P_LOCK and waiting for this C_LOCK recovers it itself meanwhile).
 */
function takeOver(h: Int32Array, i: number, dead: number): void {
  // (the dead holder's mark stays on the owner word: a thread killed while it recovers leaves it
  // for the next)
  const me = lockOwner.ident | (dead & MARK);
  const refs: number[] = [];
  if (i === FIFO.P_LOCK) {
    if (Atomics.compareExchange(h, FIFO.P_OWNER, dead, me) !== dead) return;
    // (C_LOCK as usual: a dead holder of it too — a growth, a discard — is recovered in there,
    // with P_LOCK held by this thread)
    lockC(h);
    repair(h, dead, 0, true, refs);
  } else if (
    (Atomics.load(h, FIFO.P_OWNER) & (IDENT | GAVE_UP)) === lockOwner.ident &&
    (Atomics.load(h, FIFO.P_LOCK) & L) !== 0
  ) {
    // This thread holds P_LOCK (a growth, a shutdown, the recovery of P_LOCK): C_LOCK alone.
    if (Atomics.compareExchange(h, FIFO.C_OWNER, dead, me) !== dead) return;
    repair(h, 0, dead, false, refs);
  } else {
    lockP(h);
    if (Atomics.compareExchange(h, FIFO.C_OWNER, dead, me) !== dead) {
      unlockP(h);
      return;
    }
    repair(h, 0, dead, true, refs);
  }
  // The directory refs of the large items the dead holder had taken out (a get) or discarded
  // (shutdown(true)) and not reclaimed: given back now, after the locks (but P_LOCK when this
  // thread held it before: a growth, a shutdown, a put that found the queue full).
  if (refs.length > 0) reclaim(refs);
}

/**
 * Holding both locks, P_LOCK taken over from the dead owner word `pDead` (0: held by this thread)
 * and C_LOCK from `cDead` (0: taken as usual): finishes what the dead holder left (a growth, a
 * discard; a put or get whose words were all written — the mark — is published, one that had not
 * written them is dropped), republishes GET_BYTES, moves both epochs (every cache is reloaded),
 * bumps NE_SEQ and NF_SEQ; releases C_LOCK, wakes every waiter and joiner (each re-checks), and
 * releases P_LOCK when `releaseP` (else this thread goes on with it). The file comment ("Death")
 * says why each step.
 */
function repair(h: Int32Array, pDead: number, cDead: number, releaseP: boolean, refs: number[]): void {
  const e = engines.get(h.buffer);
  if (e === undefined)
    throw new Error("threading: internal error: a queue recovered by a thread that has no view of it");
  const d = e.data;
  d.sync();
  const puts = Atomics.load(h, FIFO.P_LOCK) & COUNT;
  const gets = Atomics.load(h, FIFO.C_LOCK) & COUNT;
  const dp = (pDead & MARK) !== 0 ? ONE : 0;
  let dg = (cDead & MARK) !== 0 ? ONE : 0;
  // A dead get that took a record with directory refs (TAKEN_*: its bytes were not freed in
  // GET_BYTES, so they are intact): the refs go back to the directory (the caller reclaims them).
  const takenRefs: number[] = [];
  if (dg !== 0 && h[FIFO.TAKEN_N] === gets && h[FIFO.TAKEN_E] === h[FIFO.C_EPOCH])
    recordRefs(d, h[FIFO.TAKEN_AT] as number, takenRefs);
  // A growth that stopped after the buffer grew: the words still describe the old ring.
  const old = h[FIFO.CAP_C] as number;
  if (old !== d.cap) layOut(h, d, old);
  const discarding = Atomics.load(h, FIFO.SHUTDOWN) === DISCARDING;
  if (discarding) {
    // shutdown(true) stopped before its DONE was counted (before or after it released C_LOCK
    // with the gets moved up: then puts - gets is 0): the discard again, the gets moved up as C_LOCK is released, then
    // its DISCARD_N tasks are done — in the order shutdown() does it, so that a recovery killed
    // half-way leaves SHUTDOWN == 2 until the gets have moved, and the next one finishes it.
    // (its records are intact from DISCARD_HEAD: no put or growth since, P_LOCK is held)
    discardedRefs(d, h[FIFO.DISCARD_HEAD] as number, h[FIFO.DISCARD_N] as number, takenRefs);
    discardWords(h);
    dg = (puts - gets) | 0;
  }
  Atomics.store(h, FIFO.GET_BYTES, h[FIFO.OWN_GET_BYTES] as number);
  h[FIFO.P_EPOCH] = ((h[FIFO.P_EPOCH] as number) + 2) | 0;
  h[FIFO.C_EPOCH] = ((h[FIFO.C_EPOCH] as number) + 2) | 0;
  Atomics.add(h, FIFO.NE_SEQ, 1);
  Atomics.add(h, FIFO.NF_SEQ, 1);
  fifoHooks.beforeRelease?.("repair");
  release(h, FIFO.C_LOCK, Atomics.load(h, FIFO.C_LOCK), dg);
  if (discarding) {
    fifoHooks.beforeRelease?.("repair:C");
    countDiscarded(h, h[FIFO.DISCARD_N] as number);
  }
  wakeAll(h, FIFO.NE_SEQ, FIFO.GET_SLEEPERS, FIFO.GET_WAITERS);
  wakeAll(h, FIFO.NF_SEQ, FIFO.PUT_SLEEPERS, FIFO.PUT_WAITERS);
  Atomics.notify(h, FIFO.DONE);
  // (handed over only now: a recovery killed before this point leaves them to the next one, which
  // finds the same records; past it, they are this thread's to reclaim)
  for (const r of takenRefs) refs.push(r);
  if (releaseP) release(h, FIFO.P_LOCK, Atomics.load(h, FIFO.P_LOCK), dp);
}

/**
 * Under both locks, the buffer grown (to `d.cap`) from a ring of `old` bytes that the words still
 * describe: a wrapped ring's [0, TAIL) is copied to just after the old end (a consumer arriving
 * there continues), an empty one starts again at 0; then TAIL (HEAD), CAP_P and CAP_C, with no
 * call in between (file comment, "Death"). Returns the new TAIL.
 */
function layOut(h: Int32Array, d: Data, old: number): number {
  const head = h[FIFO.HEAD] as number;
  let tail = h[FIFO.TAIL] as number;
  const used = ((h[FIFO.PUT_BYTES] as number) - (h[FIFO.OWN_GET_BYTES] as number)) | 0;
  if (used === 0) {
    tail = 0;
    h[FIFO.HEAD] = 0;
  } else if (tail <= head) {
    if (tail > 0) d.u8.copyWithin(old, 0, tail);
    tail += old;
  }
  h[FIFO.TAIL] = tail;
  h[FIFO.CAP_P] = d.cap;
  h[FIFO.CAP_C] = d.cap;
  return tail;
}

/** Appends the directory refs of the `n` records from `head` on (SKIPs passed over) to `refs`. */
function discardedRefs(d: Data, head: number, n: number, refs: number[]): void {
  while (n > 0) {
    if (((d.i32[head >> 2] as number) & 255) !== T_SKIP) {
      recordRefs(d, head, refs);
      n--;
    }
    head += recordSize(d, head);
    if (head === d.cap) head = 0;
  }
}

/** Under both locks: the consumers' words of a ring whose every item is discarded (gets = puts). */
function discardWords(h: Int32Array): void {
  const putBytes = h[FIFO.PUT_BYTES] as number;
  h[FIFO.HEAD] = h[FIFO.TAIL] as number;
  h[FIFO.OWN_GET_BYTES] = putBytes;
  Atomics.store(h, FIFO.GET_BYTES, putBytes);
  // (the gets jump: every consumer's cache of the puts is reloaded)
  h[FIFO.C_EPOCH] = ((h[FIFO.C_EPOCH] as number) + 2) | 0;
}

/**
 * Under both locks: counts `discarded` items as done (never more than are unfinished:
 * task_done() may have been called ahead of get()), then SHUTDOWN = 1 (the discard is over), in
 * the same straight run as the compare-exchange that counted them.
 */
function countDiscarded(h: Int32Array, discarded: number): void {
  for (;;) {
    const done = Atomics.load(h, FIFO.DONE);
    const n = Math.min(discarded, unfinished(Atomics.load(h, FIFO.P_LOCK), done));
    if (Atomics.compareExchange(h, FIFO.DONE, done, (done + n) | 0) === done) {
      // (a plain store, straight after: no point where a thread can stop between the two)
      h[FIFO.SHUTDOWN] = 1;
      fifoHooks.beforeRelease?.("counted");
      // (the multiples of 2^20 it passed, as taskDone() bumps them: file comment)
      Atomics.add(h, FIFO.DONE_EPOCH, (((done + n) >>> 20) - (done >>> 20)) & 0xfff);
      return;
    }
  }
}

/**
 * The owner word of lock `i` (P_LOCK or C_LOCK) when it is held by a dead thread (or given up)
 * whose put (get) is complete but unpublished — the mark —, else 0. Looked up at once, without
 * the CHECK_MS of acquireSlow(): a live holder carries the mark only for its release's retry (a
 * few instructions), so the thread table is read only in that instant or for a dead holder, and
 * takeOver()'s compare-exchange of the owner word fails if the holder released it meanwhile.
 * Owner 0 is not looked into here (a live release's instant, or a holder that died at its release's
 * compare-exchange, whose record a waiter claims after CHECK_MS: claimDeadRelease scans every
 * slot's record, too dear for each get that finds the queue empty).
 */
function deadMarked(h: Int32Array, i: number): number {
  if ((Atomics.load(h, i) & L) === 0) return 0;
  const own = Atomics.load(h, i + OWNER);
  if ((own & MARK) === 0 || (own & IDENT) === 0 || (own > 0 && identAlive(own & IDENT))) return 0;
  return own;
}

/**
 * With no lock held: publishes a put or get that a dead thread completed but did not publish
 * (deadMarked), so that qsize() and empty() count it; true when it did.
 */
function publishDead(h: Int32Array): boolean {
  let done = false;
  for (const i of [FIFO.P_LOCK, FIFO.C_LOCK]) {
    const own = deadMarked(h, i);
    if (own !== 0) {
      takeOver(h, i, own);
      done = true;
    }
  }
  return done;
}

/**
 * With no lock held: takes and releases each lock whose owner word names a dead thread, which
 * recovers it (acquireSlow). For waiters asleep on a sequence word or DONE, whose wake-up the dead
 * holder would have sent (Side.idleCheck).
 */
function recoverDead(h: Int32Array): void {
  for (const i of [FIFO.P_LOCK, FIFO.C_LOCK]) {
    let own = Atomics.load(h, i + OWNER);
    if (own === 0) own = claimDeadRelease(h, i);
    if ((Atomics.load(h, i) & L) === 0 || own === 0 || (own > 0 && identAlive(own & IDENT))) continue;
    if (i === FIFO.P_LOCK) {
      lockP(h);
      unlockP(h);
    } else {
      lockC(h);
      unlockC(h);
    }
  }
}

/** The lock words and their owner words, for the hang report (Engine.lockOwners). */
const RING_OWNERS: ReadonlyMap<number, number> = new Map([
  [FIFO.P_LOCK, FIFO.P_OWNER],
  [FIFO.C_LOCK, FIFO.C_OWNER],
]);

/** The RingEngine of each queue in this thread, by its control block's buffer (for repair()). */
const engines = new WeakMap<ArrayBufferLike, RingEngine>();

/** Putters wait on "not full" (NF_SEQ) under P_LOCK, getters on "not empty" (NE_SEQ) under C_LOCK. */
const PUTTERS: Side = {
  wakerUnregisters: true,
  lock: lockP,
  unlock: unlockP,
  seq: FIFO.NF_SEQ,
  waiters: FIFO.PUT_WAITERS,
  how: sleeperHow(FIFO.PUT_SLEEPERS),
  Refusal: Full,
  state: "full",
  // (consumers publish gets on C_LOCK: X there makes them look at PUT_WAITERS)
  registered: (h) => {
    Atomics.or(h, FIFO.C_LOCK, X);
  },
  idleCheck: recoverDead,
  unregistered: (h, left) => {
    if (left === 0) Atomics.and(h, FIFO.C_LOCK, ~X);
  },
  disorder: FIFO.PUT_DISORDER,
  tickets: FIFO.PUT_TICKETS,
  // (under P_LOCK: this side's count is held; the gets are loaded)
  count: (h) => {
    const max = h[FIFO.MAXSIZE] as number;
    if (max <= 0) return Number.POSITIVE_INFINITY;
    return max - between(Atomics.load(h, FIFO.P_LOCK) & COUNT, Atomics.load(h, FIFO.C_LOCK) & COUNT);
  },
};
const GETTERS: Side = {
  wakerUnregisters: true,
  lock: lockC,
  unlock: unlockC,
  seq: FIFO.NE_SEQ,
  waiters: FIFO.GET_WAITERS,
  how: sleeperHow(FIFO.GET_SLEEPERS),
  Refusal: Empty,
  state: "empty",
  registered: (h) => {
    Atomics.or(h, FIFO.P_LOCK, X);
  },
  idleCheck: recoverDead,
  unregistered: (h, left) => {
    if (left === 0) Atomics.and(h, FIFO.P_LOCK, ~X);
  },
  disorder: FIFO.GET_DISORDER,
  tickets: FIFO.GET_TICKETS,
  // (under C_LOCK: this side's count is held; the puts are loaded)
  count: (h) => between(Atomics.load(h, FIFO.P_LOCK) & COUNT, Atomics.load(h, FIFO.C_LOCK) & COUNT),
};

/**
 * A cache of the other side's count (bytes) is reloaded once this side has moved STALE_ITEMS items
 * (STALE_BYTES bytes) past the point where it was loaded: so the differences never wrap (file comment).
 */
const STALE_ITEMS = 1 << 20;
const STALE_BYTES = 1 << 29;
/**
 * The count bits that are 0 every 2^20 items: a put (get) that moves its count onto such a value
 * bumps P_EPOCH (C_EPOCH), as does a put that moves PUT_BYTES past a multiple of 2^28.
 */
const EPOCH_ITEMS = ((1 << 20) - 1) << 3;

/** GET_BYTES is published when the bytes freed since exceed the ring's size >> PUBLISH_SHIFT. */
const PUBLISH_SHIFT = 4;

const RELAX = Number(process.env.THREADING_QUEUE_RELAX ?? 16);
let sink = 0;
/**
 * A pause between two looks at the other side's cache line while spinning: every look pulls the
 * line over, which costs the side writing it a miss, so looking less often speeds both sides up.
 */
function relax(): void {
  for (let i = 0; i < RELAX; i++) sink = (sink + i) | 0;
}

/** Iterations (~1 ns each) a consumer that found the queue empty waits between looks (gather()). */
const GATHER = Number(process.env.THREADING_QUEUE_GATHER ?? 256);
/** Looks of a consumer's streaming spin: about as long as SPIN relaxed ones. */
const GATHER_SPIN = GATHER > 0 ? Math.max(1, Math.ceil((SPIN * RELAX) / GATHER)) : SPIN;
/**
 * The pause of a consumer between two looks at P_LOCK while the queue is empty: each look pulls
 * the producers' line over, and the next put's two atomic operations on P_LOCK then wait for it to
 * come back. A producer streaming items puts several in the pause, which the consumer then takes
 * from its cached count without looking; so the line moves once per few items instead of once or
 * twice per item. The cost: an item put while a consumer pauses is seen up to one pause later.
 */
function gather(): void {
  for (let i = 0; i < (GATHER > 0 ? GATHER : RELAX); i++) sink = (sink + i) | 0;
}

/**
 * gather() pauses a consumer whose cached count says empty makes before its first look at P_LOCK
 * (get()'s streaming fast path). A consumer faster than its producer runs out of items as soon as
 * the producer has put one: looking at once, it took one item a look, and each look (then the
 * record's line, read right behind the producer) cost the producer's next put two cache misses.
 * Pausing first, it finds several items a look. Between two threads on their own cores (Node 24,
 * 1,600,000 items, Queue() 1 -> 1, best runs of 8): strings ~100 -> ~75 ns an item, numbers ~80
 * -> ~65 (docs/benchmarks.md). A consumer slower than its producer seldom runs out (its cached
 * count then holds a backlog), and one asleep is woken by a put as before. The cost: a consumer
 * that runs out looks ~1 µs later (two pauses) than it did, unless its own thread put since it last
 * ran out (a thread that puts and then gets, alone: there is its item, and no producer to wait for).
 */
const GATHER_FIRST = Number(process.env.THREADING_QUEUE_GATHER_FIRST ?? 2);

/**
 * @internal Test hooks (this thread): `beforeRelease` runs in a put ("P") or get ("C") with its lock
 * held, just before the release that publishes it, so a test can let other threads act in between
 * (the owner word is marked first: a thread that dies in there leaves what a failed release would);
 * in release() ("P:release", "C:release": the owner word cleared, before the compare-exchange that
 * frees the lock); and at the other points where a holder can die with words half-way (file
 * comment, "Death"): "P:record" (the record written, none of the put's words), "C:record" (the
 * record copied out, none of the get's words), "C:publish" (a get's words written and marked,
 * before it publishes GET_BYTES), "grow" (the buffer grown, the words not yet), "discard"
 * (shutdown(true) under both locks, SHUTDOWN = 2, the consumers' words not yet moved), "discarded"
 * (C_LOCK released with the gets moved up, the tasks not yet counted done), "counted" (the tasks
 * counted and SHUTDOWN = 1, DONE_EPOCH not yet bumped), "maxsize" (MAXSIZE stored, putters not yet
 * woken); in a recovery (repair()), "repair" (the dead holder's work redone, C_LOCK not yet
 * released) and "repair:C" (a discard's C_LOCK released, its tasks not yet counted).
 */
export const fifoHooks: { beforeRelease?: (side: string) => void } = {};

/** This thread's scratch record for gets (decoded before any await, so one is enough). */
const taken = new Taken();

/** The FIFO engine of one queue in this thread (views, caches); the state is all in `h` and the ring. */
export class RingEngine implements Engine {
  readonly h: Int32Array;
  readonly data: Data;
  // Producer caches (file comment): the count bits of C_LOCK, loaded when P_LOCK's count was gAt;
  // GET_BYTES, loaded when PUT_BYTES was bAt.
  private cGets = 0;
  private gAt = 0;
  private gEpoch = 0;
  private gLoaded = false;
  private cGetBytes = 0;
  private bAt = 0;
  private bEpoch = 0;
  private bLoaded = false;
  // Consumer cache: the count bits of P_LOCK, loaded when C_LOCK's count was pAt.
  private cPuts = 0;
  private pAt = 0;
  private pEpoch = 0;
  private pLoaded = false;
  // taskDone()'s cache (file comment): P_LOCK's count, loaded after DONE_EPOCH was dEpoch (its
  // first call finds the epoch 2 past the cache's and loads P_LOCK).
  private dPuts = 0;
  private dEpoch = -2;
  // The puts this thread made (store()), and their count when its get() last ran out of its
  // cached count: a get() that finds it moved does not pause before its look (GATHER_FIRST).
  private ownPuts = 0;
  private ownSeen = 0;

  constructor(h: Int32Array, buffers?: SharedArrayBuffer[]) {
    this.h = h;
    this.data = new Data(buffers?.[0]);
    if (buffers === undefined) h[FIFO.CAP_P] = h[FIFO.CAP_C] = this.data.cap;
    engines.set(h.buffer, this);
    // (a growable buffer, as every ring's, so the views are of the same kind)
    warmCodec(new Data(new SharedArrayBuffer(256, { maxByteLength: 256 })), taken);
    warmEngine();
  }

  buffers(): SharedArrayBuffer[] {
    return [this.data.sab];
  }

  readonly lockOwners: ReadonlyMap<number, number> = RING_OWNERS;
  readonly ownersCoded = false;

  qsize(): number {
    const h = this.h;
    let puts = Atomics.load(h, FIFO.P_LOCK);
    let gets = Atomics.load(h, FIFO.C_LOCK);
    // (a lock held: a dead holder's complete put or get is published first, so it is counted)
    if (((puts | gets) & L) !== 0) {
      try {
        if (publishDead(h)) {
          puts = Atomics.load(h, FIFO.P_LOCK);
          gets = Atomics.load(h, FIFO.C_LOCK);
        }
      } catch (e) {
        // (inline, no call: file comment, "Exceptions")
        const me = lockOwner.ident;
        if (me !== 0) {
          const p = h[FIFO.P_OWNER] as number;
          if ((p & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.P_LOCK) & L) !== 0) h[FIFO.P_OWNER] = p | GAVE_UP;
          const c = h[FIFO.C_OWNER] as number;
          if ((c & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.C_LOCK) & L) !== 0) h[FIFO.C_OWNER] = c | GAVE_UP;
        }
        throw e;
      }
    }
    return Math.max(0, between(puts & COUNT, gets & COUNT));
  }

  // ---- producers ----

  /** Under P_LOCK: true when MAXSIZE items are queued (reloads the cached gets before saying so). */
  private isFull(max: number): boolean {
    const puts = heldP & COUNT;
    const epoch = this.h[FIFO.P_EPOCH] as number;
    if (
      !this.gLoaded ||
      (epoch - this.gEpoch) >>> 0 > 1 ||
      (puts - this.gAt) >>> 3 >= STALE_ITEMS ||
      (puts - this.cGets) >>> 3 >= max
    ) {
      this.cGets = Atomics.load(this.h, FIFO.C_LOCK) & COUNT;
      this.gAt = puts;
      this.gEpoch = epoch;
      this.gLoaded = true;
      return (puts - this.cGets) >>> 3 >= max;
    }
    return false;
  }

  /** Under P_LOCK: ShutDown, or whether there is room (putters' admit, engine.ts waitTurn). */
  private room(what: string): boolean | Error {
    const h = this.h;
    if (h[FIFO.SHUTDOWN] !== 0) return new ShutDown(`${what}: the queue is shut down`);
    const max = h[FIFO.MAXSIZE] as number;
    if (max <= 0 || !this.isFull(max)) return true;
    // Full: a get that a dead thread completed under C_LOCK made room; it is published first (this
    // thread holds P_LOCK: C_LOCK is taken over alone).
    const own = deadMarked(h, FIFO.C_LOCK);
    if (own === 0) return false;
    takeOver(h, FIFO.C_LOCK, own);
    return !this.isFull(max);
  }

  /** The slow path of put and putAsync (shared/wait.ts drives it), from under P_LOCK. */
  private putSteps(st: Staged, block: boolean, ms: number, what: string, isAsync = false): Steps<void> {
    return waitTurn(
      this.h,
      PUTTERS,
      () => this.room(what),
      () => this.store(st),
      block,
      ms,
      what,
      isAsync,
    );
  }

  put(st: Staged, block: boolean, ms: number, what: string): void {
    const h = this.h;
    if (block) {
      // Streaming fast path: a full queue usually has room again within a microsecond. Only when
      // this thread's cached view says full does it watch the gets (the consumers' line). MAXSIZE
      // and P_LOCK are read plainly here (an Atomics.load costs ~7-15 ns, a plain read <1 ns): they
      // only decide whether to spin; whether there is room is decided under P_LOCK.
      const max = h[FIFO.MAXSIZE] as number;
      const puts = (h[FIFO.P_LOCK] as number) & COUNT;
      if (max > 0 && (puts - this.cGets) >>> 3 >= max) {
        // (one look a turn, at the consumers' word: P_LOCK is this side's)
        for (let i = 0; i < SPIN && (puts - (Atomics.load(h, FIFO.C_LOCK) & COUNT)) >>> 3 >= max; i++) relax();
      }
    }
    try {
      lockP(h);
      if (this.roomNow()) this.store(st);
      else driveBlocking(this.putSteps(st, block, ms, what));
    } catch (e) {
      // (inline, no call: file comment, "Exceptions")
      const me = lockOwner.ident;
      if (me !== 0) {
        const p = h[FIFO.P_OWNER] as number;
        if ((p & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.P_LOCK) & L) !== 0) h[FIFO.P_OWNER] = p | GAVE_UP;
        const c = h[FIFO.C_OWNER] as number;
        if ((c & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.C_LOCK) & L) !== 0) h[FIFO.C_OWNER] = c | GAVE_UP;
      }
      throw e;
    }
  }

  /** Under P_LOCK: not shut down and room for one more item (the fast path of put: no generator). */
  private roomNow(): boolean {
    const h = this.h;
    if (h[FIFO.SHUTDOWN] !== 0) return false;
    const max = h[FIFO.MAXSIZE] as number;
    return max <= 0 || !this.isFull(max);
  }

  async putAsync(st: Staged, ms: number, what: string): Promise<void> {
    const h = this.h;
    try {
      lockP(h);
      if (this.roomNow()) this.store(st);
      else return await driveAsync(this.putSteps(st, true, ms, what, true));
    } catch (e) {
      // (inline, no call: file comment, "Exceptions")
      const me = lockOwner.ident;
      if (me !== 0) {
        const p = h[FIFO.P_OWNER] as number;
        if ((p & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.P_LOCK) & L) !== 0) h[FIFO.P_OWNER] = p | GAVE_UP;
        const c = h[FIFO.C_OWNER] as number;
        if ((c & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.C_LOCK) & L) !== 0) h[FIFO.C_OWNER] = c | GAVE_UP;
      }
      throw e;
    }
  }

  /** Under P_LOCK, admitted: stores the record, then publishes it and unlocks in one step, wakes a getter. */
  private store(st: Staged): void {
    const h = this.h;
    const d = this.data;
    const hook = fifoHooks.beforeRelease; // (tests only: one load a call)
    try {
      if ((h[FIFO.CAP_P] as number) !== d.cap) d.sync();
      const s = st.size;
      const cap = d.cap;
      let tail = h[FIFO.TAIL] as number;
      const putBytes = h[FIFO.PUT_BYTES] as number;
      let need = cap - tail >= s ? s : cap - tail + s;
      const epoch = h[FIFO.P_EPOCH] as number;
      if (
        !this.bLoaded ||
        (epoch - this.bEpoch) >>> 0 > 1 ||
        (putBytes - this.bAt) >>> 0 >= STALE_BYTES ||
        cap - ((putBytes - this.cGetBytes) >>> 0) < need
      ) {
        this.cGetBytes = Atomics.load(h, FIFO.GET_BYTES);
        this.bAt = putBytes;
        this.bEpoch = epoch;
        this.bLoaded = true;
        if (cap - ((putBytes - this.cGetBytes) >>> 0) < need) {
          // Consumers publish GET_BYTES only now and then: the exact count is under C_LOCK.
          const grown = this.roomOrGrow(s, need);
          if (grown >= 0) {
            tail = grown;
            need = s;
          }
        }
      }
      let at = tail;
      if (need !== s) {
        // Not enough room before the end: a SKIP to the end, the record at 0.
        d.i32[tail >> 2] = T_SKIP;
        d.i32[(tail >> 2) + 1] = cap - tail;
        at = 0;
      }
      // (a number or a short string, the commonest records, written here as writeRecord() would:
      // it is not inlined; none has refs or a mark)
      const tag = st.tag;
      if (tag === T_NUM) {
        d.i32[at >> 2] = T_NUM;
        d.f64[(at + 8) >> 3] = st.num;
      } else if (tag === T_SSTR) {
        const i32 = d.i32;
        const w = at >> 2;
        i32[w] = T_SSTR;
        i32[w + 1] = st.len;
        i32[w + 2] = st.a;
        i32[w + 3] = st.b;
      } else if (tag === T_MSTR) {
        const i32 = d.i32;
        const w = at >> 2;
        i32[w] = T_MSTR;
        i32[w + 1] = st.len;
        i32[w + 2] = st.a;
        i32[w + 3] = st.b;
        i32[w + 4] = st.c;
        i32[w + 5] = st.d;
      } else writeRecord(d, at, st);
      if (hook !== undefined) hook("P:record");
      // The put's words and then the mark, with no call in between (file comment, "Death").
      tail = at + s;
      if (tail === d.cap) tail = 0;
      h[FIFO.TAIL] = tail;
      h[FIFO.PUT_BYTES] = (putBytes + need) | 0;
      // (the caches' clock: every 2^20 puts and every 2^28 bytes)
      if ((((heldP & COUNT) + ONE) & EPOCH_ITEMS) === 0 || (putBytes ^ (putBytes + need)) >>> 28 !== 0)
        h[FIFO.P_EPOCH] = ((h[FIFO.P_EPOCH] as number) + 1) | 0;
    } catch (e) {
      // (a growth refused past the largest size changed nothing; anything else — a stack
      // overflow — may have stopped anywhere: the caller gives the locks up, "Exceptions")
      if (e instanceof StorageFull) unlockP(h);
      throw e;
    }
    if (hook !== undefined) {
      h[FIFO.P_OWNER] = lockOwner.ident | MARK;
      hook("P");
    }
    // One compare-exchange publishes the record (the count) and frees P_LOCK, in the straight run
    // of the put's words: freeLock() written out, as a call there would be a point where a thread
    // can stop with its words written and its owner word not marked (file comment, "Death").
    const g = G;
    const rec = lockOwner.rel;
    const lo = h[76] as number;
    const hi = ((h[77] as number) << 1) | 0;
    if (g[rec] !== lo || g[rec + 1] !== hi) {
      g[rec] = lo;
      g[rec + 1] = hi;
    }
    g[rec + 2] = lockOwner.ident | MARK;
    h[FIFO.P_OWNER] = 0;
    let e: number;
    try {
      if (hook !== undefined) hook("P:release");
      e = Atomics.compareExchange(h, FIFO.P_LOCK, heldP, ((heldP & ~3) + ONE) | 0);
    } catch (x) {
      h[FIFO.P_OWNER] = lockOwner.ident | MARK | GAVE_UP;
      g[rec + 2] = 0;
      throw x;
    }
    g[rec + 2] = 0;
    if (e !== heldP) {
      h[FIFO.P_OWNER] = lockOwner.ident | MARK;
      e = release(h, FIFO.P_LOCK, e, ONE);
    } else if ((e & S) !== 0) Atomics.notify(h, FIFO.P_LOCK, 1);
    if ((e & X) !== 0 && Atomics.load(h, FIFO.GET_WAITERS) > 0) {
      Atomics.add(h, FIFO.NE_SEQ, 1);
      wakeOne(h, FIFO.NE_SEQ, FIFO.GET_SLEEPERS, FIFO.GET_WAITERS);
    }
    this.ownPuts = (this.ownPuts + 1) | 0;
  }

  /**
   * Under P_LOCK, when the published GET_BYTES leaves no room for `need` bytes at TAIL: takes
   * C_LOCK, reads the exact OWN_GET_BYTES (and publishes it); returns -1 when there is room after
   * all, else grows the buffer (a wrapped ring's [0, TAIL) moves to just after the old end, where
   * a consumer arriving at the old end, through the SKIP or exactly, continues) and returns the
   * offset to write `s` bytes at. RangeError past the largest size, with nothing changed.
   */
  private roomOrGrow(s: number, need: number): number {
    const h = this.h;
    const d = this.data;
    lockC(h);
    try {
      const own = h[FIFO.OWN_GET_BYTES] as number;
      Atomics.store(h, FIFO.GET_BYTES, own);
      const putBytes = h[FIFO.PUT_BYTES] as number;
      this.cGetBytes = own;
      this.bAt = putBytes;
      this.bEpoch = h[FIFO.P_EPOCH] as number;
      if (d.cap - ((putBytes - own) | 0) >= need) {
        unlockC(h);
        return -1;
      }
      d.sync();
      const head = h[FIFO.HEAD] as number;
      const tail = h[FIFO.TAIL] as number;
      const used = (putBytes - own) | 0;
      const old = d.cap;
      // (the words change only once the buffer has grown: layOut(), which a recovery redoes)
      d.grow(used === 0 ? s : used > 0 && tail <= head ? old + tail + s : tail + s);
      fifoHooks.beforeRelease?.("grow");
      const grown = layOut(h, d, old);
      unlockC(h);
      return grown;
    } catch (e) {
      // (refused: nothing changed; else C_LOCK stays held for the caller to give up, "Exceptions")
      if (e instanceof StorageFull) unlockC(h);
      throw e;
    }
  }

  // ---- consumers ----

  /** Under C_LOCK: items available (reloads the cached puts before saying none). */
  private available(): number {
    const h = this.h;
    const gets = heldC & COUNT;
    const epoch = h[FIFO.C_EPOCH] as number;
    if (this.pLoaded && (epoch - this.pEpoch) >>> 0 <= 1 && (gets - this.pAt) >>> 3 < STALE_ITEMS) {
      const n = between(this.cPuts, gets);
      if (n > 0) return n;
    }
    const p = Atomics.load(h, FIFO.P_LOCK);
    // (X left by a getter that gave up outside the lock: cleared here, where none can register)
    if ((p & X) !== 0 && Atomics.load(h, FIFO.GET_WAITERS) === 0) Atomics.and(h, FIFO.P_LOCK, ~X);
    this.cPuts = p & COUNT;
    this.pAt = gets;
    this.pEpoch = epoch;
    this.pLoaded = true;
    return between(this.cPuts, gets);
  }

  /** Under C_LOCK: whether there is an item, or ShutDown (getters' admit). */
  private items(what: string): boolean | Error {
    if (this.available() > 0) return true;
    // Empty: a put that a dead thread completed under P_LOCK is published first (P_LOCK before
    // C_LOCK: this lock is given back for the recovery, then taken again).
    const h = this.h;
    const own = deadMarked(h, FIFO.P_LOCK);
    if (own !== 0) {
      unlockC(h);
      takeOver(h, FIFO.P_LOCK, own);
      lockC(h);
      if (this.available() > 0) return true;
    }
    return Atomics.load(this.h, FIFO.SHUTDOWN) !== 0
      ? new ShutDown(`${what}: the queue is shut down and empty`)
      : false;
  }

  /**
   * The slow path of get and getAsync, from under C_LOCK; `resumed`: after a blocking get's first
   * sleep, run inline in get() (engine.ts TurnState).
   */
  private getSteps(block: boolean, ms: number, what: string, isAsync = false, resumed?: TurnState): Steps<unknown> {
    return waitTurn(
      this.h,
      GETTERS,
      () => this.items(what),
      () => this.take(),
      block,
      ms,
      what,
      isAsync,
      resumed,
    );
  }

  get(block: boolean, ms: number, what: string): unknown {
    const h = this.h;
    // Streaming fast path: an empty queue is usually refilled within a microsecond; watching
    // P_LOCK (read-only, no registration) is cheaper than registering as a waiter and being woken.
    // Only when this thread's cached view says empty does it watch P_LOCK (the producers' line):
    // first after GATHER_FIRST gather() pauses, then a look every pause, so that a streaming
    // producer puts several items between looks.
    // (C_LOCK read plainly: it only decides whether to spin; available() decides under C_LOCK.)
    const gets = (h[FIFO.C_LOCK] as number) & COUNT;
    if (block && between(this.cPuts, gets) <= 0) {
      // (no pause when this thread put since: its own item, put then got, is there now)
      if (this.ownPuts === this.ownSeen) for (let i = 0; i < GATHER_FIRST; i++) gather();
      else this.ownSeen = this.ownPuts;
      // (one look a turn, at the producers' word: C_LOCK is this side's)
      for (let i = 0; i < GATHER_SPIN && (Atomics.load(h, FIFO.P_LOCK) & COUNT) === gets; i++) gather();
    }
    try {
      lockC(h);
      if (this.available() > 0) return this.take();
      if (!block || !takesTurns() || this.items(what) !== false) return driveBlocking(this.getSteps(block, ms, what));
      // The first sleep of a blocking get, straight-line: waitTurn()'s first turn (engine.ts), the
      // same steps in the same order, here so that the hand-off to a sleeping getter runs no
      // generator, driver or closure between the wake and the item: a thread just woken runs cold,
      // and each of them cost µs there (docs/benchmarks.md, the hand-off to a blocked get()). Any
      // other outcome of the sleep goes on in waitTurn(), from where this leaves off (TurnState).
      const deadline = deadlineOf(ms);
      if (expired(deadline)) return driveBlocking(this.getSteps(block, ms, what));
      Atomics.add(h, FIFO.GET_WAITERS, 1);
      const seq = Atomics.load(h, FIFO.NE_SEQ);
      Atomics.or(h, FIFO.P_LOCK, X); // (GETTERS.registered)
      if (this.items(what) === true) {
        if (Atomics.sub(h, FIFO.GET_WAITERS, 1) === 1) Atomics.and(h, FIFO.P_LOCK, ~X); // (GETTERS.unregistered)
        return this.take();
      }
      unlockC(h);
      const until = Math.min(deadline, deadlineOf(turnHooks.idleMs ?? IDLE_CHECK_MS), deadlineOf(sliceMs()));
      let r: WaitResult;
      let ticket = 0;
      let ticketed = false;
      let wakes = 0;
      let idle = false;
      try {
        const left = remaining(until);
        if (left === 0) r = "timed-out";
        else if (spinWhile(h, FIFO.NE_SEQ, seq, left, SPIN)) r = "not-equal";
        else {
          ticket = takeTicket(h, GETTERS);
          ticketed = true;
          wakes = Atomics.load(h, FIFO.GET_WAKES);
          // (the driver's sleep, its spin done: shared/wait.ts sleepBlockingOn)
          const rest = remaining(until);
          r = rest === 0 ? "timed-out" : waitBlocking(h, FIFO.NE_SEQ, seq, rest, FIFO.GET_SLEEPERS);
        }
        idle = r === "timed-out" && until !== deadline;
        if (idle) {
          recoverDead(h);
          turnHooks.idle?.();
        }
      } catch (e) {
        // (as waitTurn's: unregistered, its turn ended, a younger waiter that gave way looks again)
        Atomics.sub(h, FIFO.GET_WAITERS, 1);
        if (ticketed) {
          endTurn(h, GETTERS, false, ticket);
          if (Atomics.load(h, FIFO.GET_DISORDER) > 0) {
            Atomics.add(h, FIFO.NE_SEQ, 1);
            wakeAll(h, FIFO.NE_SEQ, FIFO.GET_SLEEPERS, FIFO.GET_WAITERS);
          }
        }
        throw e;
      }
      const allWoken = ticketed && Atomics.load(h, FIFO.GET_WAKES) !== wakes;
      lockC(h);
      // (a sleeper woken by a notify was unregistered by its waker: GETTERS.wakerUnregisters)
      const left = r === "ok" ? Atomics.load(h, FIFO.GET_WAITERS) : Atomics.sub(h, FIFO.GET_WAITERS, 1) - 1;
      if (left === 0) Atomics.and(h, FIFO.P_LOCK, ~X); // (GETTERS.unregistered)
      // The common end, as at the top of waitTurn()'s loop: more items than older waiters there
      // can be (FIRST at its own ticket: none), so no older waiter to look for.
      if (this.available() > (ticketed ? (ticket - Atomics.load(h, FIFO.GET_FIRST)) | 0 : 0)) {
        if (ticketed) endTurn(h, GETTERS, false, ticket);
        return this.take();
      }
      return driveBlocking(
        this.getSteps(block, ms, what, false, { deadline, ticket, ticketed, wakes, idle, allWoken }),
      );
    } catch (e) {
      // (inline, no call: file comment, "Exceptions")
      const me = lockOwner.ident;
      if (me !== 0) {
        const p = h[FIFO.P_OWNER] as number;
        if ((p & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.P_LOCK) & L) !== 0) h[FIFO.P_OWNER] = p | GAVE_UP;
        const c = h[FIFO.C_OWNER] as number;
        if ((c & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.C_LOCK) & L) !== 0) h[FIFO.C_OWNER] = c | GAVE_UP;
      }
      throw e;
    }
  }

  async getAsync(ms: number, what: string): Promise<unknown> {
    const h = this.h;
    try {
      lockC(h);
      if (this.available() > 0) return this.take();
      return await driveAsync(this.getSteps(true, ms, what, true));
    } catch (e) {
      // (inline, no call: file comment, "Exceptions")
      const me = lockOwner.ident;
      if (me !== 0) {
        const p = h[FIFO.P_OWNER] as number;
        if ((p & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.P_LOCK) & L) !== 0) h[FIFO.P_OWNER] = p | GAVE_UP;
        const c = h[FIFO.C_OWNER] as number;
        if ((c & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.C_LOCK) & L) !== 0) h[FIFO.C_OWNER] = c | GAVE_UP;
      }
      throw e;
    }
  }

  /**
   * Under C_LOCK, with an item available: copies it out, frees its bytes, publishes the get and
   * unlocks in one step, wakes a putter, decodes.
   */
  private take(): unknown {
    const h = this.h;
    const d = this.data;
    const hook = fifoHooks.beforeRelease; // (tests only: one load a call)
    // (a number or a short string, the commonest items: read into locals and returned from here,
    // without `taken` and decodeTaken()'s dispatch)
    let tag = 0;
    let num = 0;
    let n = 0;
    let a = 0;
    let b = 0;
    let c = 0;
    let dd = 0; // (MSTR: the packed words c and d; `d` is the data)
    let publish = false; // (this get publishes GET_BYTES)
    try {
      if ((h[FIFO.CAP_C] as number) !== d.cap) d.sync();
      const cap = d.cap;
      let head = h[FIFO.HEAD] as number;
      let getBytes = h[FIFO.OWN_GET_BYTES] as number;
      const i32 = d.i32;
      tag = (i32[head >> 2] as number) & 255;
      if (tag === T_SKIP) {
        const skip = i32[(head >> 2) + 1] as number;
        getBytes = (getBytes + skip) | 0;
        head += skip;
        if (head === cap) head = 0;
        tag = (i32[head >> 2] as number) & 255;
      }
      const at = head;
      // (a number or a short string, the commonest items, read here: readRecord() is not inlined)
      let size = 16;
      if (tag === T_SSTR) {
        n = i32[(at >> 2) + 1] as number;
        a = i32[(at >> 2) + 2] as number;
        b = i32[(at >> 2) + 3] as number;
      } else if (tag === T_NUM) num = d.f64[(at + 8) >> 3] as number;
      else if (tag === T_MSTR) {
        n = i32[(at >> 2) + 1] as number;
        a = i32[(at >> 2) + 2] as number;
        b = i32[(at >> 2) + 3] as number;
        c = i32[(at >> 2) + 4] as number;
        dd = i32[(at >> 2) + 5] as number;
        size = 24;
      } else size = readRecord(d, at, taken);
      if (hook !== undefined) hook("C:record");
      // The get's words and then the mark, with no call in between (file comment, "Death").
      head += size;
      if (head === cap) head = 0;
      h[FIFO.HEAD] = head;
      getBytes = (getBytes + size) | 0;
      h[FIFO.OWN_GET_BYTES] = getBytes;
      if ((((heldC & COUNT) + ONE) & EPOCH_ITEMS) === 0) h[FIFO.C_EPOCH] = ((h[FIFO.C_EPOCH] as number) + 1) | 0;
      if ((tag === T_V8 || tag === T_LARGE) && taken.nrefs > 0) {
        // A record with directory refs: where it is, for a recovery of this get should it die
        // before its release (its refs reclaimed then); its bytes are not freed in GET_BYTES here,
        // so no producer writes over them until the next get or a recovery publishes them.
        h[FIFO.TAKEN_AT] = at;
        h[FIFO.TAKEN_N] = heldC & COUNT;
        h[FIFO.TAKEN_E] = h[FIFO.C_EPOCH] as number;
      } else if (((getBytes - (h[FIFO.GET_BYTES] as number)) | 0) >= cap >> PUBLISH_SHIFT) {
        // (published below, marked first)
        publish = true;
      }
    } catch (e) {
      unlockC(h);
      throw e;
    }
    if (publish) {
      // Producers see freed bytes in GET_BYTES, published every PUBLISH_SHIFT-th of the ring (a
      // producer that finds no room by it reads OWN_GET_BYTES under C_LOCK). A thread can stop at
      // this Atomics call, its words written: marked first, as in a release's retry (file comment,
      // "Death"), and outside the catch above (which would release the half-published get).
      h[FIFO.C_OWNER] = lockOwner.ident | MARK;
      if (hook !== undefined) hook("C:publish");
      Atomics.store(h, FIFO.GET_BYTES, h[FIFO.OWN_GET_BYTES] as number);
    }
    if (hook !== undefined) {
      h[FIFO.C_OWNER] = lockOwner.ident | MARK;
      hook("C");
    }
    // One compare-exchange publishes the get (the count) and frees C_LOCK, in the straight run of
    // the get's words (as for a put).
    const g = G;
    const rec = lockOwner.rel;
    const lo = h[76] as number;
    const hi = ((h[77] as number) << 1) | 1;
    if (g[rec] !== lo || g[rec + 1] !== hi) {
      g[rec] = lo;
      g[rec + 1] = hi;
    }
    g[rec + 2] = lockOwner.ident | MARK;
    h[FIFO.C_OWNER] = 0;
    let e: number;
    try {
      if (hook !== undefined) hook("C:release");
      e = Atomics.compareExchange(h, FIFO.C_LOCK, heldC, ((heldC & ~3) + ONE) | 0);
    } catch (x) {
      h[FIFO.C_OWNER] = lockOwner.ident | MARK | GAVE_UP;
      g[rec + 2] = 0;
      throw x;
    }
    g[rec + 2] = 0;
    if (e !== heldC) {
      h[FIFO.C_OWNER] = lockOwner.ident | MARK;
      e = release(h, FIFO.C_LOCK, e, ONE);
    } else if ((e & S) !== 0) Atomics.notify(h, FIFO.C_LOCK, 1);
    if ((e & X) !== 0 && Atomics.load(h, FIFO.PUT_WAITERS) > 0) {
      Atomics.add(h, FIFO.NF_SEQ, 1);
      wakeOne(h, FIFO.NF_SEQ, FIFO.PUT_SLEEPERS, FIFO.PUT_WAITERS);
    }
    if (tag === T_SSTR) return recentString(n, a, b);
    if (tag === T_NUM) return num;
    if (tag === T_MSTR) return recentMid(n, a, b, c, dd);
    return decodeTaken(taken);
  }

  // ---- both ----

  shutdown(immediate: boolean): void {
    const h = this.h;
    const d = this.data;
    const refs: number[] = [];
    try {
      lockP(h);
      lockC(h);
      let drop = 0;
      let discarding = false;
      if (immediate) {
        // SHUTDOWN = DISCARDING until the discarded tasks are counted done: a recovery finishes
        // a discard that stopped in between (file comment, "Death").
        const discarded = between(heldP & COUNT, heldC & COUNT);
        h[FIFO.DISCARD_N] = discarded;
        h[FIFO.DISCARD_HEAD] = h[FIFO.HEAD] as number;
        Atomics.store(h, FIFO.SHUTDOWN, DISCARDING);
        d.sync();
        discardedRefs(d, h[FIFO.HEAD] as number, discarded, refs);
        fifoHooks.beforeRelease?.("discard");
        discardWords(h);
        drop = discarded * ONE;
        discarding = true;
      } else Atomics.store(h, FIFO.SHUTDOWN, 1);
      Atomics.add(h, FIFO.NE_SEQ, 1);
      Atomics.add(h, FIFO.NF_SEQ, 1);
      // (the discard moves the gets up to the puts as C_LOCK is freed; then, under P_LOCK, its
      // tasks are counted done and SHUTDOWN = 1)
      release(h, FIFO.C_LOCK, heldC, drop);
      if (discarding) {
        fifoHooks.beforeRelease?.("discarded");
        countDiscarded(h, h[FIFO.DISCARD_N] as number);
      }
      // (the wakes before P_LOCK is freed: a thread that dies after that has nothing left to do)
      if (immediate) Atomics.notify(h, FIFO.DONE);
      wakeAll(h, FIFO.NE_SEQ, FIFO.GET_SLEEPERS, FIFO.GET_WAITERS);
      wakeAll(h, FIFO.NF_SEQ, FIFO.PUT_SLEEPERS, FIFO.PUT_WAITERS);
      unlockP(h);
    } catch (e) {
      // (inline, no call: file comment, "Exceptions")
      const me = lockOwner.ident;
      if (me !== 0) {
        const p = h[FIFO.P_OWNER] as number;
        if ((p & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.P_LOCK) & L) !== 0) h[FIFO.P_OWNER] = p | GAVE_UP;
        const c = h[FIFO.C_OWNER] as number;
        if ((c & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.C_LOCK) & L) !== 0) h[FIFO.C_OWNER] = c | GAVE_UP;
      }
      throw e;
    }
    reclaim(refs);
  }

  taskDone(): void {
    const h = this.h;
    for (;;) {
      const e = Atomics.load(h, FIFO.DONE_EPOCH);
      const done = Atomics.load(h, FIFO.DONE);
      let u = ((this.dPuts - done) & TASKS) >>> 0;
      // (the cached puts, while they say 2 or more unfinished and DONE moved little since: file
      // comment; else P_LOCK, on the producers' line, with the cache reloaded)
      if (u < 2 || u >= 1 << 28 || ((e - this.dEpoch) | 0) >>> 0 > 1) {
        const p = Atomics.load(h, FIFO.P_LOCK);
        this.dPuts = p >>> 3;
        this.dEpoch = e;
        u = unfinished(p, done);
        if (u === 0) throw new RangeError("task_done() called too many times");
      }
      if (Atomics.compareExchange(h, FIFO.DONE, done, (done + 1) | 0) === done) {
        if (((done + 1) & 0xfffff) === 0) Atomics.add(h, FIFO.DONE_EPOCH, 1);
        if (u === 1) Atomics.notify(h, FIFO.DONE);
        return;
      }
    }
  }

  unfinishedTasks(): number {
    const h = this.h;
    // (DONE, then the puts, as joined() reads them)
    const done = Atomics.load(h, FIFO.DONE);
    return unfinished(Atomics.load(h, FIFO.P_LOCK), done);
  }

  join(): void {
    const h = this.h;
    try {
      driveBlocking(this.joined());
    } catch (e) {
      // (inline, no call: file comment, "Exceptions")
      const me = lockOwner.ident;
      if (me !== 0) {
        const p = h[FIFO.P_OWNER] as number;
        if ((p & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.P_LOCK) & L) !== 0) h[FIFO.P_OWNER] = p | GAVE_UP;
        const c = h[FIFO.C_OWNER] as number;
        if ((c & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.C_LOCK) & L) !== 0) h[FIFO.C_OWNER] = c | GAVE_UP;
      }
      throw e;
    }
  }

  joinAsync(): Promise<void> {
    return driveAsync(this.joined());
  }

  /** Sleeps on DONE until no task is unfinished (a task_done() that leaves none notifies DONE). */
  private *joined(): Steps<void> {
    const h = this.h;
    for (;;) {
      const done = Atomics.load(h, FIFO.DONE);
      if (unfinished(Atomics.load(h, FIFO.P_LOCK), done) === 0) return;
      // (a shutdown(true) whose thread died under the locks counts its discarded tasks only once
      // recovered: a joiner looks for a dead holder after each IDLE_CHECK_MS asleep)
      if ((yield* park(h, FIFO.DONE, done, deadlineOf(IDLE_CHECK_MS))) === "timed-out") recoverDead(h);
    }
  }

  setMaxsize(maxsize: number, given: Float64Array, value: number): void {
    const h = this.h;
    try {
      lockP(h);
      // (two stores with no call between them: a thread killed here leaves both or neither)
      given[0] = value;
      h[FIFO.MAXSIZE] = maxsize;
      fifoHooks.beforeRelease?.("maxsize");
      Atomics.add(h, FIFO.NF_SEQ, 1);
      // (the wake before the release: a thread that dies after it has nothing left to do)
      wakeAll(h, FIFO.NF_SEQ, FIFO.PUT_SLEEPERS, FIFO.PUT_WAITERS);
      unlockP(h);
    } catch (e) {
      // (inline, no call: file comment, "Exceptions")
      const me = lockOwner.ident;
      if (me !== 0) {
        const p = h[FIFO.P_OWNER] as number;
        if ((p & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.P_LOCK) & L) !== 0) h[FIFO.P_OWNER] = p | GAVE_UP;
        const c = h[FIFO.C_OWNER] as number;
        if ((c & (IDENT | GAVE_UP)) === me && (Atomics.load(h, FIFO.C_LOCK) & L) !== 0) h[FIFO.C_OWNER] = c | GAVE_UP;
      }
      throw e;
    }
  }
}

let engineWarmed = false;

/**
 * Once per thread, at its first Queue or SimpleQueue (after warmCodec): a few items of each common
 * kind (a number, a string of up to 8 and one of 9..16 units, a plain object) put and got through a
 * scratch ring of its own (a control block and a small buffer no other thread has), so that V8's
 * type feedback of store() and take() (which write and read numbers and short strings inline, the
 * other records through writeRecord/readRecord) covers every kind before they are optimized.
 * Without it, a worker that ran a stream of one kind deoptimized store and take at the first item
 * of another kind (V8: "Insufficient type feedback") and ran them unoptimized until compiled again:
 * over 18 runs of Queue() 2 -> 2, 1 -> 1 and postMessage alternating numbers, strings and objects
 * on the same reused workers (the bench's rounds), store, take, get, put and available deoptimized
 * 55 times and TurboFan compiled store and take 31 times; 25 and 21 with this (docs/benchmarks.md).
 * About 1 ms at a worker's first queue, most of it the first compilation of the paths its first
 * items take anyway. A few rounds of each kind, as V8 allocates a function's feedback only after it
 * has run a little. THREADING_QUEUE_WARM=0 leaves it out (as it does warmCodec).
 */
function warmEngine(): void {
  if (engineWarmed || process.env.THREADING_QUEUE_WARM === "0") return;
  engineWarmed = true;
  const h = new Int32Array(new SharedArrayBuffer(HEADER_WORDS * 4));
  const e = new RingEngine(h, [new SharedArrayBuffer(4096, { maxByteLength: 4096 })]);
  h[FIFO.CAP_P] = h[FIFO.CAP_C] = e.data.cap;
  const st = new StagedRecord();
  const items: unknown[] = [1, 0.5, "item 123", "item 1000000", { k: 1, s: "a", b: true }];
  // (the test hook, if a test set one, is not run for the scratch ring)
  const hook = fifoHooks.beforeRelease;
  fifoHooks.beforeRelease = undefined;
  try {
    for (let round = 0; round < 10; round++) {
      for (const item of items) {
        stageItem(item, st);
        e.put(st, true, Number.POSITIVE_INFINITY, "warm");
        st.reset();
        e.get(true, Number.POSITIVE_INFINITY, "warm");
      }
    }
  } catch {
    // (a stack overflow at a deep first use: the scratch ring is dropped, the queue made as usual)
  } finally {
    fifoHooks.beforeRelease = hook;
  }
}
