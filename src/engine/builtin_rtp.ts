/**
 * The built-in forwarded-RTP rule (forwardRtpToBm): when real-time
 * protection's blocklist names the hash of a file a process ran or wrote,
 * the engine feeds a synthetic `rtp_verdict` event for that process, and this
 * rule scores it unless the pack has its own `rtp_verdict` rule.
 */
import type { BmEvent } from "../sensor/event.ts";
import type { Proc } from "./process_table.ts";
import type { CompiledRule, Platform } from "./rule_set.ts";

/** The rule scoring `rtp_verdict` events when no pack rule does. */
export function builtinRtpRule(platform: Platform, score: number): CompiledRule {
  const os = platform === "linux" ? "Linux" : "MacOS";
  return {
    id: "builtin.rtp_forward",
    name: `Behavior:${os}/RtpForward.A`,
    description: "Real-time protection flagged a file this process wrote or ran",
    platforms: [platform],
    severity: "medium",
    score,
    techniques: [],
    tactics: [],
    maxspanMs: 0,
    actions: [{ type: "report" }],
    excluded: undefined,
    steps: [{
      actions: ["rtp_verdict"],
      pred: () => true,
      relations: ["same"],
      of: 0,
      count: 1,
      distinct: undefined,
      group: "entity",
      captures: [],
      needs: 0,
    }],
    orders: undefined,
    tests: { positive: [], negative: [] },
    file: "<builtin>",
    line: 0,
  };
}

/** True when some rule of the pack already scores `rtp_verdict` events. */
export function packScoresRtp(rules: readonly CompiledRule[]): boolean {
  return rules.some((r) => r.steps.some((s) => s.actions.includes("rtp_verdict")));
}

/**
 * The `rtp_verdict` event for `ev` when it execs or finishes writing a file
 * whose SHA-256 is on the blocklist; undefined otherwise.
 */
export function rtpVerdictEvent(
  ev: BmEvent,
  proc: Proc,
  blocklist: ReadonlySet<string>,
): BmEvent | undefined {
  const action = ev.event.action;
  if ((action !== "exec" && action !== "close_modified") || blocklist.size === 0) return undefined;
  const file = (ev as { file?: { path: string; hash?: { sha256?: string } } }).file;
  const h = file?.hash?.sha256?.toLowerCase();
  if (file === undefined || h === undefined || !blocklist.has(h)) return undefined;
  const synth: BmEvent = {
    "@timestamp": ev["@timestamp"],
    event: { action: "rtp_verdict" },
    process: { pid: proc.pid, entity_id: proc.entity_id, start: proc.start },
    file,
    bm: { source: "engine", rtp_threat: `sha256:${h}` },
  };
  if (proc.executable !== "") synth.process.executable = proc.executable;
  return synth;
}
