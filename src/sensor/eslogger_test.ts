import { deepEqual, equal, ok } from "node:assert/strict";
import { decodeEsloggerLine, readEslogger } from "./eslogger.ts";
import type { BmEvent } from "./event.ts";

const FIXTURE = new URL("../../tests/fixtures/eslogger/demo_chain.jsonl", import.meta.url);
const text = Deno.readTextFileSync(FIXTURE);
const lines = text.trim().split("\n");

function only(line: string): BmEvent {
  const r = decodeEsloggerLine(line);
  if (r.kind !== "events") throw new Error(`expected events, got ${JSON.stringify(r)}`);
  equal(r.events.length, 1);
  return r.events[0]!;
}

/** A fixture line with one field path replaced (the fixture stays the source of truth). */
function edit(i: number, f: (m: Record<string, unknown>) => void): string {
  const m = JSON.parse(lines[i]!);
  f(m);
  return JSON.stringify(m);
}

Deno.test("eslogger exec: the new image with argv, cwd, signing facts and the caller as parent", () => {
  const e = only(lines[1]!);
  equal(e.event.action, "exec");
  equal(e.process.pid, 4202);
  equal(e.process.executable, "/bin/sh");
  equal(e.process.name, "sh");
  deepEqual(e.process.args, ["sh", "/private/tmp/bm_change_file_test.sh"]);
  equal(e.process.working_directory, "/Users/alex");
  equal(e.process.parent?.pid, 4201);
  equal(e.process.responsible_pid, 4100);
  equal(e.process.tty, "/dev/ttys001");
  deepEqual(e.process.code_signature, {
    platform_binary: true,
    signing_id: "com.apple.sh",
    cdhash: "5c0bd5b3a8f2e1d4c6b7a8091e2f3a4b5c6d7e8f",
  });
  equal(e.process.entity_id, `4202-${Math.round(e.process.start!)}`);
  deepEqual(e.user, { id: 501, effective: { id: 501 } });
  equal((e as { file?: { path: string } }).file?.path, "/bin/sh");
  equal(e.bm?.source, "macos");
  equal(e.bm?.seq, 101);
  equal(e["@timestamp"], Date.parse("2026-11-30T09:15:02.006Z"));
  // eslogger prints nanoseconds: the start time keeps the sub-millisecond part
  equal(e.process.start, Date.parse("2026-11-30T09:15:02.005Z") + 0.123);
});

Deno.test("eslogger fork: the child, with the message's process as parent (lineage)", () => {
  const e = only(lines[0]!);
  equal(e.event.action, "fork");
  equal(e.process.pid, 4202);
  equal(e.process.parent?.pid, 4201);
  equal(e.process.parent?.executable, "/bin/zsh");
  ok(e.process.parent?.entity_id?.startsWith("4201-"));
});

Deno.test("eslogger file events: create (new path), close modified, rename, unlink, xattr, BTM", () => {
  const create = only(lines[2]!) as BmEvent & { file: { path: string; mode?: number } };
  equal(create.event.action, "create");
  equal(create.file.path, "/private/tmp/bm_change_file_test_1.txt");
  equal(create.file.mode, 420);
  const close = only(lines[4]!) as BmEvent & { file: { path: string; uid?: number } };
  equal(close.event.action, "close_modified");
  equal(close.file.uid, 501);
  const rename = only(lines[8]!) as BmEvent & { file: { path: string; target_path?: string } };
  equal(rename.event.action, "rename");
  equal(rename.file.path, "/private/tmp/a.txt");
  equal(rename.file.target_path, "/private/tmp/b.txt");
  equal(only(lines[9]!).event.action, "unlink");
  const x = only(lines[10]!) as BmEvent & { file: { xattr?: string } };
  equal(x.event.action, "setxattr");
  equal(x.file.xattr, "com.apple.quarantine");
  const btm = only(lines[11]!) as BmEvent & { file: { path: string } };
  equal(btm.event.action, "launch_item_add");
  equal(btm.bm?.launch_item, "/Users/alex/Library/LaunchAgents/com.example.agent.plist");
  const exit = only(lines[13]!);
  equal(exit.event.action, "exit");
  equal(exit.process.exit_code, 137); // killed by signal 9, wait(2) encoding
});

Deno.test("eslogger: write and unmodified close are unused, unknown types counted", () => {
  deepEqual(decodeEsloggerLine(lines[3]!), { kind: "unused", type: "write" });
  deepEqual(decodeEsloggerLine(lines[12]!), { kind: "unused", type: "close" });
  deepEqual(decodeEsloggerLine(lines[5]!), { kind: "unknown", type: "mmap" });
  const r = readEslogger(text);
  equal(r.events.length, 11);
  deepEqual(r.unknown, { mmap: 1 });
  deepEqual(r.unused, { write: 1, close: 1 });
  deepEqual(r.problems, []);
});

Deno.test("eslogger: bad lines are reported with their number and reason, the rest read", () => {
  const bad = [
    lines[0]!,
    "{not json",
    edit(1, (m) => delete (m.process as Record<string, unknown>).audit_token),
    edit(2, (m) => m.event = { create: {}, close: {} }),
    edit(4, (m) => ((m.event as { close: { modified: unknown } }).close.modified = "yes")),
    edit(6, (m) => m.time = "yesterday"),
  ].join("\n");
  const r = readEslogger(bad);
  equal(r.events.length, 1);
  deepEqual(r.problems.map((p) => p.line), [2, 3, 4, 5, 6]);
  ok(r.problems[0]!.reason.startsWith("not JSON"));
  ok(r.problems[1]!.reason.startsWith("process.audit_token"), r.problems[1]!.reason);
  equal(r.problems[2]!.reason, "event: expected one event type, found 2");
  ok(r.problems[3]!.reason.startsWith("event.close.modified"), r.problems[3]!.reason);
  equal(r.problems[4]!.reason, `time: not a date "yesterday"`);
});

Deno.test("eslogger: an unknown schema version stops the read and names its line", () => {
  const r = readEslogger([lines[0]!, edit(1, (m) => m.schema_version = 2), lines[2]!].join("\n"));
  deepEqual(r.badVersion, { line: 2, version: 2 });
  equal(r.events.length, 1);
});

Deno.test("eslogger paths are in the text form of path_codec.ts: backslashes doubled, URL bytes kept", () => {
  const rename = only(edit(8, (m) => {
    const r = (m.event as { rename: { source: { path: string } } }).rename;
    r.source.path = "/private/tmp/a\\b.txt";
  })) as BmEvent & { file: { path: string } };
  equal(rename.file.path, "/private/tmp/a\\\\b.txt");
  const btm = only(edit(11, (m) => {
    const b = (m.event as { btm_launch_item_add: { item: { item_url: string } } })
      .btm_launch_item_add;
    b.item.item_url = "file:///Users/alex/Library/LaunchAgents/x%FF%C3%A9.plist";
  }));
  equal(btm.bm?.launch_item, "/Users/alex/Library/LaunchAgents/x\\xffé.plist");
});
