/** `bm replay` end to end: spawns bin/bm, checks exit codes and output. */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { runBm, tempDir as makeTempDir } from "./run_bm_test_utils.ts";

const PACK = new URL("../../tests/engine/fixtures/pack", import.meta.url).pathname;

const bm = (...args: string[]) => runBm(args);
const tempDir = (files: Record<string, string>) => makeTempDir("bm_cli_replay_", files);

Deno.test("bm replay --output json: the exact threat shape; bad lines counted on stderr", async () => {
  const trace = await Deno.readTextFile(join(PACK, "traces/write_then_exec.pos.jsonl"));
  const lines = trace.trim().split("\n");
  lines.splice(
    1,
    0,
    "{not json",
    `{"@timestamp": 5, "event": {"action": "open"}, "process": {"pid": 1}}`,
  );
  const dir = await tempDir({ "t.jsonl": lines.join("\n") + "\n" });
  try {
    const r = await bm("replay", join(dir, "t.jsonl"), "--rules", PACK, "--output", "json");
    equal(r.code, 2, r.stderr); // bad lines: exit 2, verdicts still printed
    const doc = JSON.parse(r.stdout);
    deepEqual(Object.keys(doc), ["threats", "alerts"]);
    // Every firing is an alert; the one that crossed the threshold too.
    deepEqual(doc.alerts.map((a: { rule_id: string }) => a.rule_id), ["fixture.write_then_exec"]);
    equal(doc.alerts[0].process.pid, 301);
    equal(doc.alerts[0].events.length, 2);
    equal(doc.threats.length, 1);
    const t = doc.threats[0];
    deepEqual(Object.keys(t), ["name", "rule_ids", "score", "process", "lineage", "events"]);
    equal(t.name, "Behavior:Linux/FixtureWriteThenExec.A");
    deepEqual(t.rule_ids, ["fixture.write_then_exec"]);
    deepEqual(t.process, { pid: 301, path: "/tmp/.x/payload", argv: [] });
    deepEqual(t.lineage.map((l: { pid: number }) => l.pid), [1, 300, 301]);
    equal(t.events.length, 2);
    equal(t.events[0]["@timestamp"], "1970-01-01T00:00:01.010Z");
    match(r.stderr, /line 2: not JSON/);
    match(r.stderr, /line 3: file: required for "open"/);
    match(r.stderr, /2 bad lines skipped/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bm replay: text output, missing trace exits 2", async () => {
  const r = await bm("replay", join(PACK, "traces/change_file_test.pos.jsonl"), "--rules", PACK);
  equal(r.code, 0, r.stderr);
  match(r.stdout, /Behavior:Linux\/BmChangeFileTest {2}score 100 {2}block/);
  match(r.stdout, /actions {2}report, kill/);
  const audit = await bm(
    "replay",
    join(PACK, "traces/change_file_test.pos.jsonl"),
    "--rules",
    PACK,
    "--audit",
  );
  match(audit.stdout, /actions {2}report\n/);
  const missing = await bm("replay", "/nonexistent/trace.jsonl", "--rules", PACK);
  equal(missing.code, 2);
  equal(missing.stderr.trim(), `Cannot read "/nonexistent/trace.jsonl": no such file`);
  ok(missing.stdout === "");
});

Deno.test("bm replay: the platform defaults to the trace's bm.source; mixed sources need --platform", async () => {
  const POLICIES = new URL("../../policies", import.meta.url).pathname;
  const mac = join(POLICIES, "tests/macos/bm_change_file_test.pos.jsonl");
  const r = await bm("replay", mac, "--rules", POLICIES, "--output", "json");
  equal(r.code, 0, r.stderr);
  const names = JSON.parse(r.stdout).threats.map((t: { name: string }) => t.name);
  ok(names.includes("Behavior:MacOS/BmChangeFileTest"), JSON.stringify(names));
  const forced = await bm(
    "replay",
    mac,
    "--rules",
    POLICIES,
    "--platform",
    "linux",
    "--output",
    "json",
  );
  equal(forced.code, 0, forced.stderr);
  ok(!forced.stdout.includes("Behavior:MacOS/"), "--platform wins over bm.source");
  const linux =
    (await Deno.readTextFile(join(POLICIES, "tests/linux/bm_change_file_test.pos.jsonl")))
      .trim().split("\n");
  const macLines = (await Deno.readTextFile(mac)).trim().split("\n");
  const dir = await tempDir({ "mixed.jsonl": [linux[0], macLines[0]].join("\n") + "\n" });
  try {
    const mixed = await bm("replay", join(dir, "mixed.jsonl"), "--rules", POLICIES);
    equal(mixed.code, 2);
    match(mixed.stderr, /mixes linux and macos events: pass --platform/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bm replay --output json: a firing under the threshold is an alert, not a threat", async () => {
  const repo = new URL("../../", import.meta.url).pathname;
  const r = await bm(
    "replay",
    join(repo, "policies/tests/linux/cron_file_write.pos.jsonl"),
    "--rules",
    join(repo, "policies"),
    "--output",
    "json",
  );
  equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  deepEqual(doc.threats, []);
  equal(doc.alerts.length, 1);
  const a = doc.alerts[0];
  equal(a.rule_id, "linux.cron_file_write");
  equal(a.severity, "medium");
  equal(a.score, 60);
  deepEqual(a.techniques, ["T1053.003"]);
  equal(a.process.executable, "/usr/bin/python3");
  equal(a.time, "2026-11-27T10:00:00.007Z");
  equal(a.events[0].file.path, "/etc/cron.d/sys-update");
});

Deno.test({
  name: "bm replay --config: judged with this machine's threshold; a bad config exits 2",
  // The settings files must be root-owned to be loaded, as for the daemon.
  ignore: Deno.uid() !== 0,
  async fn() {
    const dir = await tempDir({ "bm.toml": "[engine]\nscoreThreshold = 150\n" });
    const env = {
      BM_LOCAL_CONFIG: join(dir, "bm.toml"),
      BM_MANAGED_CONFIG: join(dir, "managed.json"),
    };
    const trace = join(PACK, "traces/change_file_test.pos.jsonl");
    try {
      const defaults = await runBm(["replay", trace, "--rules", PACK, "--output", "json"], { env });
      equal(defaults.code, 0, defaults.stderr);
      equal(JSON.parse(defaults.stdout).threats.length, 1, "score 100 crosses the default 100");
      const mine = await runBm(
        ["replay", trace, "--rules", PACK, "--output", "json", "--config"],
        { env },
      );
      equal(mine.code, 0, mine.stderr);
      const doc = JSON.parse(mine.stdout);
      equal(doc.threats.length, 0, "below this machine's threshold of 150");
      equal(doc.alerts.length, 1, "the rule still fired");
      await Deno.writeTextFile(join(dir, "bm.toml"), '[engine]\nscoreThreshold = "x"\n');
      const bad = await runBm(["replay", trace, "--rules", PACK, "--config"], { env });
      equal(bad.code, 2);
      match(bad.stderr, /bm\.toml.*scoreThreshold/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("bm replay: inputs that stalled a backtracking engine are bounded (LD_PRELOAD of 60 KB, ^(a+)+$ on 100 KB)", async () => {
  const POLICIES = new URL("../../policies", import.meta.url).pathname;
  const exec = (pid: number, args: string[]) =>
    JSON.stringify({
      "@timestamp": 1000 + pid,
      event: { action: "exec" },
      process: { pid, executable: "/usr/bin/env", name: "env", args, parent: { pid: 1 } },
      user: { id: 65534 },
      bm: { source: "linux" },
    });
  const ld = Array.from(
    { length: 5 },
    (_, i) => exec(100 + i, ["env", "LD_PRELOAD=" + "/".repeat(60_000), "/bin/true"]),
  );
  const nested = Array.from(
    { length: 5 },
    (_, i) => exec(200 + i, ["x", "a".repeat(100_000) + "b"]),
  );
  const rule = `[[rule]]
id = "user.nested_plus"
name = "Behavior:Linux/UserNestedPlus.A"
description = "x"
platforms = ["linux"]
severity = "low"
score = 100
tests = { positive = ["t.jsonl"], negative = ["t.jsonl"] }

[[rule.steps]]
action = "exec"
where = [{ field = "process.args", regex = "^(a+)+$" }]
`;
  const dir = await tempDir({
    "ld.jsonl": ld.join("\n") + "\n",
    "nested.jsonl": nested.join("\n") + "\n",
    "user.toml": rule,
    "t.jsonl": "",
  });
  try {
    // Loose bounds (the figure is bench/hostile_input_bench.ts's): before the
    // linear engine three such LD_PRELOAD events stalled the engine past 100 s.
    let t0 = performance.now();
    const a = await bm("replay", join(dir, "ld.jsonl"), "--rules", POLICIES, "--output", "json");
    const ldMs = performance.now() - t0;
    equal(a.code, 0, a.stderr);
    equal(JSON.parse(a.stdout).threats.length, 0);
    t0 = performance.now();
    const b = await bm("replay", join(dir, "nested.jsonl"), "--rules", dir, "--output", "json");
    const nestedMs = performance.now() - t0;
    equal(b.code, 0, b.stderr);
    equal(JSON.parse(b.stdout).threats.length, 0);
    ok(ldMs < 30_000 && nestedMs < 30_000, `${ldMs} ms, ${nestedMs} ms`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bm replay: a device, a FIFO or a directory is refused at once with exit 2", async () => {
  const dir = await tempDir({});
  try {
    const fifo = join(dir, "fifo");
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    equal(mk.code, 0);
    for (const path of ["/dev/zero", fifo, dir]) {
      const r = await runBm(["replay", path, "--rules", PACK], { timeoutMs: 30_000 });
      equal(r.code, 2, `${path}: ${r.stderr}`);
      equal(r.stderr.trim(), `Cannot read "${path}": not a regular file`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bm replay: invalid UTF-8 and out-of-range numbers are bad lines, reported with their number", async () => {
  const good = (await Deno.readTextFile(join(PACK, "traces/write_then_exec.pos.jsonl"))).trim()
    .split("\n");
  const enc = new TextEncoder();
  const line = (s: string) => enc.encode(s + "\n");
  const head = enc.encode(
    `{"@timestamp": 5, "event": {"action": "exec"}, "process": {"pid": 7, "executable": "/tmp/`,
  );
  const bad = new Uint8Array([
    ...line(good[0]!),
    ...head,
    0xff,
    0xfe,
    ...line(`"}}`),
    ...line(`{"@timestamp": 5, "event": {"action": "exec"}, "process": {"pid": -1}}`),
    ...line(
      `{"@timestamp": 5, "event": {"action": "exec"}, "process": {"pid": 1}, "user": {"id": 1e30}}`,
    ),
    ...line(`{"@timestamp": 1e300, "event": {"action": "exec"}, "process": {"pid": 1}}`),
    ...good.slice(1).flatMap((l) => [...line(l)]),
  ]);
  const dir = await tempDir({});
  try {
    await Deno.writeFile(join(dir, "t.jsonl"), bad);
    const r = await bm("replay", join(dir, "t.jsonl"), "--rules", PACK, "--output", "json");
    equal(r.code, 2, r.stderr);
    match(
      r.stderr,
      new RegExp(`line 2: not valid UTF-8 \\(byte ${head.length + 1} of the line\\)`),
    );
    match(r.stderr, /line 3: process\.pid: /);
    match(r.stderr, /line 4: user\.id: /);
    match(r.stderr, /line 5: @timestamp: /);
    match(r.stderr, /4 bad lines skipped/);
    equal(JSON.parse(r.stdout).threats.length, 1, "the good lines still give their verdict");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
