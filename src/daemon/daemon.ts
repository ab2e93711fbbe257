/**
 * The daemon: runs the parts the composition root (daemon_deps.ts) builds and
 * maps Settings to their options.
 *
 *   config -> sensor (native by platform, or replay with --trace) -> engine
 *   -> responder -> store, joined by the Agent's event loop, plus the control
 *   socket (its calls in control_api.ts), the config/rules watcher and the
 *   signal handlers.
 *
 * Reload (SIGHUP, a changed config or rule file, `bm daemon reload` over the
 * socket): everything is validated first; on any error the last good settings
 * and rules stay in force and the reason is logged and shown by `bm health`
 * (invariant 4). What an accepted reload changes is decided by reload_plan.ts
 * (e.g. the sensor is reopened when settings it was opened with change); the
 * daemon carries the plan out.
 *
 * Stop (SIGTERM, SIGINT): stop taking events, answer every auth event already
 * taken, close the sensor (which answers any it still holds), finish verdicts
 * in flight, close the store, exit 0.
 */
import type { EffectiveConfig } from "../config/load.ts";
import type { Settings } from "../config/schema.ts";
import { behaviorMonitoringState } from "../config/behavior.ts";
import type { Clock } from "../clock.ts";
import type { Engine } from "../engine/engine.ts";
import { rulePackDirs } from "../engine/rule_packs.ts";
import { compileInterest } from "../engine/interest.ts";
import { blocklistSizes } from "../engine/rtp_blocklist.ts";
import type { RuleSet } from "../engine/rule_set.ts";
import type { Verdict } from "../engine/verdict.ts";
import { BmError } from "../errors.ts";
import { Responder } from "../response/responder.ts";
import type { GuardianState, Sensor } from "../sensor/sensor.ts";
import { idleSensor } from "../sensor/idle_sensor.ts";
import { vaultDir } from "../store/state_dir.ts";
import type { ActionRecord, ThreatStatus } from "../store/threat.ts";
import type { ThreatStore } from "../store/threat_store.ts";
import type { AlertStore } from "../store/alert.ts";
import { AlertWriter } from "./alert_writer.ts";
import { Agent, errorText } from "./agent.ts";
import { ControlApi } from "./control_api.ts";
import type { ControlServer } from "./control_socket.ts";
import type { DaemonDeps, LoadedRules } from "./daemon_deps.ts";
import type { EventExporter } from "./event_export.ts";
import { buildHealth, featureDetails, type HealthReport, threatsByStatus } from "./health.ts";
import { FileSink, Logger, type LogSink, stderrSink } from "./log.ts";
import { planReload } from "./reload_plan.ts";
import { RtpScanner } from "./rtp_scanner.ts";
import { engineOptions, enginePlatform, sensorKey } from "./settings_map.ts";
import type { SensorRequest } from "./sensor_factory.ts";
import type { ChangeWatcher } from "./watch.ts";

export interface DaemonOptions {
  /** Run on a replayed trace instead of the OS sensor. */
  trace?: string;
  /** With `trace`: exit when the trace ends (default: keep serving until stopped). */
  exitAtEnd?: boolean;
  /** Rules see only this pid and its descendants (tests, the demonstration). */
  scopePid?: number;
}

/** What the daemon keeps as "last good". */
interface Good {
  cfg: EffectiveConfig;
  rules: RuleSet;
  rulesDir: string;
  rulesVersion: string;
  /** `<rulesDir>/rtp_blocklist.txt` (forwardRtpToBm); empty when the file is missing. */
  rtpBlocklist: ReadonlySet<string>;
}

/** The forwardRtpToBm blocklist's name inside the rules directory. */
export const RTP_BLOCKLIST_FILE = "rtp_blocklist.txt";

export class Daemon {
  private good!: Good;
  private agent!: Agent;
  private started = false;
  private store!: ThreatStore & AlertStore;
  private alerts!: AlertWriter;
  private responder!: Responder;
  private server: ControlServer | undefined;
  private watcher: ChangeWatcher | undefined;
  private logFile: FileSink | undefined;
  private sensorOpenedWith: string | undefined;
  private sensorUnavailable: string | undefined;
  private subsystem: string | undefined;
  private configErrors: string[] = [];
  private ruleErrors: string[] = [];
  private lastReload: { time: number; ok: boolean; reason?: string } | undefined;
  private readonly startedAt: number;
  private readonly clock: Clock;
  readonly logger: Logger;
  private stopRequested: (() => void) | undefined;
  private reloading: Promise<unknown> = Promise.resolve();
  private engine!: Engine;
  private rtp!: RtpScanner;
  private rtpMissingLogged = false;

  /** @param deps the real parts (daemon_deps.ts `realDaemonDeps`) or fakes */
  constructor(private readonly options: DaemonOptions, private readonly deps: DaemonDeps) {
    this.clock = deps.clock;
    this.startedAt = this.clock.now();
    this.logger = new Logger("info", [stderrSink], this.clock);
  }

  /** Builds everything and runs until stopped; resolves to the exit code. */
  async run(): Promise<number> {
    if (!this.deps.isRoot && this.options.trace === undefined) {
      throw new BmError(`"bm daemon" must run as root (uid 0); uid is ${Deno.uid()}`, 1);
    }
    // Listen for signals before building anything: a SIGTERM during start-up
    // must still give a graceful stop (answer held events, close the store).
    let stopNow = false;
    const stop = new Promise<void>((resolve) => (this.stopRequested = resolve));
    const onStop = () => {
      stopNow = true;
      this.stopRequested?.();
    };
    const onHup = () => {
      if (this.started) void this.reload("SIGHUP");
    };
    Deno.addSignalListener("SIGTERM", onStop);
    Deno.addSignalListener("SIGINT", onStop);
    Deno.addSignalListener("SIGHUP", onHup);
    try {
      return await this.start(stop, () => stopNow);
    } finally {
      Deno.removeSignalListener("SIGTERM", onStop);
      Deno.removeSignalListener("SIGINT", onStop);
      Deno.removeSignalListener("SIGHUP", onHup);
    }
  }

  private async start(stop: Promise<void>, stopped: () => boolean): Promise<number> {
    const log = this.logger;
    const cfg = await this.deps.loadConfig();
    this.applyLogging(cfg.settings);
    for (const w of cfg.warnings) log.warn("Configuration warning", { reason: w });
    // At start there is no last good set: a broken file's keys fall back to
    // the defaults (protection stays on) and health lists the errors.
    this.configErrors = cfg.errors;
    for (const e of cfg.errors) log.error("Configuration error: file skipped", { reason: e });

    const rulePacks = rulePackDirs(cfg.settings.engine);
    const rulesDir = rulePacks[0]!;
    const loaded = await this.deps.loadRules(rulePacks);
    this.ruleErrors = loaded.problems;
    for (const e of loaded.problems) log.error("Rule error: rule skipped", { reason: e });
    // A bad blocklist at start: run without it (rules still protect) and show why.
    const bl = await this.loadBlocklist(rulesDir);
    if (bl.error !== undefined) {
      this.ruleErrors.push(bl.error);
      log.error("RTP blocklist error: blocklist not loaded", { reason: bl.error });
    }
    this.good = {
      cfg,
      rules: loaded.rules,
      rulesDir,
      rulesVersion: loaded.version,
      rtpBlocklist: bl.set ?? new Set(),
    };

    this.store = this.deps.openStore(cfg.settings);
    this.engine = this.deps.buildEngine(loaded.rules, this.engineOptionsFor(cfg.settings));

    // Responder's sensor handle follows sensor swaps on reload.
    const sensorHandle = { denyProcess: (pid: number) => this.agent.sensor.denyProcess(pid) };
    this.responder = new Responder({
      store: this.store,
      sensor: sensorHandle,
      clock: this.clock,
      vaultDir: cfg.settings.quarantine.path ?? vaultDir(this.deps.paths.stateDir),
      allowedThreats: this.allowedThreats(cfg.settings),
    });
    const respond = this.options.trace !== undefined
      ? (v: Verdict) => Promise.resolve(recordOnly(this.store, v, this.clock))
      : (v: Verdict) => this.responder.handle(v);

    this.rtp = new RtpScanner({
      sink: (ev) => this.agent.inject(ev),
      onSkip: (path, reason) => log.debug("RTP scan skipped a file", { "file.path": path, reason }),
    });
    this.configureRtp(cfg.settings);

    const sensor = await this.buildSensor(cfg.settings);
    this.alerts = new AlertWriter({
      store: this.store,
      exporter: () => this.agent.exporter,
      logger: log,
      maxPerRulePerMinute: cfg.settings.alerts.maxPerRulePerMinute,
    });
    this.agent = new Agent({
      sensor,
      engine: this.engine,
      store: this.store,
      respond,
      logger: log,
      clock: this.clock,
      exporter: this.buildExporter(cfg.settings),
      failOpen: cfg.settings.sensor.failOpen === "allow",
      stallAfterCommitMs: this.deps.debugStallAfterCommitMs,
      rtp: this.rtp,
      alerts: this.alerts,
    });
    this.applyInterest(cfg.settings);
    // At least once: what an earlier run committed and died before reporting.
    const late = this.agent.reportUnreported();
    this.alerts.reportUnreported();
    if (late > 0 || this.alerts.counters.lateReported > 0) {
      log.warn("Reported detections an earlier run stored but never reported", {
        "bm.threats": late,
        "bm.alerts": this.alerts.counters.lateReported,
      });
    }

    const api = new ControlApi({
      store: this.store,
      clock: this.clock,
      health: (details) => this.health(details),
      reload: (why) => this.reload(why),
      hotSources: (limit) => ({ total: this.agent.hot.total, sources: this.agent.hot.top(limit) }),
      engineStats: () => ({
        engine: this.engine.stats(),
        agent: this.agent.counters,
        rtp: { ...this.rtp.counters, pending: this.rtp.pending },
        // Where memory goes (V8 heap vs native), for bench/flood_rss.ts and tuning.
        memory: Deno.memoryUsage(),
      }),
      quarantineDir: () => this.good.cfg.settings.quarantine.path,
      allowedThreatsChanged: () => {
        const allowed = this.allowedThreats(this.good.cfg.settings);
        this.engine.setOptions({ allowedThreats: allowed });
        this.responder.setAllowedThreats(allowed);
      },
    });
    this.server = await this.deps.listenControl((method, params) => api.handle(method, params));
    this.startWatcher();
    this.started = true;
    log.info("bm daemon started", {
      pid: Deno.pid,
      "bm.subsystem": this.subsystem ?? null,
      "bm.behavior_monitoring": this.sensorUnavailable ? "unavailable" : "enabled",
      "bm.reason": this.sensorUnavailable ?? null,
      "bm.rules": loaded.rules.rules.length,
      "bm.rules_version": loaded.version,
      "bm.socket": this.server.path,
    });

    if (stopped()) log.info("Stop requested during start-up");
    const loop = this.agent.run({
      untilSourceEnds: this.options.trace !== undefined && !!this.options.exitAtEnd,
    });
    await Promise.race([stop, loop]);
    await this.shutdown();
    return 0;
  }

  private async shutdown(): Promise<void> {
    const log = this.logger;
    log.info("bm daemon stopping");
    this.watcher?.close();
    await this.rtp.stop();
    await this.agent.stop();
    log.debug("Event loop stopped; closing the sensor");
    const stats = this.agent.sensorStats();
    await this.agent.sensor.close();
    log.debug("Sensor closed; closing the control socket");
    await this.server?.close();
    log.debug("Control socket closed; closing the store");
    this.alerts.close();
    this.agent.exporter?.close();
    try {
      this.store.close();
    } catch (e) {
      log.error("Cannot close the threat store", { error: errorText(e) });
    }
    log.info("bm daemon stopped", {
      "bm.events": stats.events,
      "bm.auth_by_engine": stats.authByAgent,
      "bm.auth_by_watchdog": stats.authByWatchdog,
      "bm.dropped": stats.dropped,
    });
    this.logFile?.close();
  }

  private engineOptionsFor(s: Settings) {
    const o = engineOptions(s, {
      allowedThreats: this.allowedThreats(s),
      rtpBlocklist: this.rtpOn(s) ? this.good.rtpBlocklist : new Set(),
    });
    return this.options.scopePid === undefined ? o : { ...o, scopePid: this.options.scopePid };
  }

  /**
   * Gives the sensor the interest filter of what is loaded (rules, RTP and its
   * blocklist's sizes, event export): events none of them can use are dropped
   * at the source. Called at start and after every reload (rules, blocklist or
   * settings). A filter the sensor refuses is logged and none is used
   * (everything passes).
   */
  private applyInterest(s: Settings): void {
    const sensor = this.agent.sensor;
    if (!sensor.setInterest) return;
    const f = compileInterest(this.good.rules.rules, {
      platform: enginePlatform(),
      rtp: this.rtpOn(s),
      // the scanner's own size prefilter (rtp_scanner.ts), from the same list
      rtpSizes: blocklistSizes(this.good.rtpBlocklist),
      exportEvents: this.agent.exporter !== undefined,
    });
    try {
      sensor.setInterest(f);
    } catch (e) {
      this.logger.error("Sensor refused the interest filter: every event passes", {
        error: errorText(e),
      });
      try {
        sensor.setInterest(undefined);
      } catch { /* it keeps what it had: its last good filter, or none */ }
    }
  }

  private rtpOn(s: Settings): boolean {
    return s.features.behaviorMonitoringConfigurations.forwardRtpToBm === "enabled";
  }

  /** Replayed paths are not this machine's files: no scanning with --trace. */
  private configureRtp(s: Settings): void {
    this.rtp.configure(
      this.rtpOn(s) && this.options.trace === undefined,
      this.good.rtpBlocklist,
    );
  }

  /**
   * `<dir>/rtp_blocklist.txt`, refused like a rule file when non-root users
   * could write it. A missing file is an empty list (logged once); a bad one
   * is an error (the caller keeps the last good list on reload).
   */
  private async loadBlocklist(
    dir: string,
  ): Promise<{ set?: ReadonlySet<string>; error?: string }> {
    const path = `${dir.replace(/\/$/, "")}/${RTP_BLOCKLIST_FILE}`;
    let set: ReadonlySet<string> | undefined;
    try {
      set = await this.deps.loadBlocklist(path);
    } catch (e) {
      return { error: errorText(e) };
    }
    if (set !== undefined) {
      this.rtpMissingLogged = false;
      return { set };
    }
    if (!this.rtpMissingLogged) {
      this.logger.info("No RTP blocklist: forwardRtpToBm has no hashes to match", {
        "file.path": path,
      });
      this.rtpMissingLogged = true;
    }
    return { set: new Set() };
  }

  private allowedThreats(s: Settings): string[] {
    let stored: string[] = [];
    try {
      stored = this.store?.listAllowed().map((a) => a.name) ?? [];
    } catch { /* store unreadable: settings list still applies */ }
    return [...new Set([...s.antivirusEngine.allowedThreats, ...stored])];
  }

  private async buildSensor(s: Settings): Promise<Sensor> {
    const req: SensorRequest = { settings: s, logger: this.logger };
    if (this.options.trace !== undefined) req.trace = this.options.trace;
    const bm = behaviorMonitoringState(s, this.good.cfg.sources);
    let sensor: Sensor | undefined;
    if (!bm.effective && this.options.trace === undefined) {
      this.sensorUnavailable = undefined;
      this.logger.info("Behavior monitoring is off: no sensor", { reason: bm.reason ?? null });
    } else {
      const got = await this.deps.openSensor(req);
      if ("sensor" in got) {
        sensor = got.sensor;
        this.sensorUnavailable = undefined;
        if (got.seed) this.engine.seed(got.seed);
      } else {
        this.sensorUnavailable = got.unavailable;
        this.logger.error("Sensor unavailable: behavior monitoring cannot run", {
          reason: got.unavailable,
        });
      }
    }
    this.subsystem = sensor?.subsystem;
    this.sensorOpenedWith = sensor ? sensorKey(s) : undefined;
    return sensor ?? idleSensor();
  }

  private buildExporter(s: Settings): EventExporter | undefined {
    const x = s.logging.eventExport;
    if (!x.enabled) return undefined;
    try {
      return this.deps.openExporter(x.path, x.rawEvents);
    } catch (e) {
      this.logger.error("Cannot open the event export file", {
        "file.path": x.path,
        error: errorText(e),
      });
      return undefined;
    }
  }

  private applyLogging(s: Settings): void {
    this.logger.setLevel(s.logging.level);
    const sinks: LogSink[] = [stderrSink];
    if (this.logFile && this.logFile.path !== s.logging.file) {
      this.logFile.close();
      this.logFile = undefined;
    }
    if (s.logging.file) {
      try {
        this.logFile ??= new FileSink(s.logging.file);
        sinks.push(this.logFile);
      } catch (e) {
        this.logger.error("Cannot open the log file", {
          "file.path": s.logging.file,
          error: errorText(e),
        });
      }
    }
    this.logger.setSinks(sinks);
  }

  private startWatcher(): void {
    if (this.options.trace !== undefined) return;
    this.watcher?.close();
    this.watcher = this.deps.watch(
      [
        { path: this.deps.paths.managed, kind: "file" },
        { path: this.deps.paths.local, kind: "file" },
        {
          path: this.good.rulesDir,
          kind: "dir",
          suffixes: [".toml", "/VERSION", `/${RTP_BLOCKLIST_FILE}`],
        },
        ...this.good.cfg.settings.engine.extraRulesDirs.map((path) => ({
          path,
          kind: "dir" as const,
          suffixes: [".toml", "/VERSION"],
        })),
      ],
      (paths) =>
        void this.reload(
          `file changed: ${paths.slice(0, 3).join(", ")}${
            paths.length > 3 ? ` and ${paths.length - 3} more` : ""
          }`,
        ),
    );
    for (const s of this.watcher.skipped) this.logger.debug("Not watching", { reason: s });
  }

  /** Validates everything first; keeps the last good set on any error. Serialised. */
  reload(why: string): Promise<{ ok: boolean; errors: string[] }> {
    const next = this.reloading.then(() => this.doReload(why));
    this.reloading = next.catch(() => {});
    return next;
  }

  private async doReload(why: string): Promise<{ ok: boolean; errors: string[] }> {
    const log = this.logger;
    log.info("Reloading", { reason: why });
    const cfg = await this.deps.loadConfig();
    const errors = [...cfg.errors];
    const rulePacks = rulePackDirs(cfg.settings.engine);
    const rulesDir = rulePacks[0]!;
    let loaded: LoadedRules | undefined;
    let bl: Awaited<ReturnType<Daemon["loadBlocklist"]>> = {};
    if (cfg.ok) {
      loaded = await this.deps.loadRules(rulePacks);
      errors.push(...loaded.problems);
      bl = await this.loadBlocklist(rulesDir);
      if (bl.error !== undefined) errors.push(bl.error);
    }
    if (errors.length > 0 || !loaded) {
      this.lastReload = { time: this.clock.now(), ok: false, reason: errors.join("; ") };
      for (const e of errors) log.error("Reload refused: keeping the last good set", { reason: e });
      return { ok: false, errors };
    }
    for (const w of cfg.warnings) log.warn("Configuration warning", { reason: w });
    const prev = this.good;
    this.good = {
      cfg,
      rules: loaded.rules,
      rulesDir,
      rulesVersion: loaded.version,
      rtpBlocklist: bl.set ?? new Set(),
    };
    this.configErrors = [];
    this.ruleErrors = [];
    const s = cfg.settings;
    const plan = planReload(
      { settings: prev.cfg.settings, rulesDir: prev.rulesDir, rulesVersion: prev.rulesVersion },
      { settings: s, rulesDir, rulesVersion: loaded.version },
      this.sensorOpenedWith,
      this.options.trace !== undefined,
    );
    this.applyLogging(s);
    if (plan.swapRules) this.engine.setRules(loaded.rules);
    this.engine.setOptions(this.engineOptionsFor(s));
    this.configureRtp(s);
    this.responder.setAllowedThreats(this.allowedThreats(s));
    this.agent.failOpen = s.sensor.failOpen === "allow";
    this.alerts.maxPerRulePerMinute = s.alerts.maxPerRulePerMinute;
    if (plan.rebuildExporter) {
      this.agent.exporter?.close();
      this.agent.exporter = this.buildExporter(s);
    }
    if (plan.reopenSensor) {
      log.info("Sensor settings changed: reopening the sensor");
      // Close first: two fanotify groups would both hold every exec.
      await this.agent.replaceSensor(idleSensor());
      await this.agent.replaceSensor(await this.buildSensor(s));
    }
    if (plan.clearAllowCache) this.agent.sensor.clearAllowCache();
    // after the rules, RTP, the export and the sensor have changed: the filter of what is loaded now
    this.applyInterest(s);
    if (plan.restartWatcher) this.startWatcher();
    this.lastReload = { time: this.clock.now(), ok: true };
    log.info("Reloaded", {
      "bm.rules": loaded.rules.rules.length,
      "bm.rules_version": loaded.version,
    });
    return { ok: true, errors: [] };
  }

  /** The live health report. */
  health(details?: string): HealthReport {
    const { cfg } = this.good;
    if (details === "features") return featureDetails(cfg.settings, cfg.sources);
    const input = {
      daemonRunning: true,
      settings: cfg.settings,
      sources: cfg.sources,
      configErrors: this.configErrors,
      rulesVersion: this.good.rulesVersion,
      rulesCount: this.engine.stats().rules,
      ruleErrors: this.ruleErrors,
      sensorStats: this.agent.sensorStats(),
      ...this.guardianInput(),
      filesystems: this.agent.filesystems(),
      threatsByStatus: threatsByStatus(this.store),
      alertsBySeverity: this.store.alertCounts(),
      alertCounters: {
        suppressed: this.alerts.counters.suppressed,
        dropped: this.alerts.counters.dropped,
        failures: this.alerts.counters.failures,
        pruned: this.store.alertsPruned,
      },
      storeFailures: this.agent.counters.storeFailures,
      unsavedThreats: this.agent.unsaved,
      rtp: { ...this.rtp.counters, blocklistSize: this.rtp.blocklistSize },
      startedAt: this.startedAt,
      now: this.clock.now(),
      pid: Deno.pid,
      ...(this.subsystem !== undefined ? { subsystem: this.subsystem } : {}),
      ...(this.sensorUnavailable !== undefined
        ? { sensorUnavailable: this.sensorUnavailable }
        : {}),
      ...(this.lastReload ? { lastReload: this.lastReload } : {}),
    };
    return buildHealth(input);
  }

  private guardianInput(): { guardian?: GuardianState } {
    const g = this.agent.sensor.guardian?.();
    return g ? { guardian: g } : {};
  }
}

/** --trace mode: replayed pids and paths are not this machine's; record, never act. */
function recordOnly(
  store: ThreatStore,
  v: Verdict,
  clock: Clock,
): { threatId: string; status: ThreatStatus; actions: ActionRecord[] } {
  const threatId = store.record(v);
  const actions: ActionRecord[] = v.actions.map((a) => ({
    type: a.type,
    target: "pid" in a ? `pid ${a.pid}` : "path" in a ? a.path : "",
    result: "skipped",
    detail: "replayed trace: not acted on",
    time: clock.now(),
  }));
  for (const a of actions) store.addAction(threatId, a);
  return { threatId, status: v.mode === "audit" ? "audited" : "active", actions };
}
