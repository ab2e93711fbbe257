/**
 * Paths are bytes, end to end: a real daemon (real sensor, marks confined to
 * the test tmpfs, rules confined to this test's processes) blocks and
 * quarantines a script whose name holds the bytes 0xff 0xfe (not UTF-8), and
 * `bm threat restore` puts back the exact name. The CLI and the event export
 * show the name in the text form of src/sensor/path_codec.ts (`\xff\xfe`).
 * Root only; every wait has a hard timeout.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { AT_FDCWD, closeFd, lstatAt, O, openBytes } from "../../ffi/libc_fs.ts";
import { existsByBytes, readByBytes } from "../../ffi/libc_fs_test_utils.ts";
import { pathToBytes } from "../../src/sensor/path_codec.ts";
import { canRunE2e, keepingLogs, run, startAgent } from "./_harness.ts";

// A glob on the plain temp-dir prefix: `*` must match the escaped bytes too.
const RULE = `
[[rule]]
id = "e2e.exec_scratch_bytes"
name = "Behavior:Linux/E2eExecScratchBytes.A"
description = "A file in the e2e scratch mount whose name starts with bad is executed"
platforms = ["linux"]
severity = "high"
score = 100
techniques = ["T1204.002"]
tactics = ["TA0002"]
actions = [{ type = "report" }, { type = "block" }, { type = "quarantine", step = 1 }]
tests = { positive = ["none.pos.jsonl"], negative = ["none.neg.jsonl"] }

[[rule.steps]]
action = "exec"
where = [{ field = "file.path", glob = "/tmp/bm_e2e_*/t/bad*" }]
`;

const BODY = new TextEncoder().encode("#!/bin/sh\necho payload ran\n");

Deno.test({
  name:
    "e2e paths are bytes: a script named with 0xff 0xfe is denied, quarantined and restored byte-exact",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const rules = await Deno.makeTempDir({ prefix: "bm_e2e_rules_" });
    await Deno.writeTextFile(`${rules}/e2e.toml`, RULE, { mode: 0o644 });
    const agent = await startAgent({ mode: "block", toml: `[engine]\nrulesDir = "${rules}"\n` });
    try {
      // The text form of the name; its bytes are ".../bad" 0xff 0xfe.
      const path = `${agent.scratch}/bad\\xff\\xfe`;
      const raw = pathToBytes(path);
      assert.deepEqual([...raw.slice(-5)], [0x62, 0x61, 0x64, 0xff, 0xfe]);
      const fd = openBytes(raw, O.WRONLY | O.CREAT | O.EXCL, 0o600);
      try {
        fs.writeFileSync(`/proc/self/fd/${fd}`, BODY);
        fs.chmodSync(`/proc/self/fd/${fd}`, 0o755);
      } finally {
        closeFd(fd);
      }

      // Deno cannot pass the name to exec; the shell's glob hands the kernel the bytes.
      const r = await run("/bin/sh", ["-c", 'exec "$1"/bad*', "sh", agent.scratch], {
        timeoutMs: 15_000,
      });
      assert.notEqual(
        r.code,
        0,
        `payload ran: ${r.stdout}\n${agent.events()}\n${JSON.stringify(await agent.health())}`,
      );
      assert.doesNotMatch(r.stdout, /payload ran/);

      const t = await agent.waitThreat(["Behavior:Linux/E2eExecScratchBytes.A"], ["quarantined"]);
      assert.equal(existsByBytes(path), false, "the original name is still there");

      // CLI: the escaped name, never U+FFFD.
      const list = await agent.bm("threat", "list");
      const show = await agent.bm("threat", "show", t.id);
      assert.ok(show.includes(path), `bm threat show lacks ${path}:\n${show}`);
      const q = JSON.parse(await agent.bm("threat", "quarantine", "list", "--output", "json"));
      const entries = q.quarantine as { original_path: string }[];
      assert.deepEqual(entries.map((e) => e.original_path), [path]);
      const alerts = await agent.bm("alert", "list", "--output", "json");
      assert.ok(alerts.includes(JSON.stringify(path).slice(1, -1)), `alert list:\n${alerts}`);
      for (const out of [list, show, alerts]) assert.doesNotMatch(out, /\uFFFD/);

      // The export: the detection names the escaped path.
      const dir = `${agent.dir}/state`;
      const file = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".jsonl"));
      assert.ok(file, "no event export");
      const text = Deno.readTextFileSync(`${dir}/${file.name}`);
      assert.doesNotMatch(text, /\uFFFD/);
      const docs = text.split("\n").filter((l) => l).map((l) => JSON.parse(l));
      const det = docs.find((d) => d.event?.dataset === "bm.detection");
      assert.ok(det, "no detection line in the export");
      assert.equal(det.process.executable, path);
      assert.ok(
        docs.some((d) => d.file?.path === path),
        "no raw event with the escaped file.path in the export",
      );

      // Restore: the exact bytes come back, and the file still runs.
      const restored = await agent.bm("threat", "restore", "--id", t.id);
      assert.ok(restored.includes(path), `restore output:\n${restored}`);
      assert.equal(existsByBytes(path), true, "not restored under the original bytes");
      assert.deepEqual(readByBytes(path), BODY);
      const st = lstatAt(AT_FDCWD, raw);
      assert.equal(st.mode & 0o777, 0o755);
      await agent.waitFor(
        `threat ${t.id} restored`,
        async () => (await agent.threats()).find((x) => x.id === t.id)?.status,
        (status) => status === "restored",
      );
    } finally {
      assert.equal(await agent.stop(), 0);
      await Deno.remove(rules, { recursive: true });
    }
  }),
});
