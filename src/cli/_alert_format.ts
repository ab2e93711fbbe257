/** Text renderings for `bm alert list|show`. */
import type { Alert, AlertSummary } from "../store/alert.ts";
import { commandLine, eventText, iso, lineageLine, table } from "./_threat_format.ts";
import { displayPath } from "../sensor/path_codec.ts";

export function alertTable(alerts: AlertSummary[]): string {
  if (alerts.length === 0) return "No alerts";
  return table(
    ["ID", "LAST SEEN", "SEVERITY", "COUNT", "NAME", "THREAT", "PROCESS"],
    alerts.map((a) => [
      a.id,
      iso(a.last_seen),
      a.severity,
      String(a.count),
      a.name,
      a.threat_id ?? "-",
      `${displayPath(a.process.executable)} (pid ${a.process.pid})`,
    ]),
  );
}

export function alertDetail(a: Alert): string {
  const user = a.process.user !== undefined ? `, uid ${a.process.user.id}` : "";
  const out: string[] = [
    `Alert ${a.id}`,
    `  Rule:       ${a.rule_id} (${a.name})`,
    `  Severity:   ${a.severity}`,
    `  Score:      ${a.score} (added to the process and its lineage)`,
    `  Seen:       ${iso(a.first_seen)} .. ${iso(a.last_seen)} (${a.count} ${
      a.count === 1 ? "firing" : "firings"
    })`,
    `  Techniques: ${a.techniques.join(", ") || "-"}`,
    `  Tactics:    ${a.tactics.join(", ") || "-"}`,
    `  Process:    ${
      commandLine(a.process.executable, a.process.args)
    } (pid ${a.process.pid}${user})`,
    `  Threat:     ${a.threat_id ?? "none (the lineage did not cross the threshold)"}`,
    "",
    "Lineage (root first):",
  ];
  a.lineage.forEach((p, depth) => {
    out.push(lineageLine(p, depth, p.entity_id === a.process.entity_id ? "firing" : undefined));
  });
  out.push("", "Events:");
  a.events.forEach((e, i) => out.push(`  #${i}  ${eventText(e)}`));
  return out.join("\n");
}
