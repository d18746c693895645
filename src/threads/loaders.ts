/**
 * Loaders given on the command line (`node --import tsx app.ts`, the tsx CLI) must be active in every
 * thread, so that a thread can import `.ts` modules as the main thread does. Node 20 does not carry
 * `--import` hooks into workers, and tsx registers itself only on the main thread, so each thread
 * registers them again at boot: tsx through its own API, any other `--import` module by importing it.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

function importFlags(execArgv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i] as string;
    if ((a === "--import" || a === "--loader" || a === "--experimental-loader") && i + 1 < execArgv.length)
      out.push(execArgv[++i] as string);
    else if (/^--(import|loader|experimental-loader)=/.test(a)) out.push(a.slice(a.indexOf("=") + 1));
  }
  return out;
}

function tsxApi(spec: string): string {
  if (spec.startsWith("file:")) return new URL("./esm/api/index.mjs", spec).href;
  const require = createRequire(pathToFileURL(`${process.cwd()}/`));
  return pathToFileURL(require.resolve("tsx/esm/api")).href.replace(/index\.cjs$/, "index.mjs");
}

let pendingTsx: string | undefined;
let tsxDone: Promise<void> | undefined;

/**
 * Registers in this thread the loaders the process was started with. tsx is only noted here and
 * registered on the thread's first import of a user module (see beforeUserImport): it costs a
 * worker hundreds of milliseconds, and function targets (already compiled) never need it.
 */
export async function registerLoaders(execArgv: string[]): Promise<void> {
  for (const spec of importFlags(execArgv)) {
    if (/(^|[/\\])tsx([/\\]|$)/.test(spec) || spec === "tsx") {
      pendingTsx = spec;
    } else {
      await import(spec.startsWith(".") || spec.startsWith("/") ? pathToFileURL(spec).href : spec);
    }
  }
}

/** Call before importing a user module in this thread: makes sure tsx is registered if needed. */
export function beforeUserImport(): Promise<void> | undefined {
  if (pendingTsx === undefined) return undefined;
  const spec = pendingTsx;
  tsxDone ??= (async () => {
    const { register } = (await import(tsxApi(spec))) as { register: () => unknown };
    register();
  })();
  return tsxDone;
}
