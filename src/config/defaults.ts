/**
 * Built-in defaults, documented in this one place. `SETTING_DOCS` is the table
 * the README reproduces (`renderDefaultsTable()`); a test checks that every
 * schema key has exactly one entry and that the defaults pass the schema.
 */
import type { ConfigPaths } from "./paths.ts";
import type { Settings } from "./schema.ts";

/**
 * The engine's defaults. The engine's own DEFAULT_ENGINE_OPTIONS (what `bm
 * replay`, `bm rules test` and the pack tests run with) is built from these
 * too, so offline verdicts match the daemon's.
 */
export const ENGINE_DEFAULTS = {
  scoreThreshold: 100,
  decayHalfLifeSeconds: 300,
  processTableMax: 65536,
  exitedRetentionSeconds: 300,
} as const;

/**
 * Environment variables an exec record carries by default: loader and shell
 * tricks (Linux), dyld injection (macOS), and who a session came from.
 */
export const DEFAULT_ENV_VARS = [
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
  "LD_AUDIT",
  "HISTFILE",
  "HISTSIZE",
  "HISTFILESIZE",
  "HISTCONTROL",
  "PROMPT_COMMAND",
  "BASH_ENV",
  "ENV",
  "SUDO_USER",
  "SSH_CONNECTION",
  "DYLD_INSERT_LIBRARIES",
  "DYLD_LIBRARY_PATH",
  "DYLD_FRAMEWORK_PATH",
] as const;

/** The default settings; paths under the state directory follow `paths.stateDir`. */
export function defaultSettings(paths: ConfigPaths): Settings {
  return {
    antivirusEngine: {
      behaviorMonitoring: "enabled",
      enforcementLevel: "real_time",
      exclusions: [],
      exclusionsMergePolicy: "merge",
      allowedThreats: [],
    },
    features: {
      behaviorMonitoring: "enabled",
      behaviorMonitoringConfigurations: {
        blockExecution: "enabled",
        notifyForks: "enabled",
        forwardRtpToBm: "enabled",
        avoidOpenCache: "disabled",
      },
    },
    sensor: {
      authDeadlineMs: 5000,
      deadlineMarginMs: 1000,
      failOpen: "allow",
      marks: { mode: "filesystems", mounts: [], network: false },
      envVars: [...DEFAULT_ENV_VARS],
      openEvents: "disabled",
    },
    engine: {
      scoreThreshold: ENGINE_DEFAULTS.scoreThreshold,
      decayHalfLifeSeconds: ENGINE_DEFAULTS.decayHalfLifeSeconds,
      extraRulesDirs: [],
      processTableMax: ENGINE_DEFAULTS.processTableMax,
      exitedRetentionSeconds: ENGINE_DEFAULTS.exitedRetentionSeconds,
    },
    store: { path: `${paths.stateDir}/threats.db`, retentionDays: 90, maxThreats: 10000 },
    alerts: { maxPerRulePerMinute: 100, retentionDays: 90, maxAlerts: 20000 },
    quarantine: { path: `${paths.stateDir}/quarantine` },
    logging: {
      level: "info",
      eventExport: { enabled: false, path: `${paths.stateDir}/events.jsonl`, rawEvents: false },
    },
  };
}

export interface SettingDoc {
  key: string;
  /** The default as the README shows it. */
  default: string;
  description: string;
}

export const SETTING_DOCS: readonly SettingDoc[] = [
  {
    key: "antivirusEngine.behaviorMonitoring",
    default: `"enabled"`,
    description: "Defender switch 1 of 2 for behavior monitoring (enabled | disabled)",
  },
  {
    key: "antivirusEngine.enforcementLevel",
    default: `"real_time"`,
    description: "real_time | on_demand | passive; behavior monitoring needs real_time",
  },
  {
    key: "antivirusEngine.exclusions",
    default: "[]",
    description:
      `Defender exclusions: {"$type":"excludedPath",path,isDirectory}, {"$type":"excludedFileExtension",extension}, {"$type":"excludedFileName",name}`,
  },
  {
    key: "antivirusEngine.exclusionsMergePolicy",
    default: `"merge"`,
    description:
      "How managed and local lists combine: merge = union, admin_only = managed list only",
  },
  {
    key: "antivirusEngine.allowedThreats",
    default: "[]",
    description: "Threat (rule) names never acted on; merged like exclusions",
  },
  {
    key: "features.behaviorMonitoring",
    default: `"enabled"`,
    description: "Defender switch 2 of 2 for behavior monitoring (enabled | disabled)",
  },
  {
    key: "features.behaviorMonitoringConfigurations.blockExecution",
    default: `"enabled"`,
    description: "disabled = audit: detect and report, never block or kill",
  },
  {
    key: "features.behaviorMonitoringConfigurations.notifyForks",
    default: `"enabled"`,
    description: "Track forks, not only execs, in process lineage",
  },
  {
    key: "features.behaviorMonitoringConfigurations.forwardRtpToBm",
    default: `"enabled"`,
    description: "Feed real-time-protection file verdicts into behavior scores",
  },
  {
    key: "features.behaviorMonitoringConfigurations.avoidOpenCache",
    default: `"disabled"`,
    description: "Keep open decisions out of the OS cache so every open is seen (costs CPU)",
  },
  {
    key: "sensor.authDeadlineMs",
    default: "5000",
    description:
      "Deadline for answering an auth event (Linux has no kernel deadline; macOS uses the smaller of this and the kernel's)",
  },
  {
    key: "sensor.deadlineMarginMs",
    default: "1000",
    description: "The watchdog answers with failOpen this long before the deadline",
  },
  {
    key: "sensor.failOpen",
    default: `"allow"`,
    description: "Watchdog answer for auth events the engine did not answer in time (allow | deny)",
  },
  {
    key: "sensor.marks.mode",
    default: `"filesystems"`,
    description:
      "Linux fanotify marks: every local filesystem (mounts followed; pseudo and network filesystems skipped, see bm health), or only sensor.marks.mounts",
  },
  {
    key: "sensor.marks.mounts",
    default: "[]",
    description: `Mount points to mark when sensor.marks.mode is "mounts"`,
  },
  {
    key: "sensor.marks.network",
    default: "false",
    description: "In filesystems mode, mark network filesystems (nfs, cifs, fuse.sshfs...) too",
  },
  {
    key: "sensor.envVars",
    default: JSON.stringify(DEFAULT_ENV_VARS),
    description:
      "Environment variables (at most 16) each exec reports as process.env_vars (Linux: read from /proc/PID/environ, at most 64 KiB, 1 KiB a value)",
  },
  {
    key: "sensor.openEvents",
    default: `"disabled"`,
    description: "Also report file opens (more events, more CPU)",
  },
  {
    key: "engine.scoreThreshold",
    default: "100",
    description: "Lineage score at which a verdict acts",
  },
  {
    key: "engine.decayHalfLifeSeconds",
    default: "300",
    description: "Half-life of a lineage's score",
  },
  {
    key: "engine.rulesDir",
    default: "(unset)",
    description: "Rule pack directory; unset = the policies/ shipped with bm",
  },
  {
    key: "engine.extraRulesDirs",
    default: "[]",
    description:
      "More rule packs loaded beside rulesDir (e.g. from bm rules import-sigma), validated and reloaded alike",
  },
  {
    key: "engine.processTableMax",
    default: "65536",
    description: "Most processes the process table holds",
  },
  {
    key: "engine.exitedRetentionSeconds",
    default: "300",
    description:
      "How long an exited process stays in the table for lineage (at most processTableMax / 8 of them, 1,024 or more)",
  },
  {
    key: "store.path",
    default: "STATE_DIR/threats.db",
    description: "SQLite threat store",
  },
  {
    key: "store.retentionDays",
    default: "90",
    description: "Threats older than this are pruned (never one with a file still in the vault)",
  },
  { key: "store.maxThreats", default: "10000", description: "Most threats kept" },
  {
    key: "alerts.maxPerRulePerMinute",
    default: "100",
    description:
      "Firings of one rule kept per minute; the rest are counted (bm health: alerts_suppressed)",
  },
  {
    key: "alerts.retentionDays",
    default: "90",
    description: "Alerts last seen longer ago than this are pruned",
  },
  { key: "alerts.maxAlerts", default: "20000", description: "Most alerts kept (oldest pruned)" },
  {
    key: "quarantine.path",
    default: "STATE_DIR/quarantine",
    description: "Quarantined files (root-only directory)",
  },
  {
    key: "logging.level",
    default: `"info"`,
    description: "debug | info | warn | error",
  },
  { key: "logging.file", default: "(unset)", description: "Log file; unset = stderr" },
  {
    key: "logging.eventExport.enabled",
    default: "false",
    description: "Write detections (and optionally raw events) as ECS JSON lines for a SIEM",
  },
  {
    key: "logging.eventExport.path",
    default: "STATE_DIR/events.jsonl",
    description: "Where exported events go",
  },
  {
    key: "logging.eventExport.rawEvents",
    default: "false",
    description: "Export every event, not only those in a verdict's chain",
  },
];

/** The defaults as a Markdown table (the README copy). */
export function renderDefaultsTable(): string {
  const rows = SETTING_DOCS.map((d) =>
    `| \`${d.key}\` | \`${d.default}\` | ${d.description.replaceAll("|", "\\|")} |`
  );
  return ["| Key | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}
