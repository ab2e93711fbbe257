/**
 * The composition root: the only place that builds the real parts and maps
 * Settings to their options.
 *
 *   config -> sensor (native by platform, or replay with --trace) -> engine
 *   -> responder -> store, joined by the Agent's event loop, plus the control
 *   socket, the config/rules watcher and the signal handlers.
 *
 * Reload (SIGHUP, a changed config or rule file, `bm daemon reload` over the
 * socket): everything is validated first; on any error the last good settings
 * and rules stay in force and the reason is logged and shown by `bm health`
 * (invariant 4). When settings the sensor was opened with change, the sensor
 * is reopened with the new ones.
 *
 * Stop (SIGTERM, SIGINT): stop taking events, answer every auth event already
 * taken, close the sensor (which answers any it still holds), finish verdicts
 * in flight, close the store, exit 0.
 */
import { type EffectiveConfig, loadEffectiveConfig } from "../config/load.ts";
import { type ConfigPaths, configPaths } from "../config/paths.ts";
import type { Settings } from "../config/schema.ts";
import { behaviorMonitoringState } from "../config/behavior.ts";
import { type Clock, systemClock } from "../clock.ts";
import { Engine } from "../engine/engine.ts";
import { loadRtpBlocklist } from "../engine/rtp_blocklist.ts";
import { defaultRulesDir, formatProblem, loadRules } from "../engine/rule_loader.ts";
import type { RuleSet } from "../engine/rule_set.ts";
import type { Verdict } from "../engine/verdict.ts";
import { BmError } from "../errors.ts";
import { Responder } from "../response/responder.ts";
import { restoreFile, type RestoreOptions } from "../response/quarantine.ts";
import type { Restored } from "../store/threat_source.ts";
import type { Sensor } from "../sensor/sensor.ts";
import { emptyStats } from "../sensor/sensor.ts";
import { vaultDir } from "../store/state_dir.ts";
import type { ActionRecord, QuarantineEntry, ThreatStatus } from "../store/threat.ts";
import { THREAT_STATUSES } from "../store/threat.ts";
import {
  type QuarantineQuery,
  SqliteThreatStore,
  type ThreatStore,
} from "../store/threat_store.ts";
import { Agent, errorText } from "./agent.ts";
import { ControlServer, socketPath } from "./control_socket.ts";
import { EventExporter } from "./event_export.ts";
import { buildHealth, featureDetails, type HealthReport } from "./health.ts";
import { FileSink, Logger, type LogSink, stderrSink } from "./log.ts";
import { RtpScanner } from "./rtp_scanner.ts";
import { rulesVersion } from "./rules_version.ts";
import { engineOptions, sensorKey } from "./settings_map.ts";
import { openSensor, type SensorRequest } from "./sensor_factory.ts";
import { ChangeWatcher } from "./watch.ts";

export interface DaemonOptions {
  /** Run on a replayed trace instead of the OS sensor. */
  trace?: string;
  /** With `trace`: exit when the trace ends (default: keep serving until stopped). */
  exitAtEnd?: boolean;
  /** Rules see only this pid and its descendants (tests, the demonstration). */
  scopePid?: number;
  env?: { get(name: string): string | undefined };
  clock?: Clock;
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
  private store!: ThreatStore;
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
  private readonly paths: ConfigPaths;
  private readonly isRoot: boolean;
  private stopRequested: (() => void) | undefined;
  private reloading: Promise<unknown> = Promise.resolve();
  private engine!: Engine;
  private rtp!: RtpScanner;
  private rtpMissingLogged = false;

  constructor(private readonly o: DaemonOptions) {
    this.clock = o.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.logger = new Logger("info", [stderrSink], this.clock);
    this.paths = configPaths(o.env ?? Deno.env);
    this.isRoot = Deno.uid() === 0;
  }

  /** Builds everything and runs until stopped; resolves to the exit code. */
  async run(): Promise<number> {
    if (!this.isRoot && this.o.trace === undefined) {
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
    const cfg = await loadEffectiveConfig({ paths: this.paths, rootUid: 0 });
    this.applyLogging(cfg.settings);
    for (const w of cfg.warnings) log.warn("Configuration warning", { reason: w });
    // At start there is no last good set: a broken file's keys fall back to
    // the defaults (protection stays on) and health lists the errors.
    this.configErrors = cfg.errors;
    for (const e of cfg.errors) log.error("Configuration error: file skipped", { reason: e });

    const rulesDir = cfg.settings.engine.rulesDir ?? defaultRulesDir();
    const loaded = await this.loadRuleSet(rulesDir);
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

    this.store = new SqliteThreatStore({
      path: cfg.settings.store.path,
      clock: this.clock,
      retention: {
        maxAgeDays: cfg.settings.store.retentionDays,
        maxCount: cfg.settings.store.maxThreats,
      },
    });
    this.engine = new Engine(loaded.rules, this.engineOptionsFor(cfg.settings), this.clock);

    // Responder's sensor handle follows sensor swaps on reload.
    const sensorHandle = { denyProcess: (pid: number) => this.agent.sensor.denyProcess(pid) };
    this.responder = new Responder({
      store: this.store,
      sensor: sensorHandle,
      clock: this.clock,
      vaultDir: cfg.settings.quarantine.path ?? vaultDir(this.paths.stateDir),
      allowedThreats: this.allowedThreats(cfg.settings),
    });
    const respond = this.o.trace !== undefined
      ? (v: Verdict) => Promise.resolve(recordOnly(this.store, v, this.clock))
      : (v: Verdict) => this.responder.handle(v);

    this.rtp = new RtpScanner({
      sink: (ev) => this.agent.inject(ev),
      onSkip: (path, reason) => log.debug("RTP scan skipped a file", { "file.path": path, reason }),
    });
    this.configureRtp(cfg.settings);

    const sensor = await this.buildSensor(cfg.settings);
    this.agent = new Agent({
      sensor,
      engine: this.engine,
      store: this.store,
      respond,
      logger: log,
      clock: this.clock,
      exporter: this.buildExporter(cfg.settings),
      failOpen: cfg.settings.sensor.failOpen === "allow",
      stallMs: debugStallMs(this.o.env ?? Deno.env),
      rtp: this.rtp,
    });

    this.server = await ControlServer.listen(
      socketPath(this.o.env ?? Deno.env),
      (method, params) => this.handle(method, params),
    );
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
      untilSourceEnds: this.o.trace !== undefined && !!this.o.exitAtEnd,
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
    return this.o.scopePid === undefined ? o : { ...o, scopePid: this.o.scopePid };
  }

  private rtpOn(s: Settings): boolean {
    return s.features.behaviorMonitoringConfigurations.forwardRtpToBm === "enabled";
  }

  /** Replayed paths are not this machine's files: no scanning with --trace. */
  private configureRtp(s: Settings): void {
    this.rtp.configure(
      this.rtpOn(s) && this.o.trace === undefined,
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
    try {
      await Deno.lstat(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) return { error: errorText(e) };
      if (!this.rtpMissingLogged) {
        this.logger.info("No RTP blocklist: forwardRtpToBm has no hashes to match", {
          "file.path": path,
        });
        this.rtpMissingLogged = true;
      }
      return { set: new Set() };
    }
    this.rtpMissingLogged = false;
    try {
      return { set: await loadRtpBlocklist(path, { requireRootOwned: this.isRoot }) };
    } catch (e) {
      return { error: errorText(e) };
    }
  }

  private allowedThreats(s: Settings): string[] {
    let stored: string[] = [];
    try {
      stored = this.store?.listAllowed().map((a) => a.name) ?? [];
    } catch { /* store unreadable: settings list still applies */ }
    return [...new Set([...s.antivirusEngine.allowedThreats, ...stored])];
  }

  private async loadRuleSet(
    dir: string,
  ): Promise<{ rules: RuleSet; problems: string[]; version: string }> {
    const r = await loadRules(dir, { requireRootOwned: this.isRoot, checkTests: false });
    return {
      rules: r.rules,
      problems: r.problems.map(formatProblem),
      version: await rulesVersion(dir),
    };
  }

  private async buildSensor(s: Settings): Promise<Sensor> {
    const req: SensorRequest = { settings: s, logger: this.logger };
    if (this.o.trace !== undefined) req.trace = this.o.trace;
    const bm = behaviorMonitoringState(s, this.good.cfg.sources);
    let sensor: Sensor | undefined;
    if (!bm.effective && this.o.trace === undefined) {
      this.sensorUnavailable = undefined;
      this.logger.info("Behavior monitoring is off: no sensor", { reason: bm.reason ?? null });
    } else {
      const got = await openSensor(req);
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
      return new EventExporter(x.path, x.rawEvents, Deno.hostname());
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
    if (this.o.trace !== undefined) return;
    this.watcher?.close();
    this.watcher = new ChangeWatcher(
      [
        { path: this.paths.managed, kind: "file" },
        { path: this.paths.local, kind: "file" },
        {
          path: this.good.rulesDir,
          kind: "dir",
          suffixes: [".toml", "/VERSION", `/${RTP_BLOCKLIST_FILE}`],
        },
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
    const cfg = await loadEffectiveConfig({ paths: this.paths, rootUid: 0 });
    const errors = [...cfg.errors];
    const rulesDir = cfg.settings.engine.rulesDir ?? defaultRulesDir();
    let loaded: Awaited<ReturnType<Daemon["loadRuleSet"]>> | undefined;
    let bl: Awaited<ReturnType<Daemon["loadBlocklist"]>> = {};
    if (cfg.ok) {
      loaded = await this.loadRuleSet(rulesDir);
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
    this.applyLogging(s);
    this.engine.setRules(loaded.rules);
    this.engine.setOptions(this.engineOptionsFor(s));
    this.configureRtp(s);
    this.responder.setAllowedThreats(this.allowedThreats(s));
    this.agent.failOpen = s.sensor.failOpen === "allow";
    if (
      JSON.stringify(s.logging.eventExport) !==
        JSON.stringify(prev.cfg.settings.logging.eventExport)
    ) {
      this.agent.exporter?.close();
      this.agent.exporter = this.buildExporter(s);
    }
    const wantSensor = behaviorMonitoringState(s).effective || this.o.trace !== undefined;
    const key = wantSensor ? sensorKey(s) : undefined;
    if (this.o.trace === undefined && key !== this.sensorOpenedWith) {
      log.info("Sensor settings changed: reopening the sensor");
      // Close first: two fanotify groups would both hold every exec.
      await this.agent.replaceSensor(idleSensor());
      await this.agent.replaceSensor(await this.buildSensor(s));
    } else if (prev.rulesVersion !== loaded.version || prev.cfg !== cfg) {
      this.agent.sensor.clearAllowCache();
    }
    if (prev.rulesDir !== rulesDir) this.startWatcher();
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
      threatsByStatus: threatsByStatus(this.store),
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

  private restore(id: string, params: Record<string, unknown>): Restored[] {
    const store = this.store;
    let entries: QuarantineEntry[];
    const one = store.getQuarantine(id);
    if (one) entries = [one];
    else {
      if (!store.get(id)) throw new BmError(`Unknown threat or quarantine entry "${id}"`, 2);
      entries = store.listQuarantine({ threatId: id });
      if (entries.length === 0) throw new BmError(`Threat "${id}" has no file in quarantine`, 2);
    }
    const vault = {
      dir: this.good.cfg.settings.quarantine.path,
      store,
      clock: this.clock,
    };
    return entries.map((entry) => ({
      entry,
      path: restoreFile(entry.id, restoreOptions(params), vault),
    }));
  }

  private async handle(method: string, params: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case "health":
        return this.health(typeof params.details === "string" ? params.details : undefined);
      case "reload":
        return await this.reload("control socket");
      case "hot_event_sources": {
        const limit = typeof params.limit === "number" ? params.limit : 20;
        return { total: this.agent.hot.total, sources: this.agent.hot.top(limit) };
      }
      case "engine_stats":
        return {
          engine: this.engine.stats(),
          agent: this.agent.counters,
          rtp: { ...this.rtp.counters, pending: this.rtp.pending },
        };
      case "threat_list": {
        const status = typeof params.status === "string" ? params.status : undefined;
        if (status !== undefined && !(THREAT_STATUSES as readonly string[]).includes(status)) {
          throw new BmError(`Unknown threat status "${status}"`, 2);
        }
        return this.store.list(status ? { status: status as ThreatStatus } : {});
      }
      case "threat_get_or_null":
        return this.store.get(String(params.id ?? "")) ?? null;
      case "quarantine_list": {
        const q: QuarantineQuery = {};
        if (typeof params.threatId === "string") q.threatId = params.threatId;
        if (params.includeRestored === true) q.includeRestored = true;
        return this.store.listQuarantine(q);
      }
      case "allowed_list":
        return this.store.listAllowed();
      case "allowed_add":
      case "allowed_remove": {
        const name = String(params.name ?? "");
        if (name === "") throw new BmError("A threat name is needed", 2);
        const changed = method === "allowed_add"
          ? this.store.addAllowed(name)
          : this.store.removeAllowed(name);
        // takes effect in the running engine and responder at once
        const s = this.good.cfg.settings;
        this.engine.setOptions({ allowedThreats: this.allowedThreats(s) });
        this.responder.setAllowedThreats(this.allowedThreats(s));
        return changed;
      }
      case "threat_restore":
        return this.restore(String(params.id ?? ""), params);
      case "threat_get": {
        const id = String(params.id ?? "");
        const t = this.store.get(id);
        if (!t) throw new BmError(`Unknown threat "${id}"`, 2);
        return t;
      }
      default:
        throw new BmError(`Unknown control method "${method}"`, 2);
    }
  }
}

function restoreOptions(p: Record<string, unknown>): RestoreOptions {
  const o: RestoreOptions = {};
  if (typeof p.destination === "string") o.destination = p.destination;
  if (p.force === true) o.force = true;
  return o;
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

export function threatsByStatus(store: ThreatStore): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of store.list()) out[t.status] = (out[t.status] ?? 0) + 1;
  return out;
}

/** Debug knob for tests of invariant 1: BM_DEBUG_STALL_MS holds every batch with an auth event. */
function debugStallMs(env: { get(name: string): string | undefined }): number {
  const v = Number(env.get("BM_DEBUG_STALL_MS") ?? "0");
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/** A sensor with no events: behavior monitoring off or unavailable. */
export function idleSensor(): Sensor {
  let closed = false;
  let wake: (() => void) | undefined;
  return {
    subsystem: "none",
    next: (ms) =>
      closed ? Promise.resolve(null) : new Promise((r) => {
        const t = setTimeout(() => r(closed ? null : []), ms);
        wake = () => {
          clearTimeout(t);
          r(null);
        };
      }),
    respond: () => {},
    denyProcess: () => {},
    denyExecutable: () => {},
    clearAllowCache: () => {},
    stats: emptyStats,
    close: () => {
      closed = true;
      wake?.();
      return Promise.resolve();
    },
  };
}
