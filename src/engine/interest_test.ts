/**
 * The interest filter compiled from rules (interest.ts): its patterns, and
 * no loss of detection: every trace of the pack (each rule's own tests and
 * the recorded benign corpora), replayed with and without the filter, gives
 * the same firings and verdicts, per rule and with the whole pack loaded.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileInterest, regexPatterns, stepPaths } from "./interest.ts";
import { loadRules } from "./rule_loader.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine, type EngineOptions } from "./engine.ts";
import type { CompiledRule, Platform } from "./rule_set.ts";
import { FixedClock } from "../clock.ts";
import { parseTrace } from "../sensor/trace.ts";
import type { BmEvent } from "../sensor/event.ts";
import { ExeTracker, type InterestFilter, interesting } from "../sensor/interest.ts";

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

Deno.test("interest: the process table's kinds pass whole; RTP takes every written file; export turns it off", async () => {
  const { rules } = await loadRules(POLICIES, { requireRootOwned: false });
  const f = compileInterest(rules.rules, { platform: "linux", rtp: false, exportEvents: false })!;
  for (const a of ["exec", "fork", "exit"] as const) assert.equal(f.get(a), "all");
  const withRtp = compileInterest([], { platform: "linux", rtp: true, exportEvents: false })!;
  assert.equal(withRtp.get("close_modified"), "all");
  assert.equal(withRtp.get("create"), undefined);
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
      let dropped = 0, total = 0;
      const check = (
        what: string,
        rs: readonly CompiledRule[],
        f: InterestFilter,
        ev: BmEvent[],
      ) => {
        // the executables the agent knows as it reads the events (for `exe` patterns)
        const exes = new ExeTracker();
        const kept = ev.filter((e) => {
          const keep = interesting(f, e, exes);
          if (keep) exes.observe(e);
          return keep;
        });
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
    });
  }
}
