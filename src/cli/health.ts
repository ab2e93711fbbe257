/**
 * `bm health [--field NAME] [--details features] [--output json]`: the
 * agent's status in mdatp's shape. Asks the running daemon over the control
 * socket; without one, reports what it can from the configuration, the rule
 * pack and the threat store, and says the daemon is not running.
 */
import { loadEffectiveConfig } from "../config/load.ts";
import { systemClock } from "../clock.ts";
import { callDaemon, DaemonUnreachable } from "../daemon/control_socket.ts";
import { threatsByStatus } from "../daemon/health.ts";
import {
  buildHealth,
  featureDetails,
  formatHealth,
  formatValue,
  type HealthReport,
} from "../daemon/health.ts";
import { rulesVersion } from "../daemon/rules_version.ts";
import { enginePlatform } from "../daemon/settings_map.ts";
import { formatProblem, loadRules } from "../engine/rule_loader.ts";
import { rulePackDirs } from "../engine/rule_packs.ts";
import { UsageError } from "../errors.ts";
import { SqliteThreatStore } from "../store/threat_store.ts";
import { type Command, outputFormat, parseCommandArgs, printJson } from "./command.ts";

const USAGE = `Usage: bm health [--field NAME] [--details features] [--output json]

Prints the agent's status: healthy, health_issues, app_version,
behavior_monitoring (enabled, disabled or unavailable, with the reason),
real_time_protection_enabled, real_time_protection_subsystem, the settings
(values set by the managed file are marked [managed]), rules_version and
rules_count, and the counters: events, auth answered by the engine and by the
watchdog, dropped events, enrichment misses, the forwardRtpToBm scanner
(rtp_blocklist_entries, rtp_files_hashed, rtp_cache_hits, rtp_matches,
rtp_skipped: too big, not a regular file, a symlink or vanished;
rtp_queue_dropped; rtp_coalesced: a file written again by the same process
before its first write was hashed, hashed once; rtp_size_filtered: files not
hashed because no blocklist entry has their size), threats by status.
  --field NAME         print one field's value only
  --details features   every behavior-monitoring setting with its source
  --output json        one JSON document: {"fields": {...}, "sources": {...}}
Without a running daemon it reports what it can and says the daemon is not
running (counters are "unavailable").`;

export const healthCommand: Command = {
  name: "health",
  summary: "agent status: behavior monitoring, subsystem, rules, counters",
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const { values } = parseCommandArgs("health", {
      args,
      options: {
        field: { type: "string" },
        details: { type: "string" },
        output: { type: "string" },
      },
      strict: true,
    });
    outputFormat(values.output);
    if (values.details !== undefined && values.details !== "features") {
      throw new UsageError(`Unknown --details "${values.details}": only "features" is supported`);
    }
    const report = await healthReport(values.details);
    if (values.field !== undefined) {
      if (!(values.field in report.fields)) {
        throw new UsageError(
          `Unknown health field "${values.field}": one of ${Object.keys(report.fields).join(", ")}`,
        );
      }
      const v = report.fields[values.field]!;
      if (values.output === "json") printJson(v);
      else {console.log(
          formatValue(v) + (report.sources[values.field] === "managed" ? " [managed]" : ""),
        );}
      return 0;
    }
    if (values.output === "json") printJson(report);
    else console.log(formatHealth(report));
    return 0;
  },
};

/** From the daemon when it answers; else built offline. */
export async function healthReport(details?: string): Promise<HealthReport> {
  try {
    return await callDaemon("health", details ? { details } : {}) as HealthReport;
  } catch (e) {
    if (!(e instanceof DaemonUnreachable)) throw e;
    return await offlineHealth(e.reason, details);
  }
}

async function offlineHealth(reason: string, details?: string): Promise<HealthReport> {
  const cfg = await loadEffectiveConfig();
  if (details === "features") return featureDetails(cfg.settings, cfg.sources);
  const packs = rulePackDirs(cfg.settings.engine);
  const rules = await loadRules(packs, { requireRootOwned: Deno.uid() === 0, checkTests: false });
  let threats: Record<string, number> = {};
  let alerts: Record<string, number> | undefined;
  const issues: string[] = [];
  try {
    Deno.statSync(cfg.settings.store.path);
    const store = new SqliteThreatStore({
      path: cfg.settings.store.path,
      clock: systemClock,
      readOnly: true,
    });
    try {
      threats = threatsByStatus(store);
      alerts = store.alertCounts();
    } finally {
      store.close();
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      issues.push(`threat store unreadable: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const report = buildHealth({
    daemonRunning: false,
    daemonReason: reason,
    settings: cfg.settings,
    sources: cfg.sources,
    configErrors: cfg.errors,
    rulesVersion: (await Promise.all(packs.map((p) => rulesVersion(p, rules.sources)))).join(","),
    rulesCount: rules.rules.rules.filter((r) => r.platforms.includes(enginePlatform())).length,
    ruleErrors: rules.problems.map(formatProblem),
    threatsByStatus: threats,
    ...(alerts !== undefined ? { alertsBySeverity: alerts } : {}),
    now: systemClock.now(),
  });
  (report.fields.health_issues as string[]).push(...issues);
  return report;
}
