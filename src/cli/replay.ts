/**
 * `bm replay TRACE`: offline verdicts for a JSONL trace, through the same
 * engine the daemon runs: the default settings' threshold and half-life in
 * block mode, or with `--config` the settings this machine's daemon runs with.
 */
import type { Command } from "./command.ts";
import { parseCommandArgs, printJson } from "./command.ts";
import { InputError, UsageError } from "../errors.ts";
import {
  defaultRulesDir,
  formatProblem as formatRuleProblem,
  loadRules,
} from "../engine/rule_loader.ts";
import { decodeTraceBytes, formatProblem, parseTrace, type TraceProblem } from "../sensor/trace.ts";
import { ESLOGGER_SCHEMA_VERSIONS, readEslogger } from "../sensor/eslogger.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine, type EngineOptions } from "../engine/engine.ts";
import { loadEffectiveConfigOrThrow } from "../config/load.ts";
import { engineOptions } from "../daemon/settings_map.ts";
import { FixedClock } from "../clock.ts";
import type { Verdict } from "../engine/verdict.ts";
import type { RuleAlert } from "../engine/rule_alert.ts";
import type { BmEvent } from "../sensor/event.ts";
import { displayPath } from "../sensor/path_codec.ts";
import { loadRtpBlocklist } from "../engine/rtp_blocklist.ts";
import { join } from "node:path";
import type { Platform } from "../engine/rule_set.ts";

const USAGE = `Usage: bm replay TRACE.jsonl|- [--format bm|eslogger] [--rules DIR]
                 [--platform linux|macos] [--output json] [--audit] [--forward-rtp]
                 [--config]

Replays a trace through the behavior engine and prints the verdicts. "-" reads
standard input.
  --format F       bm (default): a bm trace; eslogger: the JSON lines macOS's
                   eslogger prints (judged with the macos rules), e.g.
                   sudo eslogger exec fork exit create rename unlink close | bm replay --format eslogger -
  --rules DIR      rule pack (default: the installed pack); repeat for more packs
  --platform OS    linux or macos (default: the trace's bm.source, else this machine's)
  --output json    { "threats": [ { name, rule_ids, score, process, lineage, events } ],
                     "alerts": [ { rule_id, name, severity, score, time, process, ... } ] }
                   (an alert is one rule firing, below the threshold too)
  --audit          verdicts as in audit mode (blockExecution disabled): report only
  --forward-rtp    forwardRtpToBm with the pack's rtp_blocklist.txt
  --config         judge with this machine's settings (managed and local, as the
                   daemon would: threshold, half-life, exclusions, allowed
                   threats, blockExecution, forwardRtpToBm) instead of the defaults
Bad trace lines are reported on stderr with their line number and skipped; the
verdicts of the good lines are still printed, and the exit code is then 2.
eslogger event types bm does not read are counted on stderr and skipped.`;

/** The platform the trace's events name in `bm.source`; undefined when none does. */
export function traceOs(events: readonly BmEvent[], file: string): Platform | undefined {
  let os: Platform | undefined;
  for (const e of events) {
    const src = e.bm?.source;
    if (src !== "linux" && src !== "macos") continue;
    if (os !== undefined && os !== src) {
      throw new InputError(`Trace "${file}" mixes linux and macos events: pass --platform`);
    }
    os = src;
  }
  return os;
}

function traceForm(e: BmEvent): Record<string, unknown> {
  return { ...e, "@timestamp": new Date(e["@timestamp"]).toISOString() };
}

/** One rule firing as `bm replay --output json` prints it (times as ISO text). */
export function alertJson(a: RuleAlert): Record<string, unknown> {
  return {
    rule_id: a.rule_id,
    name: a.name,
    severity: a.severity,
    score: a.score,
    techniques: a.techniques,
    tactics: a.tactics,
    time: new Date(a.time).toISOString(),
    process: a.process,
    lineage: a.lineage,
    events: a.events.map(traceForm),
  };
}

export function threatJson(v: Verdict): Record<string, unknown> {
  return {
    name: v.name,
    rule_ids: v.rule_ids,
    score: Math.round(v.score * 100) / 100,
    process: { pid: v.process.pid, path: v.process.executable, argv: v.process.args },
    lineage: v.lineage,
    events: v.events.map(traceForm),
  };
}

/**
 * The bytes of a trace file, or of standard input for "-". Only a regular
 * file (or, for "-", a pipe, a socket, a file or a terminal) is read: a
 * device or a FIFO given by name would be read forever.
 */
export async function readTraceBytes(trace: string): Promise<Uint8Array> {
  if (trace === "-") {
    const st = await Deno.stat("/dev/stdin").catch(() => undefined);
    if (st !== undefined && (st.isCharDevice || st.isBlockDevice) && !Deno.stdin.isTerminal()) {
      throw new InputError(`Cannot read standard input: a device, not a trace`);
    }
    return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
  }
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(trace);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new InputError(`Cannot read "${trace}": ${why}`);
  }
  if (!st.isFile) throw new InputError(`Cannot read "${trace}": not a regular file`);
  try {
    return await Deno.readFile(trace);
  } catch (e) {
    throw new InputError(`Cannot read "${trace}": ${(e as Error).message}`);
  }
}

/**
 * The text of a trace: lines that are not valid UTF-8 are reported (with
 * their numbers, to stderr) and read as empty lines.
 */
export async function readTraceText(trace: string): Promise<{ text: string; bad: TraceProblem[] }> {
  const { text, problems } = decodeTraceBytes(await readTraceBytes(trace));
  return { text, bad: problems };
}

/**
 * An eslogger recording as a parsed trace: its events, its bad lines as
 * problems; unknown and unused event types are counted on stderr. An unknown
 * schema version refuses the whole input.
 */
export function esloggerTrace(
  text: string,
  file: string,
): { events: BmEvent[]; problems: TraceProblem[] } {
  const r = readEslogger(text);
  if (r.badVersion) {
    throw new InputError(
      `Unsupported eslogger schema_version ${r.badVersion.version} in "${file}" line ${r.badVersion.line}: bm reads version ${
        ESLOGGER_SCHEMA_VERSIONS.join(", ")
      }`,
    );
  }
  const counts = (m: Record<string, number>) =>
    Object.entries(m).map(([k, n]) => `${k} ${n}`).join(", ");
  if (Object.keys(r.unknown).length) {
    console.error(`Skipped eslogger event types bm does not read: ${counts(r.unknown)}`);
  }
  return { events: r.events, problems: r.problems };
}

export const replayCommand: Command = {
  name: "replay",
  summary: "replay a JSONL trace through the engine and print verdicts",
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs("replay", {
      args,
      allowPositionals: true,
      options: {
        rules: { type: "string", multiple: true },
        format: { type: "string" },
        platform: { type: "string" },
        output: { type: "string" },
        audit: { type: "boolean" },
        "forward-rtp": { type: "boolean" },
        config: { type: "boolean" },
      },
    }, (detail) => `${detail}: run "bm replay --help"`);
    if (positionals.length !== 1) throw new UsageError(`"bm replay" needs one TRACE file`);
    if (values.output !== undefined && values.output !== "json") {
      throw new UsageError(`Unknown output format "${values.output}": only "json"`);
    }
    if (
      values.platform !== undefined && values.platform !== "linux" && values.platform !== "macos"
    ) {
      throw new UsageError(`Unknown platform "${values.platform}": linux or macos`);
    }
    const format = values.format ?? "bm";
    if (format !== "bm" && format !== "eslogger") {
      throw new UsageError(`Unknown trace format "${format}": bm or eslogger`);
    }
    const trace = positionals[0]!;
    const { text, bad } = await readTraceText(trace);
    const packs = values.rules ?? [defaultRulesDir()];
    const rulesDir = packs[0]!;
    const { rules, problems } = await loadRules(packs, {
      requireRootOwned: false,
      checkTests: false,
    });
    if (problems.length > 0) {
      for (const p of problems) console.error(formatRuleProblem(p));
      throw new InputError(`Rules not loaded: ${problems.length} problems`);
    }
    const parsedTrace = format === "eslogger"
      ? esloggerTrace(text, trace)
      : parseTrace(text, trace);
    parsedTrace.problems.push(...bad);
    parsedTrace.problems.sort((a, b) => a.line - b.line);
    for (const p of parsedTrace.problems) console.error(formatProblem(trace, p));
    const events = parsedTrace.events;
    const platform = (values.platform as Platform | undefined) ??
      (format === "eslogger" ? "macos" : undefined) ?? traceOs(events, trace) ??
      (Deno.build.os === "darwin" ? "macos" : "linux");
    const base: EngineOptions = values.config
      ? engineOptions((await loadEffectiveConfigOrThrow()).settings)
      : DEFAULT_ENGINE_OPTIONS;
    const forwardRtp = values["forward-rtp"] === true ||
      (values.config === true && base.forwardRtp);
    const blocklistPath = join(rulesDir, "rtp_blocklist.txt");
    // As in the daemon, a pack without a blocklist has no hashes to match;
    // asked for by --forward-rtp, the file must be there.
    const rtpBlocklist = forwardRtp && (values["forward-rtp"] === true || exists(blocklistPath))
      ? await loadRtpBlocklist(blocklistPath, { requireRootOwned: false })
      : new Set<string>();
    const engine = new Engine(
      rules,
      {
        ...base,
        platform,
        mode: values.audit ? "audit" : base.mode,
        forwardRtp,
        rtpBlocklist,
      },
      new FixedClock(events[0]?.["@timestamp"] ?? 0),
    );
    const verdicts: Verdict[] = [];
    const alerts: RuleAlert[] = [];
    for (const e of events) {
      const out = engine.process(e);
      verdicts.push(...out.verdicts);
      alerts.push(...out.alerts);
    }
    // Bad lines are bad input (exit 2), but the good lines' verdicts are still shown.
    const code = parsedTrace.problems.length > 0 ? 2 : 0;
    if (code !== 0) {
      console.error(`${parsedTrace.problems.length} bad lines skipped in "${trace}"`);
    }
    if (values.output === "json") {
      printJson({ threats: verdicts.map(threatJson), alerts: alerts.map(alertJson) });
      return code;
    }
    for (const v of verdicts) {
      console.log(`${v.name}  score ${Math.round(v.score)}  ${v.mode}`);
      console.log(
        `  process  ${v.process.pid} ${displayPath(v.process.executable)} ${
          v.process.args.join(" ")
        }`,
      );
      console.log(`  rules    ${v.rule_ids.join(", ")}`);
      console.log(
        `  lineage  ${v.lineage.map((l) => `${l.pid}:${displayPath(l.executable)}`).join(" > ")}`,
      );
      console.log(`  actions  ${v.actions.map((a) => a.type).join(", ")}`);
    }
    for (const a of alerts) {
      console.log(
        `alert  ${a.severity.padEnd(8)} +${a.score}  ${a.rule_id}  ${a.process.pid} ${
          displayPath(a.process.executable)
        }`,
      );
    }
    console.log(`${verdicts.length} threats from ${events.length} events`);
    console.log(`${alerts.length} alerts (rule firings, below the threshold too)`);
    return code;
  },
};

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
