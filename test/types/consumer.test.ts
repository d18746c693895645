// The package as a user installs it: `npm pack` of the built package (its "files", "exports",
// "typesVersions" and dist/*.d.ts), unpacked into scratch projects under the temp directory, each
// compiled by the repository's own TypeScript (offline: nothing is installed from a registry) with
// skipLibCheck false and every strict flag users turn on, for each module setup README "TypeScript"
// names. The user code is test/types/exports.ts, api-md.ts, api.ts and user-code.ts (ES modules) and cjs.cts
// (a CommonJS file that require()s the package); a line under ts-expect-error must fail to compile.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const require = createRequire(import.meta.url);
const typescriptDir = dirname(require.resolve("typescript/package.json"));
const typesNodeDir = join(root, "node_modules", "@types", "node");
const ESM = ["exports.ts", "api-md.ts", "api.ts", "user-code.ts"];
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
};

let scratch = "";
let packed = "";

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
  for (const f of setup.files) cpSync(join(here, f), join(dir, f));
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
    files: [...ESM, ...CJS],
    typesNode: true,
  },
  // "types": [] (TypeScript 6's default): the package's own reference brings in @types/node.
  'ESM, module node16, "types": []': {
    type: "module",
    compilerOptions: { module: "node16", moduleResolution: "node16", types: [] },
    files: ESM,
    typesNode: true,
  },
  'ESM, module esnext, moduleResolution bundler, "types": ["node"]': {
    type: "module",
    compilerOptions: { module: "esnext", moduleResolution: "bundler", types: ["node"] },
    files: ESM,
    typesNode: true,
  },
  // Subpaths through "typesVersions": node10 resolution does not read "exports".
  "CommonJS, module commonjs, moduleResolution node10": {
    type: "commonjs",
    compilerOptions: { module: "commonjs", moduleResolution: "node10" },
    files: CJS,
    typesNode: true,
  },
};

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

for (const name of Object.keys(setups)) {
  test(`a user project compiles against the packed package: ${name}`, { timeout: 120_000 }, async () => {
    const r = await results.get(name);
    assert.equal(r?.status, 0, r?.output);
  });
}

test("without @types/node installed, tsc says which type definitions are missing", { timeout: 120_000 }, async () => {
  const r = await results.get("no-types-node");
  assert.notEqual(r?.status, 0);
  assert.match(
    r?.output ?? "",
    /node_modules\/threading\/dist\/index\.d\.ts\(1,\d+\): error TS2688: Cannot find type definition file for 'node'/,
  );
});
