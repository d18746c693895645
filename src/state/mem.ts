/**
 * Loads and stores of shared-state memory (dict.ts, list.ts, heap.ts, record.ts).
 *
 * An Atomics.load or Atomics.store is a call into the engine (about 8 ns on V8, where a typed-array
 * element access is under 1 ns), and a SharedDict.get makes some twenty of them. The seqlock readers
 * of guard.ts need, for correctness, only this: a data read that sees a write made after the
 * sequence word changed must be followed by a sequence re-read that sees the change. Where the
 * hardware keeps loads in order and stores in order (x86's total store order: `TSO`), plain typed-array
 * accesses give exactly that, provided the compiler keeps them in program order relative to the
 * Atomics operations on the sequence and lock words, which V8 and JavaScriptCore do (an element access
 * is an effect, and an Atomics operation is a barrier to their load elimination and scheduling). So on
 * x86-64 and ia32 `ld`/`st` are plain accesses; everywhere else (ARM, where a plain load may pass a
 * later load-acquire) they are Atomics.load/Atomics.store, which makes the argument hold in
 * JavaScript's own memory model: every racing access is then sequentially consistent.
 *
 * The sequence words themselves and the lock words are always read and written with Atomics (a plain
 * re-read of the sequence word could be folded into the first one by the compiler).
 */

/**
 * True on hardware with total store order (x86): plain accesses of shared memory stay in program
 * order. THREADING_SHARED_ATOMICS=1 takes the Atomics path everywhere (to test it on x86).
 */
export const TSO = (process.arch === "x64" || process.arch === "ia32") && process.env.THREADING_SHARED_ATOMICS !== "1";

/** Loads word `i` of shared memory (plain on TSO hardware, Atomics.load elsewhere). */
export const ld: (a: Int32Array, i: number) => number = TSO ? (a, i) => a[i] as number : (a, i) => Atomics.load(a, i);

/** Stores `v` at word `i` of shared memory (plain on TSO hardware, Atomics.store elsewhere). */
export const st: (a: Int32Array, i: number, v: number) => void = TSO
  ? (a, i, v) => {
      a[i] = v;
    }
  : (a, i, v) => {
      Atomics.store(a, i, v);
    };
