/**
 * The behavior engine: one event in, verdicts (and the auth answer) out.
 *
 * Stages per event: process table (process_table.ts) -> rules indexed by
 * event kind (event_index.ts: first steps, bursts.ts for counted ones) and
 * partial sequences indexed by relation key (partials.ts: later steps) ->
 * firing -> score with decay per lineage (scoring.ts) -> verdict and its
 * actions (verdict_plan.ts) -> auth answer. This module matches steps and
 * drives the stages; forwarded RTP verdicts come from builtin_rtp.ts.
 *
 * Deterministic (invariant 3): time comes only from events (and the Clock for
 * seeding); no I/O, no randomness. Replaying the same events into a fresh
 * Engine gives the same verdicts.
 *
 * Linux exec pairs: an auth exec (file known, args absent) is followed by a
 * notify exec (args present) for the same process. A first step matched at
 * the auth exec is not matched again at its notify exec, and a rule fires at
 * most once per first-step process, so the pair never double-fires.
 */
import { boundEvent } from "./bounds.ts";
import type { BmEvent } from "../sensor/event.ts";
import type { AuthAnswer } from "../sensor/sensor.ts";
import type { Clock } from "../clock.ts";
import type { Verdict } from "./verdict.ts";
import type { MatchCtx } from "./fields.ts";
import { type Proc, ProcessTable, type SeedProcess } from "./process_table.ts";
import type { CompiledRule, CompiledStep, Platform, Relation, RuleSet } from "./rule_set.ts";
import { lacksNeeded } from "./conditions.ts";
import { compileExclusions, type Exclusion, type PathMatcher } from "./exclusions.ts";
import { EventIndex, type RuleOrder, type StepRef } from "./event_index.ts";
import { type PartialMatch, Partials } from "./partials.ts";
import { type FiringRecord, Scoring } from "./scoring.ts";
import { buildVerdict } from "./verdict_plan.ts";
import { type RuleAlert, ruleAlert } from "./rule_alert.ts";
import { ENGINE_DEFAULTS } from "../config/defaults.ts";
import { builtinRtpRule, packScoresRtp, rtpVerdictEvent } from "./builtin_rtp.ts";

export type { SeedProcess } from "./process_table.ts";
export type { Exclusion } from "./exclusions.ts";

export interface EngineOptions {
  platform: Platform;
  /** Score at which a lineage gets a verdict (`engine.scoreThreshold`). */
  threshold: number;
  /** Scores halve every `halfLifeMs` of event time; 0 disables decay. */
  halfLifeMs: number;
  /** "audit": verdicts carry report actions only (blockExecution disabled). */
  mode: "block" | "audit";
  exclusions: readonly Exclusion[];
  /** Threat names whose verdicts are suppressed. */
  allowedThreats: readonly string[];
  /** Lower-case hex SHA-256 values of known-bad files (forwardRtpToBm). */
  rtpBlocklist: ReadonlySet<string>;
  forwardRtp: boolean;
  processTableMax: number;
  exitedRetentionMs: number;
  /** Score the built-in forwarded-RTP rule adds when the pack has no rtp_verdict rule. */
  rtpScore?: number;
  /** Bound on in-flight partial sequences; the oldest are evicted and counted. */
  partialsMax?: number;
  /**
   * Confines rules to this pid and its descendants (tests and the demonstration:
   * the proc connector reports every process on the machine, and an agent under
   * test must not act on the machine's other processes). Other processes still
   * enter the process table, so lineage stays whole. Unset: the whole system.
   */
  scopePid?: number;
}

/**
 * The engine options of the default settings (config/defaults.ts, the one
 * source of the numbers), block mode, no exclusions, forwarded RTP off.
 */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  platform: "linux",
  threshold: ENGINE_DEFAULTS.scoreThreshold,
  halfLifeMs: ENGINE_DEFAULTS.decayHalfLifeSeconds * 1000,
  mode: "block",
  exclusions: [],
  allowedThreats: [],
  rtpBlocklist: new Set(),
  forwardRtp: false,
  processTableMax: ENGINE_DEFAULTS.processTableMax,
  exitedRetentionMs: ENGINE_DEFAULTS.exitedRetentionSeconds * 1000,
  rtpScore: 60,
  partialsMax: 50_000,
};

export interface EngineOutput {
  verdicts: Verdict[];
  /** Every rule firing of this event, below the threshold too, in firing order. */
  alerts: RuleAlert[];
  /** Set for every auth event (bm.auth_id defined). */
  auth?: AuthAnswer;
}

export interface EngineStats {
  events: number;
  /** Events not given to rules because their process or file is excluded. */
  excludedEvents: number;
  /** Events not given to rules because their process is outside `scopePid`. */
  outOfScopeEvents: number;
  firings: number;
  verdicts: number;
  suppressedByExclusion: number;
  suppressedByAllowedThreat: number;
  rtpVerdicts: number;
  authAnswers: number;
  authDenied: number;
  partials: number;
  partialsExpired: number;
  partialsEvicted: number;
  processes: number;
  liveProcesses: number;
  processEvictions: number;
  exitedExpired: number;
  /** Rules active for the platform. */
  rules: number;
}

/** One rule firing, as the `bm rules test` runner and debuggers see it. */
export interface Firing {
  ruleId: string;
  entityId: string;
  time: number;
  /** The firing process's score after this firing (undecayed). */
  score: number;
}

const MAX_DEPTH = 64;
const SWEEP_EVERY = 4096;

export class Engine {
  private opts: EngineOptions;
  private rules: RuleSet;
  private readonly table: ProcessTable;
  private readonly index = new EventIndex();
  private readonly partials: Partials;
  private readonly scoring: Scoring;
  /** Firings of the event in progress; handed out by `process`. */
  private alerts: RuleAlert[] = [];
  private activeRules = 0;
  private excludePath: PathMatcher | undefined;
  private allowed: Set<string>;
  private eventNo = 0;
  private lastSweep = -Infinity;
  private ctx: MatchCtx = {
    ev: undefined as unknown as BmEvent,
    proc: undefined as unknown as Proc,
    refs: undefined,
  };
  private counts = {
    events: 0,
    excludedEvents: 0,
    outOfScopeEvents: 0,
    firings: 0,
    verdicts: 0,
    suppressedByExclusion: 0,
    suppressedByAllowedThreat: 0,
    rtpVerdicts: 0,
    authAnswers: 0,
    authDenied: 0,
  };
  /** Called on every rule firing (rule tests, tracing). */
  onFire: ((f: Firing) => void) | undefined;

  constructor(rules: RuleSet, options: EngineOptions, private clock: Clock) {
    this.opts = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    this.rules = rules;
    this.table = new ProcessTable(this.opts.processTableMax, this.opts.exitedRetentionMs);
    this.partials = new Partials(this.opts.partialsMax ?? 100_000);
    this.scoring = new Scoring(this.opts.halfLifeMs);
    this.excludePath = compileExclusions(this.opts.exclusions);
    this.allowed = new Set(this.opts.allowedThreats);
    this.buildIndex();
  }

  /** Swaps the rule set; in-flight sequences are dropped, process scores kept. */
  setRules(r: RuleSet): void {
    this.rules = r;
    this.buildIndex();
  }

  setOptions(o: Partial<EngineOptions>): void {
    const platformChanged = o.platform !== undefined && o.platform !== this.opts.platform;
    const rtpChanged = o.forwardRtp !== undefined || o.rtpScore !== undefined ||
      o.threshold !== undefined;
    this.opts = { ...this.opts, ...o };
    this.table.max = this.opts.processTableMax;
    this.table.exitedRetentionMs = this.opts.exitedRetentionMs;
    this.partials.max = this.opts.partialsMax ?? 100_000;
    this.scoring.halfLifeMs = this.opts.halfLifeMs;
    if (o.exclusions !== undefined) this.excludePath = compileExclusions(this.opts.exclusions);
    if (o.allowedThreats !== undefined) this.allowed = new Set(this.opts.allowedThreats);
    if (platformChanged || rtpChanged) this.buildIndex();
  }

  seed(procs: SeedProcess[]): void {
    this.table.seed(procs, this.clock.now());
  }

  stats(): EngineStats {
    const t = this.table.stats();
    return {
      ...this.counts,
      partials: this.partials.live,
      partialsExpired: this.partials.expired,
      partialsEvicted: this.partials.evicted,
      processes: t.processes,
      liveProcesses: t.live,
      processEvictions: t.evictions,
      exitedExpired: t.expiredExited,
      rules: this.activeRules,
    };
  }

  /** Partial sequences in flight per rule id (tuning, `bm health`). */
  partialCounts(): Record<string, number> {
    return this.partials.countsByRule();
  }

  private buildIndex(): void {
    // a held write may come as late as its rule's span: its exited writer stays that long
    let hold = 0;
    for (const r of this.rules.rules) {
      if (r.steps[0]?.holdUntilExec) hold = Math.max(hold, r.maxspanMs);
    }
    this.table.pinnedRetentionMs = hold;
    this.partials.clear();
    const active = this.rules.rules.filter((r) => r.platforms.includes(this.opts.platform));
    if (this.opts.forwardRtp && !packScoresRtp(active)) {
      active.push(builtinRtpRule(this.opts.platform, this.opts.rtpScore ?? 60));
    }
    this.activeRules = active.length;
    this.index.build(active);
  }

  process(input: BmEvent): EngineOutput {
    // Conditions see bounded strings only (bounds.ts): the cost per event is bounded.
    const event = boundEvent(input);
    const verdicts: Verdict[] = [];
    this.run(event, verdicts);
    const alerts = this.alerts;
    if (alerts.length > 0) this.alerts = [];
    const authId = event.bm?.auth_id;
    if (authId === undefined) return { verdicts, alerts };
    let allow = true;
    for (const v of verdicts) {
      for (const a of v.actions) if (a.type === "block" && a.auth_id === authId) allow = false;
    }
    this.counts.authAnswers++;
    if (!allow) this.counts.authDenied++;
    return { verdicts, alerts, auth: { authId, allow, cache: false } };
  }

  private run(ev: BmEvent, verdicts: Verdict[]): void {
    const now = ev["@timestamp"];
    this.eventNo++;
    this.counts.events++;
    const proc = this.table.apply(ev);
    const execPair = this.table.lastExecPair;
    if (ev.event.action === "exec" && ev.bm?.auth_id !== undefined) proc.authExecNo = this.eventNo;
    if (this.eventNo % SWEEP_EVERY === 0 || now - this.lastSweep > 10_000) this.sweep(now);
    if (this.isExcluded(ev, proc)) {
      this.counts.excludedEvents++;
      return;
    }
    const scope = this.opts.scopePid;
    if (scope !== undefined && !withinScope(proc, scope)) {
      this.counts.outOfScopeEvents++;
      return;
    }
    const action = ev.event.action;
    const ctx = this.ctx;
    ctx.ev = ev;
    ctx.proc = proc;
    const later = this.index.later.get(action);
    if (later !== undefined) {
      for (const ref of later) this.matchLater(ref, ev, proc, execPair, now, verdicts);
    }
    const first = this.index.firstFor(action, ctx);
    if (first !== undefined) {
      for (const ref of first) this.matchFirst(ref, ev, proc, execPair, now, verdicts);
    }
    if (this.opts.forwardRtp) {
      const synth = rtpVerdictEvent(ev, proc, this.opts.rtpBlocklist);
      if (synth !== undefined) {
        this.counts.rtpVerdicts++;
        this.run(synth, verdicts);
      }
    }
  }

  private isExcluded(ev: BmEvent, proc: Proc): boolean {
    const m = this.excludePath;
    if (m === undefined) return false;
    if (proc.executable !== "" && m(proc.executable)) return true;
    const f = (ev as { file?: { path: string; target_path?: string } }).file;
    if (f === undefined) return false;
    return m(f.path) || (f.target_path !== undefined && m(f.target_path));
  }

  private stepMatches(
    step: CompiledStep,
    rule: CompiledRule,
    refs: PartialMatch["refs"],
  ): boolean {
    const ctx = this.ctx;
    if (step.needs !== 0 && lacksNeeded(step.needs, ctx.proc)) return false;
    ctx.refs = refs;
    if (!step.pred(ctx)) return false;
    return rule.excluded === undefined || !rule.excluded(ctx);
  }

  private capture(step: CompiledStep): unknown[] | undefined {
    if (step.captures.length === 0) return undefined;
    return step.captures.map((a) => a(this.ctx));
  }

  private matchFirst(
    ref: StepRef,
    ev: BmEvent,
    proc: Proc,
    execPair: boolean,
    now: number,
    verdicts: Verdict[],
  ): void {
    const { rt, step } = ref;
    const rule = rt.rule;
    const isExec = ev.event.action === "exec";
    if (execPair && proc.authMatched?.has(rt.key)) return;
    const groupProc = step.count > 1 && step.group === "parent" ? proc.parent : proc;
    if (groupProc === undefined) return;
    // The anchor is the written first step's process; in another order it is known at the end.
    if (rt.perm === undefined && groupProc.fired?.has(rule.id)) return;
    if (!this.stepMatches(step, rule, undefined)) return;
    if (isExec && ev.bm?.auth_id !== undefined) (proc.authMatched ??= new Set()).add(rt.key);
    let events: BmEvent[] = [ev];
    if (step.count > 1) {
      const got = rt.bursts!.add(groupProc.entity_id, ev, now, this.ctx);
      if (got === undefined) return;
      events = got;
    }
    if (rt.steps.length === 1) {
      this.fire(rt, [groupProc], [events], ev, proc, now, verdicts);
      return;
    }
    const cap = this.capture(step);
    const p: PartialMatch = {
      rt,
      next: 1,
      deadline: events[0]!["@timestamp"] + rule.maxspanMs,
      procs: [groupProc],
      events: [events.length === 1 ? events[0]! : events],
      refs: cap === undefined ? undefined : [cap],
      count: 0,
      distinct: undefined,
      stamp: this.eventNo,
      lastEventNo: this.eventNo,
      dead: false,
      regMap: undefined,
      regKey: "",
      regMore: undefined,
      identKey: undefined,
    };
    if (step.count === 1) {
      const key = cap === undefined
        ? groupProc.entity_id
        : `${groupProc.entity_id}\u0000${cap.map(String).join("\u0000")}`;
      const old = rt.ident.get(key);
      if (old !== undefined) this.partials.dropPartial(old);
      p.identKey = key;
      rt.ident.set(key, p);
    }
    this.partials.add(p);
  }

  private matchLater(
    ref: StepRef,
    ev: BmEvent,
    proc: Proc,
    execPair: boolean,
    now: number,
    verdicts: Verdict[],
  ): void {
    const { rt, k } = ref;
    for (const ri of rt.waiters[k]!) {
      const waiters = ri.m;
      if (waiters.size === 0) continue;
      const rel = ri.rel;
      switch (rel) {
        case "same":
          this.visit(waiters.get(proc.entity_id), ref, rel, ev, proc, execPair, now, verdicts);
          break;
        case "child":
        case "sibling":
          if (proc.parent !== undefined) {
            const b = waiters.get(proc.parent.entity_id);
            this.visit(b, ref, rel, ev, proc, execPair, now, verdicts);
          }
          break;
        case "descendant":
          for (let a = proc.parent, n = 0; a !== undefined && n < MAX_DEPTH; a = a.parent, n++) {
            this.visit(waiters.get(a.entity_id), ref, rel, ev, proc, execPair, now, verdicts);
          }
          break;
        case "lineage": {
          this.visit(waiters.get(proc.entity_id), ref, rel, ev, proc, execPair, now, verdicts);
          const down = ri.down!;
          for (let a = proc.parent, n = 0; a !== undefined && n < MAX_DEPTH; a = a.parent, n++) {
            this.visit(down.get(a.entity_id), ref, rel, ev, proc, execPair, now, verdicts);
          }
          break;
        }
      }
    }
  }

  /** Tries the partials of one bucket against the event; newest first (advancing removes). */
  private visit(
    bucket: PartialMatch[] | undefined,
    ref: StepRef,
    rel: Relation,
    ev: BmEvent,
    proc: Proc,
    execPair: boolean,
    now: number,
    verdicts: Verdict[],
  ): void {
    if (bucket === undefined) return;
    const { rt, k, step } = ref;
    const stamp = this.eventNo;
    for (let i = bucket.length - 1; i >= 0; i--) {
      const p = bucket[i];
      if (p === undefined || p.dead || p.stamp === stamp || p.next !== k) continue;
      // Not its own sibling; checked before the stamp, as another relation of the step may hold.
      if (rel === "sibling" && p.procs[step.of] === proc) continue;
      p.stamp = stamp;
      if (now > p.deadline) {
        this.partials.expire(p);
        continue;
      }
      if (execPair && p.lastEventNo === proc.authExecNo) continue;
      if (!this.stepMatches(step, rt.rule, p.refs)) continue;
      this.advance(p, step, ev, proc, now, verdicts);
    }
  }

  private advance(
    p: PartialMatch,
    step: CompiledStep,
    ev: BmEvent,
    proc: Proc,
    now: number,
    verdicts: Verdict[],
  ): void {
    const k = p.next;
    p.lastEventNo = this.eventNo;
    if (step.count > 1) {
      if (step.distinct !== undefined) {
        const v = step.distinct(this.ctx);
        if (v === undefined || v === null) return;
        p.distinct ??= new Set();
        p.distinct.add(Array.isArray(v) ? v.join("\u0000") : v);
        p.count = p.distinct.size;
      } else p.count++;
      const evs = (p.events[k] ??= []) as BmEvent[];
      evs.push(ev);
      if (evs.length > step.count) evs.shift();
      if (p.count < step.count) return;
    } else {
      p.events[k] = ev;
    }
    p.procs[k] = proc;
    this.partials.forget(p);
    const cap = this.capture(step);
    if (cap !== undefined) (p.refs ??= [])[k] = cap;
    this.partials.unregister(p);
    if (k === p.rt.steps.length - 1) {
      this.partials.dropPartial(p);
      // Back to the written step order: actions, anchor and explanation name written steps.
      const perm = p.rt.perm;
      const procs = perm === undefined ? p.procs : written(perm, p.procs);
      const evs = perm === undefined ? p.events : written(perm, p.events);
      const anchor = procs[0]!;
      if (anchor.fired?.has(p.rt.rule.id)) return;
      const events = evs.map((e) => (Array.isArray(e) ? e : [e]));
      this.fire(p.rt, procs, events, ev, proc, now, verdicts);
      return;
    }
    p.next = k + 1;
    p.count = 0;
    p.distinct = undefined;
    this.partials.register(p);
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    this.table.sweep(now);
    this.partials.sweep(now);
    this.index.sweep(now);
  }

  /** A rule completed: score the lineage and maybe give a verdict. */
  private fire(
    rt: RuleOrder,
    procs: Proc[],
    events: BmEvent[][],
    ev: BmEvent,
    proc: Proc,
    now: number,
    verdicts: Verdict[],
  ): void {
    const rule = rt.rule;
    const anchor = procs[0]!;
    (anchor.fired ??= new Set()).add(rule.id);
    this.counts.firings++;
    const firingProc = procs[procs.length - 1]!;
    const firing: FiringRecord = { rule, time: now, entityId: firingProc.entity_id, events };
    const thr = this.opts.threshold;
    // The process whose score crossed: the firing process or an ancestor. It
    // explains the verdict (score, score path); the verdict itself is about
    // the firing process and its actions target what the rule names.
    const crossed = this.scoring.add(firing, firingProc, thr);
    this.alerts.push(ruleAlert(rule, firingProc, events, now, this.table.lineage(firingProc)));
    this.onFire?.({
      ruleId: rule.id,
      entityId: firingProc.entity_id,
      time: now,
      score: this.scoring.score(firingProc),
    });
    if (crossed === undefined) return;
    const v = buildVerdict({
      rule,
      crossed,
      score: this.scoring.score(crossed),
      records: this.scoring.explain(crossed, now),
      firingProc,
      procs,
      events,
      ev,
      proc,
      now,
      threshold: thr,
      mode: this.opts.mode,
      lineage: this.table.lineage(firingProc),
    });
    if (
      this.excludePath !== undefined && crossed.executable !== "" &&
      this.excludePath(crossed.executable)
    ) {
      this.counts.suppressedByExclusion++;
      return;
    }
    if (this.allowed.has(v.name)) {
      this.counts.suppressedByAllowedThreat++;
      return;
    }
    this.counts.verdicts++;
    verdicts.push(v);
  }
}

/** Arrival order -> written step order. */
function written<T>(perm: readonly number[], xs: readonly T[]): T[] {
  const out = new Array<T>(xs.length);
  for (let i = 0; i < perm.length; i++) out[perm[i]!] = xs[i]!;
  return out;
}

/** True when `proc` is `scopePid` or descends from it (bounded walk: lineages are shallow). */
function withinScope(proc: Proc, scopePid: number): boolean {
  let p: Proc | undefined = proc;
  for (let depth = 0; p !== undefined && depth < 256; depth++, p = p.parent) {
    if (p.pid === scopePid) return true;
  }
  return false;
}
