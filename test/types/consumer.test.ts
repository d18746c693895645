// The package as a user installs it: `npm pack` of the built package (its "files", "exports",
// "typesVersions" and dist/*.d.ts), unpacked into scratch projects under the temp directory, each
// compiled with skipLibCheck false and every strict flag users turn on, for each module setup README
// "TypeScript" names. The user code is test/types/exports.ts, api-md.ts, api.ts and user-code.ts,
// tutorials.ts (the tutorials' Python and docs/from-python.md's table, translated), every ```ts block
// of README.md and docs/*.md (see docBlocks()), and examples/*.ts (ES modules); cjs.cts is a
// CommonJS file that require()s the package. A line under ts-expect-error must fail to compile.
//
// The compiler is the repository's TypeScript (offline: nothing is installed from a registry), or
// the one whose package directory THREADING_TYPESCRIPT names (.ci/run's "typescript" step runs this
// file again with the newest TypeScript 6 and 7 from the npm registry).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const require = createRequire(import.meta.url);
const typescriptDir = process.env.THREADING_TYPESCRIPT || dirname(require.resolve("typescript/package.json"));
const tsVersion: string = JSON.parse(readFileSync(join(typescriptDir, "package.json"), "utf8")).version;
const tsMajor = Number(tsVersion.split(".")[0]);
const typesNodeDir = join(root, "node_modules", "@types", "node");
const ESM = ["exports.ts", "api-md.ts", "api.ts", "user-code.ts", "tutorials.ts"];
const CJS = ["cjs.cts"];

/** What users turn on beyond `strict`; none may break the published types. */
const STRICT = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noPropertyAccessFromIndexSignature: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  skipLibCheck: false,
  noEmit: true,
  target: "ES2022",
  // No DOM: Node's globals come from @types/node alone.
  lib: ["ES2023", "ESNext.Disposable"],
  // examples/module-targets.ts imports ./modules/crunch.ts, as Node's type stripping, tsx, Bun and Deno run it.
  allowImportingTsExtensions: true,
};

/**
 * Names the fragments of the docs use without declaring them (`q.get({ timeout: 0.5 })`): a block
 * with no import and no declaration is compiled after these lines.
 */
const FRAGMENT_CONTEXT = `import { Barrier, type Event, type Future, type Lock, logging, type Queue, type Semaphore, type ThreadPoolExecutor, wait } from "threading";
declare const q: Queue<string>;
declare const item: string;
declare const lock: Lock;
declare const sem: Semaphore;
declare const event: Event;
declare const futures: Future<number>[];
declare const pool: ThreadPoolExecutor;
declare const args: unknown[];
declare const kwargs: Record<string, unknown>;
void [Barrier, logging, wait];
`;

/**
 * The \`\`\`ts blocks of README.md and docs/*.md as files of user code: a block that imports from
 * "threading" is a module as written; a block of signatures (`class`, `type`, `function`,
 * `interface` declarations: API.md's, checked by api-md.ts) is left out; any other block is a
 * fragment, compiled after FRAGMENT_CONTEXT. Each file starts with where its block is.
 */
function docBlocks(): { name: string; text: string }[] {
  const docs = ["README.md", ...readdirSync(join(root, "docs")).map((f) => join("docs", f))].filter((f) =>
    f.endsWith(".md"),
  );
  const blocks: { name: string; text: string }[] = [];
  for (const doc of docs) {
    const lines = readFileSync(join(root, doc), "utf8").split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(ts|typescript)\s*$/.test(lines[i] ?? "")) continue;
      const start = i + 1;
      while (i + 1 < lines.length && !/^```\s*$/.test(lines[i + 1] ?? "")) i++;
      const code = lines.slice(start, i + 1).join("\n");
      i++;
      if (code.trim() === "") continue;
      const where = `// ${doc} line ${start}\n`;
      const name = `doc-${doc.replace(/\W+/g, "-")}-${start}.ts`;
      if (/^import .* from "threading(\/\w+)?";/m.test(code)) blocks.push({ name, text: `${where}${code}\n` });
      else if (/^(class|type|function|interface|const \w+: )/m.test(code)) continue;
      else blocks.push({ name, text: `${where}${FRAGMENT_CONTEXT}${code}\nexport {};\n` });
    }
  }
  return blocks;
}

let scratch = "";
let packed = "";
const blocks = docBlocks();
const examples = readdirSync(join(root, "examples"))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => `examples/${f}`);
const DOCS = [...blocks.map((b) => b.name), ...examples];

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "threading-consumer-"));
  // npm pack runs no script here (package.json has no prepack/prepare) and needs no network.
  const r = spawnSync("npm", ["pack", "--silent", "--pack-destination", scratch], {
    cwd: root,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `npm pack failed: ${r.stdout}${r.stderr}`);
  const tarball = readdirSync(scratch).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, `npm pack left no tarball in ${scratch}`);
  packed = join(scratch, "package");
  const x = spawnSync("tar", ["xzf", join(scratch, tarball), "-C", scratch], { encoding: "utf8" });
  assert.equal(x.status, 0, x.stderr);
});

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface Setup {
  /** The consumer's package.json "type". */
  type: "module" | "commonjs";
  compilerOptions: Record<string, unknown>;
  files: string[];
  /** Whether @types/node is installed in the consumer's node_modules. */
  typesNode: boolean;
}

/** Makes a consumer project with the packed package installed; returns tsc's status and output. */
function compile(name: string, setup: Setup): Promise<{ status: number | null; output: string }> {
  const dir = join(scratch, name);
  mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: `consumer-${name}`, private: true, type: setup.type }),
  );
  cpSync(packed, join(dir, "node_modules", "threading"), { recursive: true });
  symlinkSync(typescriptDir, join(dir, "node_modules", "typescript"), "dir");
  if (setup.typesNode) symlinkSync(typesNodeDir, join(dir, "node_modules", "@types", "node"), "dir");
  for (const f of setup.files) {
    const block = blocks.find((b) => b.name === f);
    if (block) writeFileSync(join(dir, f), block.text);
    else if (f.startsWith("examples/")) cpSync(join(root, "examples"), join(dir, "examples"), { recursive: true });
    else cpSync(join(here, f), join(dir, f));
  }
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { ...STRICT, ...setup.compilerOptions }, files: setup.files }, null, 2),
  );
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", dir], {
      cwd: dir,
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (status) => resolve({ status, output }));
  });
}

const setups: Record<string, Setup> = {
  // "types" left out: TypeScript 5.x includes every @types package, TypeScript 6 none.
  "ESM, module nodenext, plus a CommonJS file": {
    type: "module",
    compilerOptions: { module: "nodenext", moduleResolution: "nodenext" },
    files: [...ESM, ...DOCS, ...CJS],
    typesNode: true,
  },
  // "types": [] (TypeScript 6's default): the package's own reference brings in @types/node.
  'ESM, module node16, "types": []': {
    type: "module",
    compilerOptions: { module: "node16", moduleResolution: "node16", types: [] },
    files: [...ESM, ...DOCS],
    typesNode: true,
  },
  'ESM, module esnext, moduleResolution bundler, "types": ["node"]': {
    type: "module",
    compilerOptions: { module: "esnext", moduleResolution: "bundler", types: ["node"] },
    files: [...ESM, ...DOCS],
    typesNode: true,
  },
  // A CommonJS package: its .ts files are CommonJS, and require() the package (TypeScript 5.8+).
  'CommonJS package ("type": "commonjs"), module nodenext': {
    type: "commonjs",
    compilerOptions: { module: "nodenext", moduleResolution: "nodenext" },
    files: CJS,
    typesNode: true,
  },
};
// Subpaths through "typesVersions": node10 resolution does not read "exports". TypeScript 6
// deprecates node10 resolution and 7 removed it.
if (tsMajor < 6) {
  setups["CommonJS, module commonjs, moduleResolution node10"] = {
    type: "commonjs",
    compilerOptions: { module: "commonjs", moduleResolution: "node10" },
    files: CJS,
    typesNode: true,
  };
}

const noTypesNode: Setup = {
  type: "module",
  compilerOptions: { module: "nodenext", moduleResolution: "nodenext" },
  files: ["exports.ts"],
  typesNode: false,
};

// The compilations run two at a time from the start (most of each is tsc reading @types/node);
// each test awaits its own.
const results = new Map<string, Promise<{ status: number | null; output: string }>>();
before(() => {
  const queue = [...Object.entries(setups), ["no-types-node", noTypesNode] as const];
  const gates: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
  queue.forEach(([name, setup], i) => {
    const r = gates[i % 2]!.then(() => compile(name.replace(/\W+/g, "-"), setup));
    gates[i % 2] = r;
    results.set(name, r);
  });
});

test("the docs' code blocks are found: README's programs and fragments, docs/API.md's fragments", () => {
  const names = blocks.map((b) => b.name);
  assert.ok(names.filter((n) => n.startsWith("doc-README")).length >= 3, names.join(", "));
  assert.ok(
    names.some((n) => n.startsWith("doc-docs-API-md")),
    names.join(", "),
  );
  assert.ok(examples.length >= 20, examples.join(", "));
});

for (const name of Object.keys(setups)) {
  test(`a user project compiles against the packed package with TypeScript ${tsVersion}: ${name}`, {
    timeout: 240_000,
  }, async () => {
    const r = await results.get(name);
    assert.equal(r?.status, 0, r?.output);
  });
}

test(`without @types/node installed, TypeScript ${tsVersion} says which type definitions are missing`, {
  timeout: 240_000,
}, async () => {
  const r = await results.get("no-types-node");
  assert.notEqual(r?.status, 0);
  assert.match(
    r?.output ?? "",
    /node_modules\/threading\/dist\/index\.d\.ts\(1,\d+\): error TS2688: Cannot find type definition file for 'node'/,
  );
});
