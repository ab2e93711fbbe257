/** `bm replay --format eslogger` and `bm record --from eslogger`, spawned as real processes. */
import { deepEqual, equal, match } from "node:assert/strict";
import { join } from "node:path";
import { runBm, tempDir } from "./run_bm_test_utils.ts";

const FIXTURE = new URL("../../tests/fixtures/eslogger/demo_chain.jsonl", import.meta.url)
  .pathname;
const PACK = new URL("../../policies", import.meta.url).pathname;

async function bmStdin(args: string[], input: string) {
  const p = new Deno.Command(new URL("../../bin/bm", import.meta.url).pathname, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  const out = await p.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("bm replay --format eslogger -: the demonstration's chain from an eslogger recording", async () => {
  const r = await bmStdin(
    ["replay", "--format", "eslogger", "-", "--rules", PACK, "--output", "json"],
    await Deno.readTextFile(FIXTURE),
  );
  equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const demo = doc.threats.find((t: { name: string }) =>
    t.name === "Behavior:MacOS/BmChangeFileTest"
  );
  deepEqual(demo?.rule_ids, ["macos.bm_change_file_test"]);
  equal(demo?.process.pid, 4202);
  deepEqual(demo?.lineage.map((l: { pid: number }) => l.pid), [4201, 4202]);
  match(r.stderr, /Skipped eslogger event types bm does not read: mmap 1/);
});

Deno.test("bm replay --format eslogger: bad lines exit 2 with line numbers; unknown schema refused", async () => {
  const lines = (await Deno.readTextFile(FIXTURE)).trim().split("\n");
  const v2 = JSON.parse(lines[1]!);
  v2.schema_version = 2;
  const dir = await tempDir("bm_cli_eslogger_", {
    "bad.jsonl": [lines[0], "{oops", ...lines.slice(1)].join("\n"),
    "v2.jsonl": [lines[0], JSON.stringify(v2)].join("\n"),
  });
  try {
    const bad = await runBm([
      "replay",
      "--format",
      "eslogger",
      join(dir, "bad.jsonl"),
      "--rules",
      PACK,
    ]);
    equal(bad.code, 2, bad.stderr);
    match(bad.stderr, /bad\.jsonl" line 2: not JSON/);
    match(bad.stdout, /Behavior:MacOS\/BmChangeFileTest/); // the good lines still judged
    const v = await runBm([
      "replay",
      "--format",
      "eslogger",
      join(dir, "v2.jsonl"),
      "--rules",
      PACK,
    ]);
    equal(v.code, 2);
    match(
      v.stderr,
      /^Unsupported eslogger schema_version 2 in ".*v2\.jsonl" line 2: bm reads version 1\n$/,
    );
    const f = await runBm(["replay", "--format", "xml", join(dir, "v2.jsonl")]);
    equal(f.code, 2);
    match(f.stderr, /Unknown trace format "xml"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bm record --from eslogger: writes a bm trace that bm replay judges the same", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bm_cli_eslogger_" });
  try {
    const out = join(dir, "t.jsonl");
    const r = await runBm(["record", "--from", "eslogger", FIXTURE, "--output", out]);
    equal(r.code, 0, r.stderr);
    equal((await Deno.readTextFile(out)).trim().split("\n").length, 11);
    const a = await runBm(["replay", out, "--rules", PACK, "--output", "json"]);
    const b = await runBm([
      "replay",
      "--format",
      "eslogger",
      FIXTURE,
      "--rules",
      PACK,
      "--output",
      "json",
    ]);
    equal(a.code, 0, a.stderr);
    deepEqual(JSON.parse(a.stdout), JSON.parse(b.stdout));
    const u = await runBm(["record", "--from", "dtrace", FIXTURE, "--output", out]);
    equal(u.code, 2);
    match(u.stderr, /Unknown --from "dtrace"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
