/**
 * The interest filter compiled from rules (interest.ts): its patterns, and
 * no loss of detection: every trace of the pack (each rule's own tests and
 * the recorded benign corpora), replayed with and without the filter, gives
 * the same firings and verdicts, per rule and with the whole pack loaded.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  compileInterest,
  excludedNames,
  regexPatterns,
  stepInterest,
  stepPaths,
} from "./interest.ts";
import { loadRules } from "./rule_loader.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine, type EngineOptions } from "./engine.ts";
import type { CompiledRule, Platform } from "./rule_set.ts";
import { FixedClock } from "../clock.ts";
import { parseTrace } from "../sensor/trace.ts";
import type { BmEvent } from "../sensor/event.ts";
import {
  ExeTracker,
  interestDecision,
  type InterestFilter,
  interesting,
  type PathPattern,
} from "../sensor/interest.ts";
import { deliver } from "../sensor/held_events_test_utils.ts";
import { builtinRtpRule } from "./builtin_rtp.ts";

const POLICIES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "policies");

Deno.test("interest: step paths from globs, literals, base names and anchored regexes", () => {
  assert.deepEqual(stepPaths([{ field: "file.path", glob: "/etc/cron.d/*" }], undefined), [
    { prefix: "/etc/cron.d/", suffix: "" },
  ]);
  assert.deepEqual(
    stepPaths([{ field: "file.path", glob: "/home/*/.ssh/**/id_*.pub" }], undefined),
    [
      { prefix: "/home/", suffix: ".pub" },
    ],
  );
  // "/**/" also matches one "/": the suffix after "**" drops its "/"
  assert.deepEqual(stepPaths([{ field: "file.path", glob: "/a**/x" }], undefined), [
    { prefix: "/a", suffix: "x" },
  ]);
  assert.deepEqual(stepPaths([{ field: "file.target_path", in: ["/a", "/b"] }], undefined), [
    { prefix: "/a", suffix: "/a" },
    { prefix: "/b", suffix: "/b" },
  ]);
  assert.deepEqual(stepPaths([{ field: "file.name", in: ["release_agent"] }], undefined), [
    { prefix: "", suffix: "release_agent" },
  ]);
  // the first condition on a path counts, process conditions are skipped
  assert.deepEqual(
    stepPaths([
      { field: "process.name", eq: "sh" },
      {
        any: [{ field: "file.path", starts_with: "/x/" }, { field: "file.path", ends_with: ".so" }],
      },
    ], undefined),
    [{ prefix: "/x/", suffix: "" }, { prefix: "", suffix: ".so" }],
  );
  // unconstrained: case-insensitive ops, an `any` with a process branch, a `not`
  assert.deepEqual(
    stepPaths([{ field: "file.path", eq: { field: "process.executable" } }], undefined),
    [{ prefix: "", suffix: "", exe: true }],
  );
  assert.equal(stepPaths([{ field: "file.path", iglob: "/etc/*" }], undefined), undefined);
  assert.equal(stepPaths([{ field: "file.path", iends_with: "\u00e9" }], undefined), undefined);
  assert.equal(
    stepPaths(
      [{ any: [{ field: "file.path", eq: "/a" }, { field: "process.name", eq: "x" }] }],
      undefined,
    ),
    undefined,
  );
  assert.equal(stepPaths([{ not: { field: "file.path", eq: "/a" } }], undefined), undefined);
  assert.deepEqual(stepPaths([{ field: "file.path", regex: "/x" }], undefined), [
    { prefix: "", suffix: "", contains: "/x" },
  ]);
  const re = (r: string, fold = false, name = false) =>
    regexPatterns(r, fold, name)?.map((
      p,
    ) => [p.prefix, p.suffix, p.contains ?? "", p.fold ?? false]);
  assert.deepEqual(re("^/proc/[0-9]+/mem$"), [["/proc/", "/mem", "", false]]);
  assert.deepEqual(re("^/etc/cron\\.d/"), [["/etc/cron.d/", "", "", false]]);
  assert.deepEqual(re("^/usr/lib(64)?/x"), [["/usr/lib/x", "", "", false], [
    "/usr/lib64/x",
    "",
    "",
    false,
  ]]);
  assert.deepEqual(re("^/(tmp|var/tmp)/"), [["/tmp/", "", "", false], [
    "/var/tmp/",
    "",
    "",
    false,
  ]]);
  assert.deepEqual(re("^/a/s?bin/"), [["/a/bin/", "", "", false], ["/a/sbin/", "", "", false]]);
  assert.deepEqual(re("^/a+b"), [["/a", "", "", false]]);
  assert.deepEqual(re("^/a\\d"), [["/a", "", "", false]]);
  // a top-level | splits the anchor: only the shared texts count
  assert.equal(re("^/a/b|^/c"), undefined);
  // no $: a text every match ends with is contained
  assert.deepEqual(re("^(/tmp/|.*/\\.x)"), [["", "", "/.x", false], ["", "", "/tmp/", false]]);
  // a base name: its start is only contained in the path, its end ends it
  assert.deepEqual(
    re("(ab|cd).*\\.(txt|html?)$", true, true)?.length,
    2 * 3,
  );
  assert.deepEqual(re("^Read.*\\.TXT$", true, true), [["", ".txt", "read", true]]);
  assert.deepEqual(re("x(ab|c)y"), [["", "", "xaby", false], ["", "", "xcy", false]]);
  // a literal text in the middle that every match contains, past the ends' texts
  assert.deepEqual(re("^/(dev|lib)(/.*)?/\\.[^/]+$"), [
    ["/dev/", "", "/.", false],
    ["/lib/", "", "/.", false],
    ["/dev/.", "", "", false], // the group absent: the prefix holds it already
    ["/lib/.", "", "", false],
  ]);
  assert.deepEqual(re("^/a/[0-9]+/bc[0-9]"), [["/a/", "", "/bc", false]]);
  assert.equal(re("(?i)abc"), undefined);
  assert.equal(re(".*"), undefined);
  // file mode bits limit the step's paths, or stand alone
  assert.deepEqual(
    stepPaths(
      [{ field: "file.mode", bits_any: 2048 }, { field: "file.path", starts_with: "/t/" }],
      undefined,
    ),
    [{ prefix: "/t/", suffix: "", modeAny: 2048 }],
  );
  assert.deepEqual(stepPaths([{ field: "file.mode", bits_all: 2048 }], undefined), [
    { prefix: "", suffix: "", modeAny: 2048 },
  ]);
  assert.deepEqual(stepPaths([{ field: "file.name", iends_with: [".LOCK"] }], undefined), [
    { prefix: "", suffix: ".lock", fold: true },
  ]);
});

Deno.test("interest: process names and impossible actions bound a step's events", () => {
  const lists = new Map([["shells", ["sh", "bash"]]]);
  const si = (where: unknown[], action: "close_modified" | "exec" = "close_modified") =>
    stepInterest(where, lists, action);
  const any = { prefix: "", suffix: "" };
  // a top-level name gate, after list expansion; numbers never equal a name
  assert.deepEqual(si([{ field: "process.name", in: ["cp", "dd", 3] }, { field: "x", eq: 1 }]), [
    { ...any, names: ["cp", "dd"] },
  ]);
  assert.deepEqual(si([{ field: "process.name", in: "@shells" }]), [
    { ...any, names: ["bash", "sh"] },
  ]);
  // two gates: both hold; none in both: never
  assert.deepEqual(
    si([{ field: "process.name", in: ["a", "b"] }, { field: "process.name", eq: "b" }]),
    [{ ...any, names: ["b"] }],
  );
  assert.deepEqual(
    si([{ field: "process.name", eq: "a" }, { field: "process.name", eq: "b" }]),
    [],
  );
  // with a path: one pattern that needs both
  assert.deepEqual(
    si([{ field: "process.name", eq: "sh" }, { field: "file.path", starts_with: "/etc/" }]),
    [{ prefix: "/etc/", suffix: "", names: ["sh"] }],
  );
  // an `any` whose branches each give a name, a path, or rule this action out
  assert.deepEqual(
    si([{
      any: [
        { all: [{ field: "process.name", eq: "sysctl" }, { field: "process.args", eq: "x" }] },
        {
          all: [{ field: "event.action", eq: "close_modified" }, {
            field: "file.path",
            eq: "/p",
          }],
        },
        { all: [{ field: "event.action", eq: "exec" }, { field: "process.args", eq: "y" }] },
        {
          all: [{ field: "file.path", glob: "/etc/s/*" }, {
            field: "process.name",
            in: "@shells",
          }],
        },
      ],
    }]),
    [
      { ...any, names: ["sysctl"] },
      { prefix: "/p", suffix: "/p" },
      { prefix: "/etc/s/", suffix: "", names: ["bash", "sh"] },
    ],
  );
  // a step that never matches this action
  assert.deepEqual(si([{ field: "event.action", in: ["exec", "fork"] }]), []);
  assert.equal(si([{ field: "event.action", in: ["exec", "close_modified"] }]), undefined);
  // nothing to follow: every event of the action
  assert.equal(
    si([{ any: [{ field: "process.name", eq: "a" }, { field: "x", eq: 1 }] }]),
    undefined,
  );
  assert.equal(si([{ not: { field: "process.name", eq: "a" } }]), undefined);
  assert.equal(si([{ child_of: [{ field: "process.name", eq: "a" }] }]), undefined);
  assert.equal(si([{ field: "process.name", ieq: "a" }]), undefined);
  assert.equal(si([{ field: "process.name", starts_with: "a" }]), undefined);
  // mode bits still bound a step with no name or path
  assert.deepEqual(si([{ field: "file.mode", bits_any: 2048 }]), [{ ...any, modeAny: 2048 }]);
});

Deno.test("interest: the pack's process-gated close_modified steps get name gates", async () => {
  const { rules, problems } = await loadRules(POLICIES, { requireRootOwned: false });
  assert.deepEqual(problems, []);
  const step = (id: string) => rules.rules.find((r) => r.id === id)!.steps[0]!;
  assert.deepEqual(step("linux.shell_copied_as_daemon").interest?.get("close_modified"), [
    { prefix: "", suffix: "", names: ["cat", "cp", "dd", "install", "rsync"] },
  ]);
  const decode = step("linux.decode_to_executable").interest?.get("close_modified");
  assert.equal(decode?.length, 2);
  assert.ok(decode?.every((p) => p.prefix === "" && p.suffix === "" && p.names?.length));
  const ptrace = step("linux.ptrace_scope_disable").interest?.get("close_modified");
  assert.deepEqual(ptrace?.map((p) => [p.prefix, p.names?.length ?? 0]), [
    ["", 1],
    ["/proc/sys/kernel/yama/ptrace_scope", 0],
    ["/etc/sysctl.d/", ptrace?.[2]?.names?.length ?? -1],
  ]);
  // no close_modified step of the pack takes every written file any more
  const f = compileInterest(rules.rules, { platform: "linux", rtp: false, exportEvents: false })!;
  assert.notEqual(f.get("close_modified"), "all");
});

Deno.test("interest: the process table's kinds pass whole; RTP takes every written file, or those of the blocklist's sizes; export turns it off", async () => {
  const { rules } = await loadRules(POLICIES, { requireRootOwned: false });
  const f = compileInterest(rules.rules, { platform: "linux", rtp: false, exportEvents: false })!;
  for (const a of ["exec", "fork", "exit"] as const) assert.equal(f.get(a), "all");
  const withRtp = compileInterest([], { platform: "linux", rtp: true, exportEvents: false })!;
  assert.equal(withRtp.get("close_modified"), "all");
  assert.equal(withRtp.get("create"), undefined);
  const sized = compileInterest([], {
    platform: "linux",
    rtp: true,
    rtpSizes: new Set([73, 68]),
    exportEvents: false,
  })!;
  assert.deepEqual(sized.get("close_modified"), [{ prefix: "", suffix: "", sizes: [68, 73] }]);
  // a pack rule on rtp_verdict takes the same files
  const rtpRule = builtinRtpRule("linux", 60);
  assert.deepEqual(
    compileInterest([rtpRule], {
      platform: "linux",
      rtp: false,
      rtpSizes: new Set([68]),
      exportEvents: false,
    })!.get("close_modified"),
    [{ prefix: "", suffix: "", sizes: [68] }],
  );
  assert.equal(
    compileInterest([rtpRule], { platform: "linux", rtp: false, exportEvents: false })!
      .get("close_modified"),
    "all",
  );
  assert.equal(
    compileInterest(rules.rules, { platform: "linux", rtp: true, exportEvents: true }),
    undefined,
  );
});

interface Outcome {
  firings: string[];
  verdicts: string[];
}

function replay(rules: readonly CompiledRule[], events: BmEvent[], o: EngineOptions): Outcome {
  const engine = new Engine({ rules }, o, new FixedClock(events[0]?.["@timestamp"] ?? 0));
  const firings: string[] = [];
  engine.onFire = (x) => firings.push(`${x.ruleId} ${x.entityId}`);
  const verdicts: string[] = [];
  for (const e of events) {
    const out = engine.process(e);
    for (const v of out.verdicts) {
      verdicts.push(JSON.stringify([v.name, v.rule_ids, v.actions]));
    }
    if (out.auth) verdicts.push(`auth ${out.auth.authId} ${out.auth.allow}`);
  }
  return { firings, verdicts };
}

async function traces(platform: Platform): Promise<Map<string, BmEvent[]>> {
  const out = new Map<string, BmEvent[]>();
  for (const dir of [join(POLICIES, "tests", platform), join(POLICIES, "benign")]) {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.name.endsWith(".jsonl")) continue;
      const file = join(dir, e.name);
      const { events } = parseTrace(await Deno.readTextFile(file), file);
      out.set(file, events);
    }
  }
  return out;
}

for (const platform of ["linux", "macos"] as const) {
  for (const rtp of [false, true]) {
    Deno.test(`interest: every ${platform} trace gives the same firings and verdicts through the filter (RTP ${rtp ? "on" : "off"})`, async () => {
      const { rules, problems } = await loadRules(POLICIES, { requireRootOwned: false });
      assert.deepEqual(problems, []);
      const active = rules.rules.filter((r) => r.platforms.includes(platform));
      const opts: EngineOptions = {
        ...DEFAULT_ENGINE_OPTIONS,
        platform,
        forwardRtp: rtp,
        rtpBlocklist: rtp ? new Set(["0".repeat(64)]) : new Set(),
      };
      const all = await traces(platform);
      const whole = compileInterest(active, { platform, rtp, exportEvents: false })!;
      let dropped = 0, total = 0, released = 0;
      const check = (
        what: string,
        rs: readonly CompiledRule[],
        f: InterestFilter,
        ev: BmEvent[],
      ) => {
        // the executables the agent knows as it reads the events (for `exe` patterns)
        const exes = new ExeTracker();
        // held writes come back late, just before an exec of their file (HeldEvents)
        const kept = deliver(f, ev, exes);
        released += kept.filter((k) => k.bm?.late).length;
        dropped += ev.length - kept.length;
        total += ev.length;
        assert.deepEqual(replay(rs, kept, opts), replay(rs, ev, opts), what);
      };
      // The whole pack over every trace.
      for (const [file, ev] of all) check(`${file} (whole pack)`, active, whole, ev);
      // Each rule alone over its own traces, with the narrower filter of that rule only.
      for (const r of active) {
        const f = compileInterest([r], { platform, rtp, exportEvents: false })!;
        for (const t of [...r.tests.positive, ...r.tests.negative]) {
          check(
            `${t} (${r.id} alone)`,
            [r],
            f,
            all.get(t) ?? parseTrace(await Deno.readTextFile(t), t).events,
          );
        }
      }
      // the filter must have had something to drop, or this test proves nothing
      assert.ok(dropped > 0, `no event of ${total} was filtered`);
      // and something to hold and then send before an exec of its file (linux.drop_exec_temp)
      if (platform === "linux" && !rtp) assert.ok(released > 0, "no held write was sent late");
    });
  }
}

/**
 * A file event as the Linux sensor reports it: the process by pid only (no
 * start time, executable or parent), so the agent finds it by pid and the
 * library's name gates apply (the traces' own events name their process).
 */
function bare(e: BmEvent): BmEvent {
  const a = e.event.action;
  if (a === "exec" || a === "fork" || a === "exit") return e;
  return { ...e, process: { pid: e.process.pid } } as BmEvent;
}

for (const rtp of [false, true]) {
  Deno.test(`interest: every linux trace with file events as the sensor reports them gives the same firings and verdicts through the filter (RTP ${rtp ? "on" : "off"})`, async () => {
    const { rules } = await loadRules(POLICIES, { requireRootOwned: false });
    const active = rules.rules.filter((r) => r.platforms.includes("linux"));
    const opts: EngineOptions = {
      ...DEFAULT_ENGINE_OPTIONS,
      platform: "linux",
      forwardRtp: rtp,
      rtpBlocklist: rtp ? new Set(["0".repeat(64)]) : new Set(),
    };
    // RTP with the shipped list's sizes (the scanner reads no file of another size)
    const o = {
      platform: "linux" as const,
      rtp,
      rtpSizes: new Set([68, 73]),
      exportEvents: false,
    };
    const all = new Map([...(await traces("linux"))].map(([k, v]) => [k, v.map(bare)]));
    const whole = compileInterest(active, o)!;
    let writes = 0, writesKept = 0, fired = 0;
    const check = (what: string, rs: readonly CompiledRule[], f: InterestFilter, ev: BmEvent[]) => {
      const exes = new ExeTracker();
      // the traces' files are not on this machine: each is taken to have a size no blocklist
      // entry has (the traces carry no hash on the list, so RTP never scores them anyway)
      const facts = {
        exe: (p: number) => exes.exe(p),
        name: (p: number) => exes.name(p),
        size: () => 1,
      };
      const kept = deliver(f, ev, exes, facts);
      const delivered = new Set(kept);
      for (const e of ev) {
        if (e.event.action !== "close_modified") continue;
        writes++;
        if (delivered.has(e)) writesKept++;
      }
      const want = replay(rs, ev, opts);
      fired += want.firings.length;
      assert.deepEqual(replay(rs, kept, opts), want, what);
    };
    for (const [file, ev] of all) check(`${file} (whole pack)`, active, whole, ev);
    for (const r of active) {
      const f = compileInterest([r], o)!;
      for (const t of [...r.tests.positive, ...r.tests.negative]) {
        check(`${t} (${r.id} alone)`, [r], f, all.get(t)!);
      }
    }
    // the name gates had written files to drop, and the bare traces still fire rules
    assert.ok(writesKept < writes, `every one of ${writes} written files passed`);
    assert.ok(fired > 0);
  });
}

Deno.test("interest: cp of /bin/bash, its write reported by pid only, still fires linux.shell_copied_as_daemon through the filter; a tar write is dropped", async () => {
  const { rules } = await loadRules(POLICIES, { requireRootOwned: false });
  const active = rules.rules.filter((r) => r.platforms.includes("linux"));
  const f = compileInterest(active, { platform: "linux", rtp: false, exportEvents: false })!;
  const file = join(POLICIES, "tests", "linux", "shell_copied_as_daemon.pos.jsonl");
  const events = parseTrace(await Deno.readTextFile(file), file).events.map(bare);
  const write = events.find((e) => e.event.action === "close_modified")!;
  const exes = new ExeTracker();
  const through = (evs: BmEvent[], known: ExeTracker) => deliver(f, evs, known);
  const kept = through(events, exes);
  // held (the rule needs it only if the copy is run), then sent just before the copy's exec
  assert.ok(!kept.includes(write), "cp's write is held");
  const sent = kept.findIndex((e) => e.bm?.late && e.event.action === "close_modified");
  assert.ok(sent >= 0 && kept[sent + 1]?.event.action === "exec", "sent before the exec");
  const opts = { ...DEFAULT_ENGINE_OPTIONS, platform: "linux" as const };
  assert.ok(
    replay(active, kept, opts).firings.some((x) => x.startsWith("linux.shell_copied_as_daemon ")),
  );
  // cp's exit read before its write (the sensor reads the proc connector first): still cp's
  const at = events.indexOf(write);
  const exit = events.findIndex((e, i) =>
    i > at && e.event.action === "exit" && e.process.pid === write.process.pid
  );
  assert.ok(exit > at);
  const late = [...events];
  late.splice(at, 1);
  late.splice(exit, 0, write); // right after the exit (now at exit - 1)
  const lateKept = through(late, new ExeTracker());
  assert.ok(
    lateKept.some((e) => e.bm?.late && e.process.pid === write.process.pid),
    "cp's write read after its exit is held and sent",
  );
  assert.ok(
    replay(active, lateKept, opts).firings.some((x) =>
      x.startsWith("linux.shell_copied_as_daemon ")
    ),
  );
  // a write of a file no path pattern takes: by cp it passes, by tar no step of the pack can use it
  const pid = write.process.pid;
  const other = { ...write, file: { path: "/opt/app/sshd" } } as BmEvent;
  const cp = new ExeTracker();
  cp.observe({
    "@timestamp": 0,
    event: { action: "exec" },
    process: { pid, executable: "/usr/bin/cp" },
  } as BmEvent);
  // held: the rule needs it only if the copy is run; sent just before that exec, it still fires
  assert.equal(typeof interestDecision(f, other, cp), "number", "held");
  const moved = events.map((e) => {
    if (e === write) return other;
    if (e.event.action === "exec" && e.process.executable === "/dev/shm/rsyslogd") {
      return { ...e, process: { ...e.process, executable: "/opt/app/sshd", name: "sshd" } };
    }
    return e;
  });
  const movedKept = through(moved, new ExeTracker());
  const movedSent = movedKept.findIndex((e) => e.bm?.late === true);
  assert.ok(!movedKept.includes(other), "held");
  assert.ok(
    movedSent >= 0 && movedKept[movedSent + 1]?.event.action === "exec",
    "sent before the exec",
  );
  assert.deepEqual(replay(active, movedKept, opts).firings, replay(active, moved, opts).firings);
  assert.ok(
    replay(active, movedKept, opts).firings.some((x) =>
      x.startsWith("linux.shell_copied_as_daemon ")
    ),
  );
  exes.observe({
    "@timestamp": 0,
    event: { action: "exec" },
    process: { pid, executable: "/usr/bin/tar" },
  } as BmEvent);
  assert.equal(interestDecision(f, other, exes), "drop");
  // ... also read after tar's exit (the process table keeps tar there)
  exes.observe({ "@timestamp": 0, event: { action: "exit" }, process: { pid } } as BmEvent);
  assert.equal(interestDecision(f, other, exes), "drop");
  // ... unless RTP's blocklist has the file's size
  const sized = compileInterest(active, {
    platform: "linux",
    rtp: true,
    rtpSizes: new Set([68]),
    exportEvents: false,
  })!;
  assert.equal(interesting(sized, other, exes), true, "size unknown");
  assert.equal(interesting(sized, other, { name: (p) => exes.name(p), size: () => 68 }), true);
  assert.equal(interesting(sized, other, { name: (p) => exes.name(p), size: () => 69 }), false);
});

Deno.test("interest: a rule's excluded process names gate its steps' patterns (none of them)", async () => {
  const { rules } = await loadRules(POLICIES, { requireRootOwned: false });
  const storm = rules.rules.find((r) => r.id === "linux.rewrite_storm")!;
  assert.ok(storm.excludeNames?.includes("tar") && storm.excludeNames.includes("npm"));
  const f = compileInterest([storm], { platform: "linux", rtp: false, exportEvents: false })!;
  const pats = f.get("close_modified");
  assert.ok(Array.isArray(pats) && pats.length > 0);
  for (const p of pats as PathPattern[]) assert.deepEqual(p.notNames, storm.excludeNames);
  // a descendant_of exclusion or another field gives no names
  assert.deepEqual(
    excludedNames([
      { any: [{ field: "process.name", in: ["a", "b"] }, { descendant_of: [] }] },
      { field: "process.name", eq: "c" },
      { field: "process.executable", eq: "/x/d" },
    ], undefined),
    ["a", "b", "c"],
  );
  assert.equal(excludedNames([{ descendant_of: [] }], undefined), undefined);
});
