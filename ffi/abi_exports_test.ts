/**
 * The shipped library exports its ABI and nothing else: every function
 * declared in dylib/include/bm_sensor.h, as `nm -D` lists the release build.
 * The test build exports bm_sensor_testing.h's hooks too. The FFI symbol
 * tables bind only what the library they are meant for exports.
 */
import assert from "node:assert/strict";
import { SYMBOLS } from "./symbols.ts";
import { TEST_SYMBOLS } from "./synthetic_test_utils.ts";

const dylib = new URL("../dylib/", import.meta.url).pathname;
const linux = Deno.build.os === "linux";

/** Function declarations of a C header: name and whether it carries `marker`. */
export function declaredFunctions(header: string): { name: string; marked: string | null }[] {
  const code = header
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/\/\/.*$/gm, "")
    .replace(/^\s*#.*$/gm, "");
  const out: { name: string; marked: string | null }[] = [];
  // a prototype: [MARKER] return type, name, parameter list, ';' (no body)
  const re = /(?<=^|[;{}])\s*(?:(BM_\w*API)\s+)?[A-Za-z_][\w\s*]*?\b(bm_\w+)\s*\([^;{}()]*\)\s*;/g;
  for (const m of code.matchAll(re)) out.push({ name: m[2]!, marked: m[1] ?? null });
  return out;
}

function headerNames(file: string, marker: string): string[] {
  const decls = declaredFunctions(Deno.readTextFileSync(`${dylib}include/${file}`));
  assert.ok(decls.length > 0, `no function declarations found in ${file}`);
  for (const d of decls) {
    assert.equal(d.marked, marker, `${file}: ${d.name} is declared without ${marker}`);
  }
  return decls.map((d) => d.name).sort();
}

function exported(lib: string): string[] {
  const r = new Deno.Command("nm", { args: ["-D", "--defined-only", lib] }).outputSync();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  return new TextDecoder().decode(r.stdout).split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3)
    .map((f) => f[2]!)
    .sort();
}

function make(...targets: string[]): void {
  const r = new Deno.Command("make", { args: ["-s", "-C", dylib, ...targets] }).outputSync();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
}

/** The C names a symbol table binds (an entry's `name` when it aliases one). */
function bound(symbols: Record<string, object>): string[] {
  const names = Object.entries(symbols).map(([k, v]) =>
    "name" in v && typeof v.name === "string" ? v.name : k
  );
  return [...new Set(names)].sort();
}

Deno.test("abi: the header parser finds prototypes and their export marker", () => {
  const h = `/* bm_fake(int) in a comment */
#define BM_API x
typedef struct bm_sensor bm_sensor; /* opaque */
BM_API uint32_t bm_sensor_abi_version(void);
BM_API bm_sensor *bm_sensor_open(const char *config,
                                 char *err, uint32_t err_len);
int32_t bm_hidden(bm_sensor *s);
typedef struct x { uint64_t events; } x;`;
  assert.deepEqual(declaredFunctions(h), [
    { name: "bm_sensor_abi_version", marked: "BM_API" },
    { name: "bm_sensor_open", marked: "BM_API" },
    { name: "bm_hidden", marked: null },
  ]);
});

Deno.test({
  name: "abi: the release library exports exactly the functions of bm_sensor.h",
  ignore: !linux,
  fn: () => {
    // all: the library, the guardian and the mock ES library build
    make("all");
    const abi = headerNames("bm_sensor.h", "BM_API");
    assert.deepEqual(exported(`${dylib}build/libbm_sensor.so`), abi);
  },
});

Deno.test({
  name: "abi: the test build exports bm_sensor.h and bm_sensor_testing.h, nothing else",
  ignore: !linux,
  fn: () => {
    make("test-lib");
    const abi = headerNames("bm_sensor.h", "BM_API");
    const hooks = headerNames("bm_sensor_testing.h", "BM_TEST_API");
    assert.deepEqual(exported(`${dylib}build/test/libbm_sensor.so`), [...abi, ...hooks].sort());
  },
});

Deno.test("abi: ffi/symbols.ts binds only bm_sensor.h; the test symbols only the test build's", () => {
  const abi = headerNames("bm_sensor.h", "BM_API");
  const hooks = headerNames("bm_sensor_testing.h", "BM_TEST_API");
  assert.deepEqual(bound(SYMBOLS).filter((n) => !abi.includes(n)), []);
  assert.deepEqual(bound(TEST_SYMBOLS).filter((n) => !abi.includes(n) && !hooks.includes(n)), []);
  // the test table is the ABI plus hooks, so a test binding can stand in for the real one
  assert.deepEqual(bound(SYMBOLS).filter((n) => !bound(TEST_SYMBOLS).includes(n)), []);
});
