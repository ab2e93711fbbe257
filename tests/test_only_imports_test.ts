/**
 * Test-only code is named one way and stays out of the product.
 *
 * Convention (as deno std): a module only tests and benchmarks use (fakes of
 * the ports, builders, helpers, the test build's FFI hooks) is named
 * `*_test_utils.ts` and sits beside the code it serves; files tests read or
 * run (fixtures, child programs) live in a `testdata/` folder. Product code is
 * main.ts, src/ and ffi/ minus tests and those.
 *
 * Checked here over the real tree: no product module imports a test-only file
 * (or anything under tests/ or bench/), and every product module is reached
 * from main.ts (the graph `deno compile` embeds), so a helper that only tests
 * use cannot hide under a product name.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";

const repo = new URL("../", import.meta.url).pathname;

/** A test, a test utility or test data: not part of the product. */
export function isTestOnly(rel: string): boolean {
  return /(^|\/)[^/]*_test\.ts$/.test(rel) || /_test_utils\.ts$/.test(rel) ||
    /(^|\/)testdata\//.test(rel) || /^(tests|bench)\//.test(rel);
}

/** Relative specifiers of static imports, re-exports and dynamic import("..."). */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  const re =
    /(?:\bimport\s*(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s*)?|\bexport\s+(?:type\s+)?[\w*{}\s,$]+?\s+from\s*|\bimport\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of code.matchAll(re)) out.push(m[1]!);
  return out;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) walk(p, out);
    else if (e.isFile && p.endsWith(".ts")) out.push(p);
  }
  return out;
}

const productFiles = [join(repo, "main.ts"), ...walk(join(repo, "src")), ...walk(join(repo, "ffi"))]
  .filter((f) => !isTestOnly(relative(repo, f)));

function resolved(file: string): string[] {
  return importsOf(Deno.readTextFileSync(file)).map((s) => join(dirname(file), s));
}

Deno.test("test-only names: the import scanner sees static, type, re-export and dynamic imports", () => {
  const src = `import { a } from "./a.ts";
import type { B } from "../b_test_utils.ts";
import "./side.ts";
export { c } from "./c.ts";
export * from "./d.ts";
// import { x } from "./commented.ts";
/* import { y } from "./block.ts"; */
const m = await import("./testdata/child.ts");
import { z } from "node:fs";
import {
  e,
  f,
} from "./multi.ts";`;
  assert.deepEqual(importsOf(src), [
    "./a.ts",
    "../b_test_utils.ts",
    "./side.ts",
    "./c.ts",
    "./d.ts",
    "./testdata/child.ts",
    "./multi.ts",
  ]);
  assert.ok(isTestOnly("src/store/fake_threat_store_test_utils.ts"));
  assert.ok(isTestOnly("src/store/testdata/crash_child.ts"));
  assert.ok(isTestOnly("src/engine/engine_test.ts"));
  assert.ok(!isTestOnly("src/engine/engine.ts"));
  assert.ok(!isTestOnly("src/store/test_alert.ts"));
});

Deno.test("test-only names: no product module imports a test utility, test data, tests/ or bench/", () => {
  assert.ok(productFiles.length > 50, `only ${productFiles.length} product files found`);
  const bad: string[] = [];
  for (const f of productFiles) {
    for (const target of resolved(f)) {
      const rel = relative(repo, target);
      if (isTestOnly(rel) || rel.startsWith("..")) bad.push(`${relative(repo, f)} imports ${rel}`);
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("test-only names: every product module is reached from main.ts; test-only code is named so", () => {
  const reached = new Set<string>();
  const todo = [join(repo, "main.ts")];
  while (todo.length) {
    const f = todo.pop()!;
    if (reached.has(f)) continue;
    reached.add(f);
    for (const t of resolved(f)) {
      if (t.startsWith(repo) && !isTestOnly(relative(repo, t))) todo.push(t);
    }
  }
  const unreached = productFiles.filter((f) => !reached.has(f)).map((f) => relative(repo, f));
  assert.deepEqual(
    unreached,
    [],
    "modules no product code imports: name them *_test_utils.ts (or testdata/) if only tests use them, or remove them",
  );
});
