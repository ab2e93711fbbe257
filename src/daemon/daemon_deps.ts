/**
 * The composition root's factory: the only place that builds the real
 * parts the daemon runs on (clock, config and rule loading, the SQLite store,
 * the OS sensor, the control socket, the file watcher, the export file).
 * `Daemon` receives them, so every other module takes its parts as ports.
 */
import { type EffectiveConfig, loadEffectiveConfig } from "../config/load.ts";
import { type ConfigPaths, configPaths } from "../config/paths.ts";
import type { Settings } from "../config/schema.ts";
import { type Clock, systemClock } from "../clock.ts";
import { Engine, type EngineOptions } from "../engine/engine.ts";
import { loadRtpBlocklist } from "../engine/rtp_blocklist.ts";
import { formatProblem, loadRules } from "../engine/rule_loader.ts";
import type { RuleSet } from "../engine/rule_set.ts";
import { SqliteThreatStore, type ThreatStore } from "../store/threat_store.ts";
import type { AlertStore } from "../store/alert.ts";
import { ControlServer, type Handler, socketPath } from "./control_socket.ts";
import { EventExporter } from "./event_export.ts";
import { rulesVersion } from "./rules_version.ts";
import { openSensor, type SensorRequest, type SensorResult } from "./sensor_factory.ts";
import { ChangeWatcher, type WatchTarget } from "./watch.ts";

export interface Env {
  get(name: string): string | undefined;
}

/** A loaded rule pack: the rules that compiled, every problem (file:line), its version. */
export interface LoadedRules {
  rules: RuleSet;
  problems: string[];
  version: string;
}

export interface DaemonDeps {
  clock: Clock;
  env: Env;
  paths: ConfigPaths;
  /** Running as root: loaded files must then be root-owned (invariant 7). */
  isRoot: boolean;
  /**
   * BM_DEBUG_STALL_AFTER_COMMIT_MS (the at-least-once test): wait this long
   * between a threat's commit and its log and export lines.
   */
  debugStallAfterCommitMs: number;
  loadConfig(): Promise<EffectiveConfig>;
  /** Every pack as one set: one bad file in any pack refuses the whole set (invariant 4). */
  loadRules(dirs: string[]): Promise<LoadedRules>;
  /** Reads the RTP blocklist at `path`: undefined when there is none; throws naming file:line. */
  loadBlocklist(path: string): Promise<ReadonlySet<string> | undefined>;
  /** Threats and alerts: one SQLite file. */
  openStore(s: Settings): ThreatStore & AlertStore;
  buildEngine(rules: RuleSet, options: EngineOptions): Engine;
  openSensor(req: SensorRequest): Promise<SensorResult>;
  listenControl(handler: Handler): Promise<ControlServer>;
  watch(targets: WatchTarget[], onChange: (paths: string[]) => void): ChangeWatcher;
  openExporter(path: string, rawEvents: boolean): EventExporter;
}

/** The real parts, from the process's environment (or `env`). */
export function realDaemonDeps(o: { env?: Env; clock?: Clock } = {}): DaemonDeps {
  const env = o.env ?? Deno.env;
  const clock = o.clock ?? systemClock;
  const paths = configPaths(env);
  const isRoot = Deno.uid() === 0;
  return {
    clock,
    env,
    paths,
    isRoot,
    debugStallAfterCommitMs: positiveMs(env.get("BM_DEBUG_STALL_AFTER_COMMIT_MS")),
    loadConfig: () => loadEffectiveConfig({ paths, rootUid: 0 }),
    loadRules: async (dirs) => {
      const r = await loadRules(dirs, { requireRootOwned: isRoot, checkTests: false });
      const versions = await Promise.all(dirs.map((d) => rulesVersion(d, r.sources)));
      return {
        rules: r.rules,
        problems: r.problems.map(formatProblem),
        version: versions.join(","),
      };
    },
    loadBlocklist: async (path) => {
      try {
        await Deno.lstat(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
      return await loadRtpBlocklist(path, { requireRootOwned: isRoot });
    },
    openStore: (s) =>
      new SqliteThreatStore({
        path: s.store.path,
        clock,
        retention: { maxAgeDays: s.store.retentionDays, maxCount: s.store.maxThreats },
        alertRetention: { maxAgeDays: s.alerts.retentionDays, maxCount: s.alerts.maxAlerts },
      }),
    buildEngine: (rules, options) => new Engine(rules, options, clock),
    openSensor,
    listenControl: (handler) => ControlServer.listen(socketPath(env), handler),
    watch: (targets, onChange) => new ChangeWatcher(targets, onChange),
    openExporter: (path, rawEvents) => new EventExporter(path, rawEvents, Deno.hostname()),
  };
}

function positiveMs(text: string | undefined): number {
  const v = Number(text ?? "0");
  return Number.isFinite(v) && v > 0 ? v : 0;
}
