/**
 * `bm health`: the agent's status in mdatp's shape. The daemon builds the
 * report from its live state; without a daemon the CLI builds what it can
 * from the configuration, the rule pack and the threat store, and says the
 * daemon is not running.
 */
import type { UnsavedThreat } from "./agent.ts";
import type { RtpCounters } from "./rtp_scanner.ts";
import type { Settings, Source } from "../config/schema.ts";
import { behaviorMonitoringState } from "../config/behavior.ts";
import type { FilesystemMark, GuardianState, SensorStats } from "../sensor/sensor.ts";
import { VERSION } from "../version.ts";
import type { ThreatStore } from "../store/threat_store.ts";

/** One health field that mirrors a setting, so `[managed]` can be shown. */
const SETTING_FIELDS: Record<string, string> = {
  real_time_protection_enabled: "antivirusEngine.enforcementLevel",
  enforcement_level: "antivirusEngine.enforcementLevel",
  block_execution: "features.behaviorMonitoringConfigurations.blockExecution",
  notify_forks: "features.behaviorMonitoringConfigurations.notifyForks",
  forward_rtp_to_bm: "features.behaviorMonitoringConfigurations.forwardRtpToBm",
  avoid_open_cache: "features.behaviorMonitoringConfigurations.avoidOpenCache",
  log_level: "logging.level",
  event_export_enabled: "logging.eventExport.enabled",
};

export interface HealthInput {
  daemonRunning: boolean;
  /** Why the daemon could not be asked (when not running). */
  daemonReason?: string;
  settings: Settings;
  sources: Record<string, Source>;
  /** Config errors at the last (re)load; the last good settings stayed. */
  configErrors: string[];
  /** "fanotify", "endpoint_security", "replay" ... or undefined when no sensor runs. */
  subsystem?: string;
  /** Why the sensor is not running, when it should. */
  sensorUnavailable?: string;
  rulesVersion: string;
  rulesCount: number;
  ruleErrors: string[];
  sensorStats?: SensorStats;
  /** The guardian process, when the sensor has one (Linux with held events). */
  guardian?: GuardianState;
  /** What the sensor marks (Linux native sensor), undefined where marks do not apply. */
  filesystems?: FilesystemMark[] | undefined;
  threatsByStatus: Record<string, number>;
  /** Alerts kept, by severity. */
  alertsBySeverity?: Record<string, number>;
  /** The daemon's alert writer counters and the store's pruned count (daemon only). */
  alertCounters?: { suppressed: number; dropped: number; failures: number; pruned: number };
  /** Detections whose store write failed (never silent). */
  storeFailures?: number;
  /** The newest of them, as the agent kept them in memory (their actions were carried out). */
  unsavedThreats?: readonly UnsavedThreat[];
  /** forwardRtpToBm scanner counters and the loaded blocklist's size (daemon only). */
  rtp?: RtpCounters & { blocklistSize: number };
  startedAt?: number;
  now: number;
  lastReload?: { time: number; ok: boolean; reason?: string };
  pid?: number;
}

export type HealthValue =
  | string
  | number
  | boolean
  | string[]
  | Record<string, number>
  | Record<string, string>[]
  | null;

export interface HealthReport {
  /** Ordered fields as `bm health` prints them. */
  fields: Record<string, HealthValue>;
  /** Field name -> source of the setting it shows (only fields that mirror a setting). */
  sources: Record<string, Source>;
}

export function buildHealth(h: HealthInput): HealthReport {
  const s = h.settings;
  const bm = behaviorMonitoringState(s, h.sources);
  const issues: string[] = [];
  if (!h.daemonRunning) {
    issues.push(`daemon is not running${h.daemonReason ? `: ${h.daemonReason}` : ""}`);
  }
  let behavior: "enabled" | "disabled" | "unavailable";
  let behaviorReason: string | null = null;
  if (!bm.effective) {
    behavior = "disabled";
    behaviorReason = bm.reason ?? null;
  } else if (!h.daemonRunning) {
    behavior = "unavailable";
    behaviorReason = "the bm daemon is not running";
  } else if (h.sensorUnavailable !== undefined) {
    behavior = "unavailable";
    behaviorReason = h.sensorUnavailable;
    issues.push(`sensor unavailable: ${h.sensorUnavailable}`);
  } else {
    behavior = "enabled";
  }
  for (const e of h.configErrors) issues.push(`configuration error (last good kept): ${e}`);
  for (const e of h.ruleErrors) issues.push(`rule error (last good kept): ${e}`);
  if (h.daemonRunning && h.rulesCount === 0 && bm.effective) issues.push("no rules loaded");
  if (h.storeFailures) issues.push(`threat store write failures: ${h.storeFailures}`);
  if (h.alertCounters?.failures) {
    issues.push(`alert store write failures: ${h.alertCounters.failures}`);
  }
  if (h.guardian && h.guardian.pid === 0) {
    issues.push("guardian not running: held execs wait for the agent if it stops (restarting)");
  }

  const st = h.sensorStats;
  const counter = (n: number | undefined) => (st ? n ?? 0 : null);
  const fields: Record<string, HealthValue> = {
    healthy: issues.length === 0,
    health_issues: issues,
    app_version: VERSION,
    daemon_running: h.daemonRunning,
    pid: h.pid ?? null,
    uptime_seconds: h.startedAt !== undefined ? Math.round((h.now - h.startedAt) / 1000) : null,
    behavior_monitoring: behavior,
    ...(behaviorReason !== null ? { behavior_monitoring_reason: behaviorReason } : {}),
    real_time_protection_enabled: s.antivirusEngine.enforcementLevel === "real_time",
    real_time_protection_subsystem: h.subsystem ??
      (Deno.build.os === "darwin" ? "endpoint_security" : "fanotify"),
    enforcement_level: s.antivirusEngine.enforcementLevel,
    block_execution: s.features.behaviorMonitoringConfigurations.blockExecution,
    notify_forks: s.features.behaviorMonitoringConfigurations.notifyForks,
    forward_rtp_to_bm: s.features.behaviorMonitoringConfigurations.forwardRtpToBm,
    avoid_open_cache: s.features.behaviorMonitoringConfigurations.avoidOpenCache,
    log_level: s.logging.level,
    event_export_enabled: s.logging.eventExport.enabled,
    rules_version: h.rulesVersion,
    rules_count: h.rulesCount,
    events: counter(st?.events),
    auth_answered_by_engine: counter(st?.authByAgent),
    auth_answered_by_watchdog: counter(st?.authByWatchdog),
    auth_answered_by_fast_path: counter(st?.fastPathAnswers),
    auth_answered_ring_full: counter(st?.authRingFull),
    auth_answered_by_guardian: counter(st?.authByGuardian),
    answer_failures: counter(st?.answerFailures),
    guardian: h.guardian
      ? (h.guardian.pid ? `running (pid ${h.guardian.pid})` : "not running")
      : null,
    guardian_restarts: h.guardian ? st?.guardianRestarts ?? 0 : null,
    late_answers: counter(st?.lateAnswers),
    dropped: counter(st?.dropped),
    enrichment_misses: counter(st?.enrichmentMisses),
    env_misses: counter(st?.envMisses),
    events_filtered: counter(st?.filtered),
    events_held: counter(st?.heldRecords),
    events_held_released: counter(st?.heldReleased),
    events_held_forgotten: counter(st?.heldForgotten),
    events_hold_full: counter(st?.holdFull),
    marked_filesystems: h.filesystems
      ? h.filesystems.filter((f) => f.marked).map((f) => ({
        mount_point: f.mountPoint,
        type: f.type,
      }))
      : null,
    unmarked_filesystems: h.filesystems
      ? h.filesystems.filter((f) => !f.marked).map((f) => ({
        mount_point: f.mountPoint,
        type: f.type,
        reason: f.reason ?? "",
      }))
      : null,
    rtp_blocklist_entries: h.rtp?.blocklistSize ?? null,
    rtp_files_hashed: h.rtp?.filesHashed ?? null,
    rtp_cache_hits: h.rtp?.cacheHits ?? null,
    rtp_matches: h.rtp?.matches ?? null,
    rtp_skipped: h.rtp?.skipped ?? null,
    rtp_queue_dropped: h.rtp?.queueDropped ?? null,
    rtp_coalesced: h.rtp?.coalesced ?? null,
    rtp_size_filtered: h.rtp?.sizeFiltered ?? null,
    threats: h.threatsByStatus,
    alerts: h.alertsBySeverity ?? { low: 0, medium: 0, high: 0, critical: 0 },
    alerts_suppressed: h.alertCounters?.suppressed ?? null,
    alerts_dropped: h.alertCounters?.dropped ?? null,
    alerts_pruned: h.alertCounters?.pruned ?? null,
    ...(h.unsavedThreats?.length
      ? {
        unsaved_threats: h.unsavedThreats.map((u) =>
          `${new Date(u.time).toISOString()} ${u.name} pid ${u.pid} ${u.executable}: ${u.status} (${
            u.actions.join("; ")
          }): not recorded: ${u.error}`
        ),
      }
      : {}),
    ...(h.lastReload
      ? {
        last_reload: new Date(h.lastReload.time).toISOString(),
        last_reload_result: h.lastReload.ok ? "ok" : `failed: ${h.lastReload.reason ?? "unknown"}`,
      }
      : {}),
  };
  const sources: Record<string, Source> = {};
  for (const [field, key] of Object.entries(SETTING_FIELDS)) {
    const src = h.sources[key];
    if (src) sources[field] = src;
  }
  return { fields, sources };
}

/** The feature details (`--details features`): every behavior-monitoring setting. */
export function featureDetails(
  settings: Settings,
  sources: Record<string, Source>,
): HealthReport {
  const c = settings.features.behaviorMonitoringConfigurations;
  const keys: [string, string, HealthValue][] = [
    ["behavior_monitoring", "features.behaviorMonitoring", settings.features.behaviorMonitoring],
    [
      "antivirus_behavior_monitoring",
      "antivirusEngine.behaviorMonitoring",
      settings.antivirusEngine.behaviorMonitoring,
    ],
    [
      "enforcement_level",
      "antivirusEngine.enforcementLevel",
      settings.antivirusEngine.enforcementLevel,
    ],
    [
      "block_execution",
      "features.behaviorMonitoringConfigurations.blockExecution",
      c.blockExecution,
    ],
    ["notify_forks", "features.behaviorMonitoringConfigurations.notifyForks", c.notifyForks],
    [
      "forward_rtp_to_bm",
      "features.behaviorMonitoringConfigurations.forwardRtpToBm",
      c.forwardRtpToBm,
    ],
    [
      "avoid_open_cache",
      "features.behaviorMonitoringConfigurations.avoidOpenCache",
      c.avoidOpenCache,
    ],
    [
      "exclusions_merge_policy",
      "antivirusEngine.exclusionsMergePolicy",
      settings.antivirusEngine.exclusionsMergePolicy,
    ],
    [
      "exclusions",
      "antivirusEngine.exclusions",
      settings.antivirusEngine.exclusions.map((e) => JSON.stringify(e)),
    ],
    ["allowed_threats", "antivirusEngine.allowedThreats", settings.antivirusEngine.allowedThreats],
    ["auth_deadline_ms", "sensor.authDeadlineMs", settings.sensor.authDeadlineMs],
    ["fail_open", "sensor.failOpen", settings.sensor.failOpen],
    ["score_threshold", "engine.scoreThreshold", settings.engine.scoreThreshold],
  ];
  const fields: Record<string, HealthValue> = {};
  const src: Record<string, Source> = {};
  for (const [name, key, value] of keys) {
    fields[name] = value;
    const s = sources[key];
    if (s) src[name] = s;
  }
  return { fields, sources: src };
}

/** mdatp's text form: `name : value [managed]`, names padded to one column. */
export function formatHealth(r: HealthReport): string {
  const names = Object.keys(r.fields);
  const width = Math.max(...names.map((n) => n.length));
  return names.map((n) => {
    const mark = r.sources[n] === "managed" ? " [managed]" : "";
    return `${n.padEnd(width)} : ${formatValue(r.fields[n]!)}${mark}`;
  }).join("\n");
}

export function formatValue(v: HealthValue): string {
  if (v === null) return "unavailable";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) {
    return v.length === 0 ? "[]" : `[${v.map((x) => JSON.stringify(x)).join(", ")}]`;
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Threat counts by status, as health shows them. */
export function threatsByStatus(store: ThreatStore): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of store.list()) out[t.status] = (out[t.status] ?? 0) + 1;
  return out;
}
