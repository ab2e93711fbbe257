/** Text renderings for `bm threat list|show|quarantine list`. */
import type { BmEvent } from "../sensor/event.ts";
import type { LineageEntry } from "../engine/verdict.ts";
import type { QuarantineEntry, Threat, ThreatSummary } from "../store/threat.ts";
import { displayPath } from "../sensor/path_codec.ts";

export function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

function processText(p: { pid: number; executable: string }): string {
  return `${displayPath(p.executable)} (pid ${p.pid})`;
}

export function threatTable(threats: ThreatSummary[]): string {
  if (threats.length === 0) return "No threats";
  return table(
    ["ID", "NAME", "TYPE", "DETECTED", "STATUS", "PROCESS"],
    threats.map((t) => [
      t.id,
      t.name,
      t.type,
      iso(t.detection_time),
      t.status,
      processText(t.process),
    ]),
  );
}

export function quarantineTable(entries: QuarantineEntry[]): string {
  if (entries.length === 0) return "No files in quarantine";
  return table(
    ["ENTRY", "THREAT", "QUARANTINED", "SIZE", "OWNER", "MODE", "SHA256", "ORIGINAL PATH"],
    entries.map((q) => [
      q.id,
      q.threat_id,
      iso(q.quarantined_time),
      String(q.size),
      `${q.uid}:${q.gid}`,
      q.mode.toString(8).padStart(4, "0"),
      q.sha256.slice(0, 16),
      displayPath(q.original_path),
    ]),
  );
}

/**
 * The executable (text form of path_codec.ts, controls escaped) and the
 * arguments after argv[0], JSON-quoted when they hold a space, a quote or a
 * control character, so one line stays one line.
 */
export function commandLine(executable: string, args: string[] | undefined): string {
  const rest = (args ?? []).slice(1).map((
    a,
  ) => (NEEDS_QUOTES.test(a) || a === "" ? JSON.stringify(a) : a));
  return [displayPath(executable), ...rest].join(" ");
}

// Whitespace, quotes and control characters (C0, DEL, C1).
// deno-lint-ignore no-control-regex
const NEEDS_QUOTES = /[\s"'\u0000-\u001f\u007f-\u009f]/;

export function eventText(e: BmEvent): string {
  const parts = [iso(e["@timestamp"]), e.event.action.padEnd(14), `pid ${e.process.pid}`];
  if (e.process.executable) parts.push(displayPath(e.process.executable));
  if ("file" in e && e.file) {
    parts.push(`file ${displayPath(e.file.path)}`);
    if (e.file.target_path) parts.push(`-> ${displayPath(e.file.target_path)}`);
  }
  if (e.event.action === "exec" && e.process.args) {
    parts.push(`args ${JSON.stringify(e.process.args)}`);
  }
  if (e.process.script !== undefined) parts.push(`script ${displayPath(e.process.script)}`);
  if (e.process.env_vars?.length) parts.push(`env ${JSON.stringify(e.process.env_vars)}`);
  if (e.bm?.auth_id !== undefined) parts.push("[auth]");
  return parts.join("  ");
}

/**
 * One process of a lineage tree (root first), indented under its parent;
 * `role` names the process the alert or threat is about ("<= ROLE process").
 */
export function lineageLine(p: LineageEntry, depth: number, role: string | undefined): string {
  const pad = depth === 0 ? "  " : "  " + "   ".repeat(depth - 1) + "└─ ";
  const facts = [`pid ${p.pid}`, `started ${iso(p.start)}`];
  if (p.uid !== undefined) facts.push(`uid ${p.uid}`);
  if (p.exited) facts.push("exited");
  const mark = role !== undefined ? `  <= ${role} process` : "";
  return `${pad}${commandLine(p.executable, p.args)} (${facts.join(", ")})${mark}`;
}

/** The explanation (invariant 5): facts, lineage tree with rule hits, score path, events, actions. */
export function threatDetail(t: Threat, quarantine: QuarantineEntry[]): string {
  const out: string[] = [
    `Threat ${t.id}`,
    `  Name:       ${t.name}`,
    `  Type:       ${t.type}`,
    `  Status:     ${t.status}`,
    `  Severity:   ${t.severity}`,
    `  Detected:   ${iso(t.detection_time)} (mode ${t.mode})`,
    `  Score:      ${t.score} (threshold ${t.threshold})`,
    `  Techniques: ${t.techniques.join(", ") || "-"}`,
    `  Tactics:    ${t.tactics.join(", ") || "-"}`,
    `  Rules:      ${t.rule_ids.join(", ")}`,
    `  Process:    ${commandLine(t.process.executable, t.process.args)} (pid ${t.process.pid})`,
    ...(t.process.env_vars?.length ? [`  Env:        ${JSON.stringify(t.process.env_vars)}`] : []),
    "",
    "Lineage (root first; rule hits under the process they matched):",
  ];
  t.lineage.forEach((p, depth) => {
    out.push(lineageLine(p, depth, p.entity_id === t.process.entity_id ? "acting" : undefined));
    const under = " ".repeat(depth === 0 ? 4 : 3 * depth + 4);
    for (const h of t.hits.filter((h) => h.entity_id === p.entity_id)) {
      const evs = h.event_indexes.map((i) => `#${i}`).join(" ");
      out.push(`${under}* rule ${h.rule_id} +${h.score} at ${iso(h.time)} (events ${evs})`);
    }
  });
  const placed = new Set(t.lineage.map((p) => p.entity_id));
  for (const h of t.hits.filter((h) => !placed.has(h.entity_id))) {
    out.push(`  * rule ${h.rule_id} +${h.score} at ${iso(h.time)} on ${h.entity_id}`);
  }
  out.push("", "Score path:");
  for (const s of t.score_path) {
    out.push(
      `  ${iso(s.time)}  ${s.rule_id}  ${s.before} + ${s.added} = ${s.after}  (${s.entity_id})`,
    );
  }
  out.push("", "Events:");
  t.events.forEach((e, i) => out.push(`  #${i}  ${eventText(e)}`));
  out.push("", "Actions:");
  if (t.actions.length === 0) out.push("  none recorded");
  for (const a of t.actions) {
    out.push(
      `  ${iso(a.time)}  ${a.type}  ${displayPath(a.target)}  ${a.result}${
        a.detail ? `: ${displayPath(a.detail)}` : ""
      }`,
    );
  }
  if (quarantine.length > 0) {
    out.push("", "Quarantine:");
    for (const q of quarantine) {
      const state = q.restored_time !== undefined
        ? `restored to ${displayPath(q.restored_path ?? "")} at ${iso(q.restored_time)}`
        : "in vault";
      out.push(`  ${q.id}  ${displayPath(q.original_path)}  sha256 ${q.sha256}  ${state}`);
    }
  }
  return out.join("\n");
}
