/**
 * A worker's policy: which targets arriving over the network it runs. Anyone who can write to the
 * Redis queue can send any job, so the worker decides, from its own command line:
 *
 *  - a module target runs only if its module is a file under an `--allow`ed directory (after
 *    resolving `..` and symbolic links, so neither leads out of it), or is an `--allow`ed package
 *    (or a subpath of one). Relative module paths resolve against the worker's working directory.
 *    Every other specifier (`node:` built-ins, `data:`/`http:` URLs, other packages) is refused;
 *  - a function target (source text) runs only with `--allow-source`.
 *
 * `check()` returns the target in the form the pool thread runs, or a refusal's reason; a refused
 * job runs nothing. A module accepted once is remembered (its URL, by the specifier the job gave),
 * so later jobs of it skip the file system: what lies under an allowed directory is trusted anyway
 * (whoever can write there can run code), and the pool threads import a URL once. A refusal is
 * checked again each time (the file may appear).
 */
import { realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { RemoteTarget } from "./protocol.js";
import type { LocalTarget } from "./run-task.js";

const packageName = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;
const ACCEPTED_MAX = 1000;

/** What a worker allows. */
export class Policy {
  /** Real paths of the allowed directories. */
  readonly dirs: string[] = [];
  readonly packages: string[] = [];
  readonly allowSource: boolean;
  readonly cwd: string;
  /** The base URL of function sources (the working directory). */
  readonly #base: string;
  /** Accepted module specifiers and their URLs (at most ACCEPTED_MAX: forgotten all at once past that). */
  readonly #accepted = new Map<string, string>();

  /** `allow`: directories (a path, or anything that is an existing directory) and package names. */
  constructor(allow: string[], allowSource: boolean, cwd = process.cwd()) {
    this.cwd = cwd;
    this.#base = pathToFileURL(`${cwd}/`).href;
    this.allowSource = allowSource;
    for (const a of allow) {
      const path = resolve(cwd, a);
      const pathLike = a.startsWith(".") || isAbsolute(a) || a.includes(sep) || a.startsWith("file:");
      let isDir = false;
      try {
        isDir = statSync(a.startsWith("file:") ? fileURLToPath(a) : path).isDirectory();
      } catch {
        // not a directory here: a package name, or a path that does not exist
      }
      if (isDir) this.dirs.push(realpathSync(a.startsWith("file:") ? fileURLToPath(a) : path));
      else if (!pathLike && packageName.test(a)) this.packages.push(a);
      else throw new RangeError(`--allow ${a}: not an existing directory nor a package name`);
    }
  }

  /** The target to run, or why it is refused. */
  check(t: RemoteTarget): { ok: true; target: LocalTarget } | { ok: false; reason: string } {
    if (t === null || typeof t !== "object") return { ok: false, reason: "the job has no valid target" };
    if (t.kind === "source") {
      if (!this.allowSource) {
        return {
          ok: false,
          reason: `the job's target is a function sent as source (${t.name || "anonymous"}), and this worker runs source only with --allow-source`,
        };
      }
      if (typeof t.source !== "string") return { ok: false, reason: "the job's source is not text" };
      return { ok: true, target: { kind: "source", source: t.source, base: this.#base } };
    }
    if (t.kind !== "module" || typeof t.module !== "string" || typeof t.export !== "string") {
      return { ok: false, reason: "the job has no valid target" };
    }
    const spec = t.module;
    const known = this.#accepted.get(spec);
    if (known !== undefined) return { ok: true, target: { kind: "module", url: known, export: t.export } };
    const refuse = (why: string) => ({
      ok: false as const,
      reason: `module ${JSON.stringify(spec)} ${why} (allowed: ${this.describe()})`,
    });
    let path: string | undefined;
    if (spec.startsWith("file:")) {
      try {
        path = fileURLToPath(spec);
      } catch {
        return refuse("is not a valid file URL");
      }
    } else if (spec.startsWith("./") || spec.startsWith("../") || isAbsolute(spec)) {
      path = resolve(this.cwd, spec);
    }
    if (path !== undefined) {
      const lexical = this.#inside(path);
      let real: string;
      try {
        real = realpathSync(path);
      } catch {
        return lexical ? refuse("does not exist on this worker") : refuse("is not under an --allow'ed directory");
      }
      if (!lexical || !this.#inside(real)) return refuse("is not under an --allow'ed directory");
      return this.#accept(spec, pathToFileURL(real).href, t.export);
    }
    // A bare specifier: a package (or a subpath of one) that the worker allows by name.
    const parts = spec.split("/");
    const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
    if (!packageName.test(name) || !this.packages.includes(name)) return refuse("is not an --allow'ed package");
    let url: string = spec;
    try {
      url = pathToFileURL(createRequire(`${this.cwd}/`).resolve(spec)).href;
    } catch {
      // an ES-module-only package: imported by name (resolved from the library's location)
    }
    return this.#accept(spec, url, t.export);
  }

  #accept(spec: string, url: string, exp: string): { ok: true; target: LocalTarget } {
    if (this.#accepted.size >= ACCEPTED_MAX) this.#accepted.clear();
    this.#accepted.set(spec, url);
    return { ok: true, target: { kind: "module", url, export: exp } };
  }

  #inside(path: string): boolean {
    return this.dirs.some((dir) => {
      const rel = relative(dir, path);
      return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
    });
  }

  /** The policy in words (for start-up logs and refusals). */
  describe(): string {
    const parts = [...this.dirs.map((d) => `${d}${sep}`), ...this.packages];
    if (this.allowSource) parts.push("function source (--allow-source)");
    return parts.length === 0 ? "nothing" : parts.join(", ");
  }
}
