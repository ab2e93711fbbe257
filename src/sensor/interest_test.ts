/**
 * The library's interest filter (dylib/common/interest.c, through the
 * synthetic sensor) and `interesting` decide alike: every event of the pack's
 * traces, with the pack's filter and with hand-made edge cases.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SyntheticBinding } from "../../ffi/synthetic_test_utils.ts";
import { encodeRecord } from "../../ffi/record_encoder_test_utils.ts";
import { FLAG, STR } from "../../ffi/symbols.ts";
import { compileInterest } from "../engine/interest.ts";
import { loadRules } from "../engine/rule_loader.ts";
import { type BmEvent, EVENT_ACTIONS, type EventAction } from "./event.ts";
import { ExeTracker, type InterestFilter, interestSpec, type PathPattern } from "./interest.ts";
import { parseTrace } from "./trace.ts";
import { HeldEvents } from "./held_events_test_utils.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const POLICIES = join(ROOT, "policies");

function record(e: BmEvent): Uint8Array<ArrayBuffer> {
  const f = (e as { file?: { path?: string; target_path?: string; mode?: number; size?: number } })
    .file;
  const strings: [number, string][] = [];
  if (e.process.executable !== undefined) strings.push([STR.executable, e.process.executable]);
  if (f?.path !== undefined) strings.push([STR.path, f.path]);
  if (f?.target_path !== undefined) strings.push([STR.targetPath, f.target_path]);
  return encodeRecord({
    kind: EVENT_ACTIONS.indexOf(e.event.action) + 1,
    flags: e.bm?.auth_id !== undefined ? FLAG.auth : 0,
    pid: e.process.pid,
    ppid: e.process.parent?.pid ?? -1,
    fileMode: f?.mode ?? 0,
    fileSize: f?.size ?? -1,
    start: e.process.start ?? 0,
    strings,
  });
}

function proc(action: string, pid: number, ppid: number, executable?: string): BmEvent {
  return {
    "@timestamp": 0,
    event: { action },
    process: { pid, parent: { pid: ppid }, ...(executable ? { executable } : {}) },
  } as unknown as BmEvent;
}

function ev(
  action: string,
  path?: string,
  target?: string,
  auth = false,
  mode = 0,
  pid = 7,
  size?: number,
): BmEvent {
  const file: Record<string, string | number> = {};
  if (path !== undefined) file.path = path;
  if (target !== undefined) file.target_path = target;
  if (mode) file.mode = mode;
  if (size !== undefined) file.size = size;
  return {
    "@timestamp": 0,
    event: { action },
    process: { pid },
    ...(path !== undefined ? { file } : {}),
    ...(auth ? { bm: { auth_id: 1 } } : {}),
  } as unknown as BmEvent;
}

Deno.test({
  name: "interest: the library and interesting() keep the same events",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const { rules } = await loadRules(POLICIES, { requireRootOwned: false });
    const events: BmEvent[] = [];
    for (const dir of [join(POLICIES, "tests", "linux"), join(POLICIES, "tests", "macos")]) {
      for (const e of Deno.readDirSync(dir)) {
        if (!e.name.endsWith(".jsonl")) continue;
        const file = join(dir, e.name);
        events.push(...parseTrace(Deno.readTextFileSync(file), file).events);
      }
    }
    const long = "/etc/" + "a".repeat(5000);
    // files of a blocklisted size (68) and of another, and one that is gone
    const dir = Deno.makeTempDirSync({ prefix: "bm_interest_" });
    const f68 = join(dir, "s68"), f5 = join(dir, "s5"), gone = join(dir, "gone");
    Deno.writeFileSync(f68, new Uint8Array(68));
    Deno.writeFileSync(f5, new Uint8Array(5));
    const cm = (pid: number, path: string, size?: number) =>
      ev("close_modified", path, undefined, false, 0, pid, size);
    const handMade = new Map<BmEvent, boolean>();
    const x = (e: BmEvent, want: boolean) => (handMade.set(e, want), e);
    events.push(
      ev("create", "/etc/cron.d/x"),
      ev("create", "/tmp/x"),
      ev("create", "/tmp/x", undefined, true),
      ev("rename", "/tmp/a", "/etc/cron.d/a"),
      ev("rename", "/tmp/a", "/tmp/b"),
      ev("unlink", "/home/u/.bashrc"),
      ev("unlink", "/home/u/.bashrc.bak"),
      ev("unlink", long),
      ev("unlink", long.slice(0, 4096)),
      ev("close_modified", "/tmp/\u00e9t\u00e9.so"),
      ev("close_modified", "/tmp/\u00e9t\u00e9.sox"),
      ev("close_modified"),
      ev("fork"),
      ev("launch_item_add", "/Library/LaunchDaemons/x.plist"),
      ev("create", "/home/u/HOW_TO_decrypt.TXT"),
      ev("create", "/home/u/how_to_decrypt.txt.gz"),
      ev("create", "/home/u/notes.txt"),
      ev("create", "/home/u/\u00c9t\u00e9.txt"),
      ev("create", "/tmp/suid", undefined, false, 0o104755),
      ev("create", "/tmp/plain", undefined, false, 0o100755),
      ev("create", "/var/a/.hidden/x"),
      ev("create", "/var/a\\\\b"), // a backslash in the text form
      proc("exec", 500, 1, "/tmp/self"),
      ev("unlink", "/tmp/self", undefined, false, 0, 500),
      ev("unlink", "/tmp/other", undefined, false, 0, 500),
      proc("fork", 501, 500),
      ev("unlink", "/tmp/self", undefined, false, 0, 501),
      ev("unlink", "/tmp/other", undefined, false, 0, 501),
      proc("exit", 500, 1),
      ev("unlink", "/tmp/other", undefined, false, 0, 500),
      ev("create", "/var/a\\xffb"), // a byte that is not UTF-8, in the text form
      // process names (the base name of the executable the records gave) and file sizes; the
      // hand-made filter below keeps cp, dd anywhere, bash in /etc/ and files of 68 or 73 bytes
      // in dir, and each event says whether it passes that filter
      x(cm(600, "/tmp/x"), true), // nothing known of pid 600 yet
      proc("exec", 600, 1, "/usr/bin/cp"),
      x(cm(600, "/tmp/x"), true),
      x(cm(600, "/etc/sysctl.d/x"), true),
      proc("exec", 600, 1, "/usr/bin/tar"),
      x(cm(600, "/tmp/x"), false),
      x(cm(600, "/etc/sysctl.d/x"), false),
      x(cm(600, f68), true),
      x(cm(600, f5), false),
      x(cm(600, gone), true), // cannot be stat'ed
      x(cm(600, f5, 68), true), // the record's own size first
      x(cm(600, f68, 5), false),
      // the agent finds such an event's process by entity id, or may take its executable
      x({ ...cm(600, "/tmp/x"), process: { pid: 600, start: 1234 } } as BmEvent, true),
      x(
        { ...cm(600, "/tmp/x"), process: { pid: 600, executable: "/usr/bin/tar" } } as BmEvent,
        true,
      ),
      proc("exec", 601, 1, "/bin/bash"),
      x(cm(601, "/etc/sysctl.d/x"), true),
      x(cm(601, "/tmp/x"), false),
      proc("fork", 602, 601),
      x(cm(602, "/etc/sysctl.d/x"), true),
      x(cm(602, "/tmp/x"), false),
      proc("exit", 602, 601),
      x(cm(602, "/tmp/x"), false), // written before its exit, read after: still bash's
      x(cm(602, "/etc/sysctl.d/x"), true),
      proc("fork", 602, 600), // the pid reused by tar's child
      x(cm(602, "/etc/sysctl.d/x"), false),
      { ...proc("exec", 603, 1), file: { path: "/usr/bin/gzip" }, bm: { auth_id: 9 } } as BmEvent,
      proc("fork", 603, 601), // overtaken by its held exec: ambiguous
      x(cm(603, "/tmp/x"), true),
      proc("exec", 603, 601, "/usr/bin/gzip"),
      x(cm(603, "/tmp/x"), false),
      proc("exec", 604, 1, "/usr/bin/c\u00e9"), // a name the library cannot compare: unknown
      x(cm(604, "/tmp/x"), true),
      proc("exec", 604, 1, "/usr/bin/a\\\\b"),
      x(cm(604, "/tmp/x"), true),
      x(ev("unlink", "/tmp/x", undefined, false, 0, 600), true),
      // held writes (the pack holds wget's writes in /var/tmp until an exec of the file): b is
      // deleted first and forgotten, a comes back before its exec, the exit says wget wrote some
      proc("exec", 700, 1, "/usr/bin/wget"),
      cm(700, "/var/tmp/bm_hold_a"),
      cm(700, "/var/tmp/bm_hold_b"),
      cm(700, "/var/tmp/bm_hold_a"), // the same writer again: one held record
      ev("unlink", "/var/tmp/bm_hold_b", undefined, false, 0, 1),
      proc("exit", 700, 1),
      proc("exec", 701, 1, "/var/tmp/bm_hold_b"),
      {
        ...proc("exec", 702, 1),
        file: { path: "/var/tmp/bm_hold_a" },
        bm: { auth_id: 10 },
      } as BmEvent,
      proc("exec", 702, 1, "/var/tmp/bm_hold_a"), // its notify exec: nothing held any more
      // "none of these names" (a rule's exclude): tar's write in /srv is dropped, vim's and an
      // unknown process's pass
      proc("exec", 800, 1, "/usr/bin/tar"),
      x(cm(800, "/srv/a"), false),
      proc("exec", 801, 1, "/usr/bin/vim"),
      x(cm(801, "/srv/a"), true),
      x(cm(802, "/srv/a"), true),
    );
    const filters: [string, InterestFilter][] = [
      [
        "pack linux",
        compileInterest(rules.rules, { platform: "linux", rtp: false, exportEvents: false })!,
      ],
      [
        "pack macos",
        compileInterest(rules.rules, { platform: "macos", rtp: true, exportEvents: false })!,
      ],
      [
        "pack linux, RTP with a sized blocklist",
        compileInterest(rules.rules, {
          platform: "linux",
          rtp: true,
          rtpSizes: new Set([68, 73]),
          exportEvents: false,
        })!,
      ],
      [
        "hand-made",
        new Map<EventAction, "all" | PathPattern[]>([
          ["exec", "all"],
          ["rename", [{ prefix: "/etc/", suffix: "" }]],
          ["unlink", [{ prefix: "/home/", suffix: "/.bashrc" }, { prefix: "/etc/", suffix: "z" }]],
          ["close_modified", [{ prefix: "/tmp/", suffix: "\u00e9.so" }]],
          ["open", [{ prefix: "/a\tb", suffix: "" }]], // unusable: the whole kind passes
          ["create", [
            { prefix: "/etc/", suffix: "" },
            { prefix: "", suffix: ".txt", contains: "decrypt", fold: true },
            { prefix: "/tmp/", suffix: "", modeAny: 0o4000 },
            { prefix: "/var/", suffix: "", contains: "/." },
          ]],
          ["exec", "all"],
          ["fork", "all"],
          ["exit", "all"],
          ["unlink", [{ prefix: "", suffix: "", exe: true }]],
        ]),
      ],
      [
        "hand-made names and sizes",
        new Map<EventAction, "all" | PathPattern[]>([
          ["exec", "all"],
          ["fork", "all"],
          ["exit", "all"],
          ["close_modified", [
            { prefix: "", suffix: "", names: ["cp", "dd", "c\u00e9", "a/b", ""] },
            { prefix: "/etc/", suffix: "", names: ["bash"] },
            { prefix: dir, suffix: "", sizes: [73, 68] },
            { prefix: "/srv/", suffix: "", notNames: ["tar", "cpio"] },
          ]],
          // a name with a separator of the spec: no gate
          ["unlink", [{ prefix: "", suffix: "", names: ["a\tb"] }]],
        ]),
      ],
    ];
    const open = () =>
      SyntheticBinding.openSynthetic({
        config: "own_pid=1\nnotify_latency_ms=0\nauth_deadline_ms=600000\n",
      });
    // a sensor and a tracker per filter: both learn executables from the records from then on
    for (const [name, f] of filters) {
      const b = open();
      const exes = new ExeTracker();
      try {
        b.setInterest(interestSpec(f));
        let kept = 0, released = 0;
        // the library's hold table as modelled: held writes come back before an exec of their file
        const hold = new HeldEvents(f, {
          exe: (pid) => exes.exe(pid),
          name: (pid) => exes.name(pid),
          size: (path) => {
            try {
              return Deno.lstatSync(path).size;
            } catch {
              return undefined;
            }
          },
        });
        for (const e of events) {
          const outs = hold.offer(e);
          const want = outs.some((o) => o.event === e.event && o.process === e.process);
          for (const o of outs) exes.observe(o);
          const got = b.inject(record(e), 1) === 1;
          const drained = b.drain() ?? [];
          for (const d of drained) {
            if (d.bm?.auth_id !== undefined) b.respond(d.bm.auth_id, true, false);
          }
          const what = `${name}: ${JSON.stringify(e.event)} ${
            JSON.stringify(e.process)?.slice(0, 100)
          } ${JSON.stringify((e as { file?: unknown }).file)?.slice(0, 200)}`;
          assert.equal(got, want, what);
          const shape = (x: BmEvent) =>
            JSON.stringify([
              x.event.action,
              x.process.pid,
              // a held write comes back with the exec's path (the decoder's text form elsewhere)
              x.bm?.late ? (x as { file?: { path?: string } }).file?.path : undefined,
              x.bm?.late ?? false,
              x.bm?.held_writes ?? false,
            ]);
          assert.deepEqual(drained.map(shape), outs.map(shape), what);
          if (outs.some((o) => o.bm?.late)) released++;
          if (name === "hand-made names and sizes" && handMade.has(e)) {
            assert.equal(got, handMade.get(e), `${JSON.stringify(e)}`);
          }
          if (got) kept++;
        }
        assert.ok(kept > 0 && kept < events.length, `${name}: kept ${kept} of ${events.length}`);
        if (name === "pack linux") assert.equal(released, 1, `${name}: held writes sent`);
      } finally {
        await b.close();
      }
    }
    Deno.removeSync(dir, { recursive: true });
    const b = open();
    try {
      assert.throws(() => b.setInterest("x\t\t\n"), /Bad interest filter line 1/);
      b.setInterest("6\t/etc/\t\n");
      assert.equal(b.inject(record(ev("create", "/tmp/x")), 1), 0);
      assert.equal(b.stats().filtered, 1);
      b.setInterest(null);
      assert.equal(b.inject(record(ev("create", "/tmp/x")), 1), 1);
    } finally {
      await b.close();
    }
  },
});
