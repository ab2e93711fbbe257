import { deepEqual, equal, ok } from "node:assert/strict";
import { firstSegment, pathPrefilter, pathSegments } from "./prefilter.ts";
import { rule, rules } from "./engine_test_utils.ts";
import { ruleFires } from "./rule_tests.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine } from "./engine.ts";
import { FakeClock } from "../clock_test_utils.ts";
import type { BmEvent } from "../sensor/event.ts";
import type { MatchCtx } from "./fields.ts";
import type { Proc } from "./process_table.ts";

function ctx(path: string | undefined, target?: string, exe = "/usr/bin/x"): MatchCtx {
  const file = path === undefined
    ? undefined
    : { path, ...(target ? { target_path: target } : {}) };
  return {
    ev: {
      "@timestamp": 0,
      event: { action: "close_modified" },
      process: { pid: 2 },
      ...(file ? { file } : {}),
    },
    proc: { executable: exe } as Proc,
    refs: undefined,
  } as MatchCtx;
}

Deno.test("prefilter: literal prefixes of globs, eq, in and starts_with, on path, target or executable", () => {
  const lists = new Map([["temp", ["/tmp/**", "/dev/shm/**"]]]);
  const pre = pathPrefilter([
    { field: "process.name", eq: "x" },
    {
      any: [
        { field: "file.path", glob: ["/etc/cron.d/*", "/etc/rc[0-6].d/*", "@temp"] },
        { field: "file.target_path", eq: "/etc/crontab" },
      ],
    },
  ], lists)!;
  ok(pre !== undefined);
  equal(pre(ctx("/etc/cron.d/job")), true);
  equal(pre(ctx("/etc/rc3.d/S01x")), true);
  equal(pre(ctx("/dev/shm/x")), true);
  equal(pre(ctx("/home/u/file")), false);
  equal(pre(ctx("/home/u/file", "/etc/crontab")), true);
  equal(pre(ctx(undefined)), false);
  const exe = pathPrefilter([{ field: "process.executable", glob: "/dev/shm/**" }], undefined)!;
  equal(exe(ctx(undefined, undefined, "/dev/shm/a")), true);
  equal(exe(ctx(undefined, undefined, "/usr/bin/a")), false);
});

Deno.test("prefilter: none when a condition could accept any path", () => {
  equal(pathPrefilter([{ field: "file.path", glob: "**/release_agent" }], undefined), undefined);
  equal(pathPrefilter([{ field: "file.path", regex: "/proc/" }], undefined), undefined);
  equal(
    pathPrefilter([{
      any: [{ field: "file.path", glob: "/etc/*" }, { field: "process.name", eq: "x" }],
    }], undefined),
    undefined,
  );
  equal(pathPrefilter([{ field: "file.path", iglob: "/etc/*" }], undefined), undefined);
});

Deno.test("prefilter: an anchored regex's literal start is a prefix", () => {
  const pre = pathPrefilter([{ field: "file.path", regex: "^/proc/[0-9]+/mem$" }], undefined)!;
  equal(pre(ctx("/proc/12/mem")), true);
  equal(pre(ctx("/home/u/mem")), false);
  deepEqual(pathSegments([{ field: "file.path", regex: "^/proc/[0-9]+/mem$" }], undefined), [
    "proc",
  ]);
});

Deno.test("segments: conditions that ignore case give their folders (the index ignores case too)", () => {
  deepEqual(pathSegments([{ field: "file.path", istarts_with: "/ETC/sudoers.d/" }], undefined), [
    "etc",
  ]);
  deepEqual(pathSegments([{ field: "file.path", iglob: "/Users/*/x" }], undefined), ["users"]);
});

Deno.test("segments: the top-level folders a file step needs, or none when a prefix stops short", () => {
  deepEqual(
    pathSegments([{
      any: [{ field: "file.path", glob: ["/etc/cron.d/*", "/var/spool/cron/**"] }, {
        field: "file.target_path",
        eq: "/etc/crontab",
      }],
    }], undefined)?.sort(),
    ["etc", "var"],
  );
  equal(pathSegments([{ field: "file.path", starts_with: "/tm" }], undefined), undefined);
  equal(pathSegments([{ field: "process.executable", glob: "/tmp/**" }], undefined), undefined);
  equal(firstSegment("/etc/passwd"), "etc");
  equal(firstSegment("/x"), "");
  equal(firstSegment("rel/x"), undefined);
});

Deno.test("segment index: a file rule still fires through its target path, and rules elsewhere are unaffected", () => {
  const set = rules(
    rule("seg", "", 10) + `[[rule.steps]]
action = ["rename", "close_modified"]
where = [{ any = [{ field = "file.path", glob = "/etc/cron.d/*" }, { field = "file.target_path", glob = "/etc/cron.d/*" }] }]
` + rule("anywhere", "", 10) + `[[rule.steps]]
action = ["rename", "close_modified"]
where = [{ field = "file.name", eq = "job" }]
`,
  );
  const ev = (action: string, path: string, target?: string) =>
    ({
      "@timestamp": 1,
      event: { action },
      process: { pid: 7, entity_id: "7-1", executable: "/usr/bin/mv" },
      file: target === undefined ? { path } : { path, target_path: target },
    }) as BmEvent;
  const seg = set.rules.find((r) => r.id === "seg")!;
  const any = set.rules.find((r) => r.id === "anywhere")!;
  deepEqual(seg.steps[0]!.segments, ["etc"]);
  equal(ruleFires(seg, [ev("rename", "/tmp/job", "/etc/cron.d/job")]), true);
  equal(ruleFires(seg, [ev("close_modified", "/etc/cron.d/job")]), true);
  equal(ruleFires(seg, [ev("close_modified", "/etcx/cron.d/job")]), false);
  equal(ruleFires(any, [ev("close_modified", "/home/u/job")]), true);
  // Both in one engine: order and matches as without the index.
  let fired: string[] = [];
  const eng = new Engine(set, { ...DEFAULT_ENGINE_OPTIONS, platform: "linux" }, new FakeClock(1));
  eng.onFire = (f) => fired.push(f.ruleId);
  eng.process(ev("rename", "/tmp/job", "/etc/cron.d/job"));
  deepEqual(fired, ["seg", "anywhere"]);
  fired = [];
  eng.process(
    { ...ev("close_modified", "/var/job"), process: { pid: 8, entity_id: "8-1" } } as BmEvent,
  );
  deepEqual(fired, ["anywhere"]);
});
