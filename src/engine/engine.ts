/**
 * The behavior engine: one event in, verdicts (and the auth answer) out.
 *
 * Stages per event: process table -> rules indexed by event kind (first
 * steps) and partial sequences indexed by relation key (later steps) ->
 * firing -> score with decay per lineage -> verdict -> auth answer.
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
import type { BmEvent, EventAction } from "../sensor/event.ts";
import type { AuthAnswer } from "../sensor/sensor.ts";
import type { Clock } from "../clock.ts";
import type {
  ActionRequest,
  LineageEntry,
  RuleHit,
  ScoreStep,
  Severity,
  Verdict,
} from "./verdict.ts";
import type { MatchCtx } from "./fields.ts";
import { type Proc, ProcessTable, type SeedProcess } from "./process_table.ts";
import type { CompiledRule, CompiledStep, Platform, Relation, RuleSet } from "./rule_set.ts";
import { lacksNeeded } from "./conditions.ts";
import { compileExclusions, type Exclusion, type PathMatcher } from "./exclusions.ts";

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

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  platform: "linux",
  threshold: 100,
  halfLifeMs: 10 * 60_000,
  mode: "block",
  exclusions: [],
  allowedThreats: [],
  rtpBlocklist: new Set(),
  forwardRtp: false,
  processTableMax: 50_000,
  exitedRetentionMs: 5 * 60_000,
  rtpScore: 60,
  partialsMax: 50_000,
};

export interface EngineOutput {
  verdicts: Verdict[];
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
}

interface Firingrec {
  rule: CompiledRule;
  time: number;
  entityId: string;
  events: BmEvent[][];
}

interface ScoreRec {
  firing: Firingrec;
  before: number;
  added: number;
  after: number;
}

/** An in-flight sequence. Kept small: thousands may wait at once (write, then exec). */
interface PartialMatch {
  rt: RuleRt;
  next: number;
  deadline: number;
  procs: Proc[];
  /** Per matched step: its event, or its events for a `count` step. */
  events: (BmEvent | BmEvent[])[];
  /** Captured values per step; undefined while no step captured anything. */
  refs: (unknown[] | undefined)[] | undefined;
  count: number;
  distinct: Set<unknown> | undefined;
  stamp: number;
  lastEventNo: number;
  dead: boolean;
  /** Where it is registered: the first bucket inline, the rest (lineage) flat as map, key, ... */
  regMap: Map<string, PartialMatch[]> | undefined;
  regKey: string;
  regMore: (Map<string, PartialMatch[]> | string)[] | undefined;
  /** Key in `rt.ident` while waiting for step 2. */
  identKey: string | undefined;
}

interface Counter {
  times: number[];
  distinct: Map<unknown, number> | undefined;
  events: BmEvent[];
  last: number;
}

/** Partials waiting for one step under one of its relations. */
interface RelIndex {
  rel: Relation;
  /** By relation key (see `register`). */
  m: Map<string, PartialMatch[]>;
  /** Lineage only: by the entity id of the step they refer to (the event's process descends from it). */
  down: Map<string, PartialMatch[]> | undefined;
}

/** One rule in one arrival order (an ordered rule has one; `ordered = false` one per order). */
interface RuleRt {
  rule: CompiledRule;
  /** The steps in arrival order. */
  steps: readonly CompiledStep[];
  /** Arrival position -> written step index; undefined when they are the same. */
  perm: readonly number[] | undefined;
  /** Key for per-process bookkeeping of this order (auth exec matches). */
  key: string;
  /** Per step index >= 1: partials waiting for it, per relation of the step. */
  waiters: RelIndex[][];
  /** First-step counters by group key (count > 1 on step 1). */
  counters: Map<string, Counter> | undefined;
  /**
   * Partials still waiting for step 2, by first-step process and captured
   * values: a newer identical start replaces the older one (same meaning, later
   * deadline), so a process rewriting one temp file holds one partial, not thousands.
   */
  ident: Map<string, PartialMatch>;
}

type StepRef = { rt: RuleRt; k: number; step: CompiledStep };

const SEVERITY_ORDER: Severity[] = ["low", "medium", "high", "critical"];
const MAX_HITS_PER_PROC = 32;
const MAX_DEPTH = 64;
const SWEEP_EVERY = 4096;

export class Engine {
  private opts: EngineOptions;
  private rules: RuleSet;
  private table: ProcessTable;
  private first = new Map<EventAction, StepRef[]>();
  private later = new Map<EventAction, StepRef[]>();
  private rts: RuleRt[] = [];
  private activeRules = 0;
  private partialQueue: PartialMatch[] = [];
  private partialHead = 0;
  private livePartials = 0;
  private excludePath: PathMatcher | undefined;
  private allowed: Set<string>;
  private eventNo = 0;
  private lastSweep = -Infinity;
  private ctx: MatchCtx = {
    ev: undefined as unknown as BmEvent,
    proc: undefined as unknown as Proc,
    refs: undefined,
  };
  private s = {
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
    partialsExpired: 0,
    partialsEvicted: 0,
  };
  /** Called on every rule firing (rule tests, tracing). */
  onFire: ((f: Firing) => void) | undefined;

  constructor(rules: RuleSet, options: EngineOptions, private clock: Clock) {
    this.opts = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    this.rules = rules;
    this.table = new ProcessTable(this.opts.processTableMax, this.opts.exitedRetentionMs);
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
      ...this.s,
      partials: this.livePartials,
      processes: t.processes,
      liveProcesses: t.live,
      processEvictions: t.evictions,
      exitedExpired: t.expiredExited,
      rules: this.activeRules,
    };
  }

  /** Partial sequences in flight per rule id (tuning, `bm health`). */
  partialCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = this.partialHead; i < this.partialQueue.length; i++) {
      const p = this.partialQueue[i]!;
      if (!p.dead) out[p.rt.rule.id] = (out[p.rt.rule.id] ?? 0) + 1;
    }
    return out;
  }

  /** The process table's view of a process (tests, `bm replay`). */
  processByPid(pid: number): Proc | undefined {
    return this.table.byPidLookup(pid);
  }

  private buildIndex(): void {
    for (const rt of this.rts) {
      for (const ris of rt.waiters) {
        for (const ri of ris) {
          ri.m.clear();
          ri.down?.clear();
        }
      }
      rt.ident.clear();
    }
    this.partialQueue = [];
    this.partialHead = 0;
    this.livePartials = 0;
    this.first.clear();
    this.later.clear();
    const active = this.rules.rules.filter((r) => r.platforms.includes(this.opts.platform));
    if (
      this.opts.forwardRtp &&
      !active.some((r) => r.steps.some((s) => s.actions.includes("rtp_verdict")))
    ) {
      active.push(this.builtinRtpRule());
    }
    this.activeRules = active.length;
    this.rts = active.flatMap((rule) =>
      (rule.orders ?? [{ steps: rule.steps, perm: undefined }]).map((o, v): RuleRt => ({
        rule,
        steps: o.steps,
        perm: o.perm,
        key: v === 0 ? rule.id : `${rule.id}#${v}`,
        waiters: o.steps.map((st, k) =>
          k === 0 ? [] : st.relations.map((rel) => ({
            rel,
            m: new Map<string, PartialMatch[]>(),
            down: rel === "lineage" ? new Map<string, PartialMatch[]>() : undefined,
          }))
        ),
        counters: o.steps[0]!.count > 1 ? new Map<string, Counter>() : undefined,
        ident: new Map<string, PartialMatch>(),
      }))
    );
    for (const rt of this.rts) {
      rt.steps.forEach((step, k) => {
        const idx = k === 0 ? this.first : this.later;
        for (const a of step.actions) {
          let list = idx.get(a);
          if (!list) idx.set(a, list = []);
          list.push({ rt, k, step });
        }
      });
    }
  }

  private builtinRtpRule(): CompiledRule {
    const os = this.opts.platform === "linux" ? "Linux" : "MacOS";
    return {
      id: "builtin.rtp_forward",
      name: `Behavior:${os}/RtpForward.A`,
      description: "Real-time protection flagged a file this process wrote or ran",
      platforms: [this.opts.platform],
      severity: "medium",
      score: this.opts.rtpScore ?? 60,
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

  process(event: BmEvent): EngineOutput {
    const verdicts: Verdict[] = [];
    this.run(event, verdicts);
    const authId = event.bm?.auth_id;
    if (authId === undefined) return { verdicts };
    let allow = true;
    for (const v of verdicts) {
      for (const a of v.actions) if (a.type === "block" && a.auth_id === authId) allow = false;
    }
    this.s.authAnswers++;
    if (!allow) this.s.authDenied++;
    return { verdicts, auth: { authId, allow, cache: false } };
  }

  private run(ev: BmEvent, verdicts: Verdict[]): void {
    const now = ev["@timestamp"];
    this.eventNo++;
    this.s.events++;
    const proc = this.table.apply(ev);
    const execPair = this.table.lastExecPair;
    if (ev.event.action === "exec" && ev.bm?.auth_id !== undefined) proc.authExecNo = this.eventNo;
    if (this.eventNo % SWEEP_EVERY === 0 || now - this.lastSweep > 10_000) this.sweep(now);
    if (this.isExcluded(ev, proc)) {
      this.s.excludedEvents++;
      return;
    }
    const scope = this.opts.scopePid;
    if (scope !== undefined && !withinScope(proc, scope)) {
      this.s.outOfScopeEvents++;
      return;
    }
    const action = ev.event.action;
    const ctx = this.ctx;
    ctx.ev = ev;
    ctx.proc = proc;
    const later = this.later.get(action);
    if (later !== undefined) {
      for (const ref of later) this.matchLater(ref, ev, proc, execPair, now, verdicts);
    }
    const first = this.first.get(action);
    if (first !== undefined) {
      for (const ref of first) this.matchFirst(ref, ev, proc, execPair, now, verdicts);
    }
    if (
      this.opts.forwardRtp && (action === "exec" || action === "close_modified") &&
      this.opts.rtpBlocklist.size > 0
    ) {
      const file = (ev as { file?: { path: string; hash?: { sha256?: string } } }).file;
      const h = file?.hash?.sha256?.toLowerCase();
      if (file !== undefined && h !== undefined && this.opts.rtpBlocklist.has(h)) {
        this.s.rtpVerdicts++;
        const synth: BmEvent = {
          "@timestamp": now,
          event: { action: "rtp_verdict" },
          process: { pid: proc.pid, entity_id: proc.entity_id, start: proc.start },
          file,
          bm: { source: "engine", rtp_threat: `sha256:${h}` },
        };
        if (proc.executable !== "") synth.process.executable = proc.executable;
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
      const got = this.countFirst(rt, step, groupProc.entity_id, ev, now);
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
      if (old !== undefined) this.kill(old);
      p.identKey = key;
      rt.ident.set(key, p);
    }
    this.addPartial(p);
  }

  /** Burst counting on a first step; returns the burst's events when complete. */
  private countFirst(
    rt: RuleRt,
    step: CompiledStep,
    key: string,
    ev: BmEvent,
    now: number,
  ): BmEvent[] | undefined {
    const counters = rt.counters!;
    const span = rt.rule.maxspanMs;
    let c = counters.get(key);
    if (c === undefined) {
      c = { times: [], distinct: step.distinct ? new Map() : undefined, events: [], last: now };
      counters.set(key, c);
    }
    c.last = now;
    let n: number;
    if (c.distinct !== undefined) {
      const v = step.distinct!(this.ctx);
      if (v === undefined || v === null) return undefined;
      const k = Array.isArray(v) ? v.join("\u0000") : v;
      for (const [dv, t] of c.distinct) if (now - t > span) c.distinct.delete(dv);
      c.distinct.delete(k);
      c.distinct.set(k, now);
      n = c.distinct.size;
    } else {
      c.times.push(now);
      while (c.times.length > 0 && now - c.times[0]! > span) c.times.shift();
      n = c.times.length;
    }
    c.events.push(ev);
    while (c.events.length > 0 && now - c.events[0]!["@timestamp"] > span) c.events.shift();
    if (c.events.length > step.count) c.events.splice(0, c.events.length - step.count);
    if (n < step.count) return undefined;
    counters.delete(key);
    return c.events;
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
        this.kill(p);
        this.s.partialsExpired++;
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
    this.forget(p);
    const cap = this.capture(step);
    if (cap !== undefined) (p.refs ??= [])[k] = cap;
    this.unregister(p);
    if (k === p.rt.steps.length - 1) {
      this.kill(p);
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
    this.register(p);
  }

  private addPartial(p: PartialMatch): void {
    const max = this.opts.partialsMax ?? 100_000;
    while (this.livePartials >= max && this.partialHead < this.partialQueue.length) {
      const old = this.partialQueue[this.partialHead++]!;
      if (!old.dead) {
        this.kill(old);
        this.s.partialsEvicted++;
      }
    }
    this.partialQueue.push(p);
    this.livePartials++;
    this.register(p);
  }

  private register(p: PartialMatch): void {
    const step = p.rt.steps[p.next]!;
    const r = p.procs[step.of]!;
    const add = (map: Map<string, PartialMatch[]>, key: string) => {
      let b = map.get(key);
      if (b === undefined) map.set(key, b = []);
      b.push(p);
      if (p.regMap === undefined) {
        p.regMap = map;
        p.regKey = key;
      } else (p.regMore ??= []).push(map, key);
    };
    for (const ri of p.rt.waiters[p.next]!) {
      const m = ri.m;
      switch (ri.rel) {
        case "same":
        case "child":
        case "descendant":
          add(m, r.entity_id);
          break;
        case "sibling":
          if (r.parent !== undefined) add(m, r.parent.entity_id);
          break;
        case "lineage": {
          // Up: the event's process is `r` or an ancestor of it. Down: `r` is an ancestor of it.
          add(m, r.entity_id);
          add(ri.down!, r.entity_id);
          for (let a = r.parent, n = 0; a !== undefined && n < MAX_DEPTH; a = a.parent, n++) {
            add(m, a.entity_id);
          }
          break;
        }
      }
    }
  }

  private forget(p: PartialMatch): void {
    if (p.identKey === undefined) return;
    if (p.rt.ident.get(p.identKey) === p) p.rt.ident.delete(p.identKey);
    p.identKey = undefined;
  }

  private unregister(p: PartialMatch): void {
    if (p.regMap === undefined) return;
    unlist(p, p.regMap, p.regKey);
    const more = p.regMore;
    if (more !== undefined) {
      for (let i = 0; i < more.length; i += 2) {
        unlist(p, more[i] as Map<string, PartialMatch[]>, more[i + 1] as string);
      }
    }
    p.regMap = undefined;
    p.regMore = undefined;
  }

  private kill(p: PartialMatch): void {
    if (p.dead) return;
    p.dead = true;
    this.forget(p);
    this.livePartials--;
    this.unregister(p);
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    this.table.sweep(now);
    const q = this.partialQueue;
    while (this.partialHead < q.length) {
      const p = q[this.partialHead]!;
      if (!p.dead && now <= p.deadline) break;
      this.partialHead++;
      if (!p.dead) {
        this.kill(p);
        this.s.partialsExpired++;
      }
    }
    if (this.partialHead > 4096 && this.partialHead * 2 > q.length) {
      this.partialQueue = q.slice(this.partialHead);
      this.partialHead = 0;
    }
    for (const rt of this.rts) {
      if (rt.counters === undefined) continue;
      for (const [key, c] of rt.counters) {
        if (now - c.last > rt.rule.maxspanMs) rt.counters.delete(key);
      }
    }
  }

  /** A rule completed: score the lineage and maybe give a verdict. */
  private fire(
    rt: RuleRt,
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
    this.s.firings++;
    const firingProc = procs[procs.length - 1]!;
    this.onFire?.({ ruleId: rule.id, entityId: firingProc.entity_id, time: now });
    const firing: Firingrec = { rule, time: now, entityId: firingProc.entity_id, events };
    const thr = this.opts.threshold;
    // The process whose score crossed: the firing process or an ancestor. It
    // explains the verdict (score, score path); the verdict itself is about
    // the firing process and its actions target what the rule names.
    let crossed: Proc | undefined;
    for (
      let a: Proc | undefined = firingProc, n = 0;
      a !== undefined && n < MAX_DEPTH && (a === firingProc || a.pid > 1);
      a = a.parent, n++
    ) {
      const before = this.decayed(a, now);
      const after = before + rule.score;
      a.score = after;
      a.scoreTime = now;
      const hits = (a.hits ??= []);
      hits.push({ firing, before, added: rule.score, after } satisfies ScoreRec);
      if (hits.length > MAX_HITS_PER_PROC) hits.shift();
      if (crossed === undefined && before < thr && after >= thr) crossed = a;
    }
    if (rule.score >= thr) crossed = firingProc;
    if (crossed === undefined) return;
    const v = this.verdict(rule, crossed, firingProc, procs, events, ev, proc, now);
    if (
      this.excludePath !== undefined && crossed.executable !== "" &&
      this.excludePath(crossed.executable)
    ) {
      this.s.suppressedByExclusion++;
      return;
    }
    if (this.allowed.has(v.name)) {
      this.s.suppressedByAllowedThreat++;
      return;
    }
    this.s.verdicts++;
    verdicts.push(v);
  }

  private decayed(p: Proc, now: number): number {
    if (p.score === 0) return 0;
    const h = this.opts.halfLifeMs;
    const dt = now - p.scoreTime;
    if (h <= 0 || dt <= 0) return p.score;
    return p.score * Math.pow(0.5, dt / h);
  }

  private verdict(
    rule: CompiledRule,
    crossed: Proc,
    firingProc: Proc,
    procs: Proc[],
    events: BmEvent[][],
    ev: BmEvent,
    proc: Proc,
    now: number,
  ): Verdict {
    // Hits older than 8 half-lives add under 0.4% and no longer explain anything.
    const h = this.opts.halfLifeMs;
    const recs = ((crossed.hits ?? []) as ScoreRec[]).filter((r) =>
      h <= 0 || now - r.firing.time <= 8 * h
    );
    const allEvents: BmEvent[] = [];
    const index = new Map<BmEvent, number>();
    const hits: RuleHit[] = [];
    const scorePath: ScoreStep[] = [];
    const ruleIds: string[] = [];
    const techniques = new Set<string>();
    const tactics = new Set<string>();
    let sev = 0;
    // Events oldest first across every contributing firing.
    const flat: BmEvent[] = [];
    for (const r of recs) for (const list of r.firing.events) for (const e of list) flat.push(e);
    const sorted = flat.map((e, i) => [e, i] as const).sort((a, b) =>
      a[0]["@timestamp"] - b[0]["@timestamp"] || a[1] - b[1]
    );
    for (const [e] of sorted) {
      if (!index.has(e)) {
        index.set(e, allEvents.length);
        allEvents.push(e);
      }
    }
    for (const r of recs) {
      const f = r.firing;
      if (!ruleIds.includes(f.rule.id)) ruleIds.push(f.rule.id);
      for (const t of f.rule.techniques) techniques.add(t);
      for (const t of f.rule.tactics) tactics.add(t);
      sev = Math.max(sev, SEVERITY_ORDER.indexOf(f.rule.severity));
      hits.push({
        rule_id: f.rule.id,
        name: f.rule.name,
        score: f.rule.score,
        time: f.time,
        entity_id: f.entityId,
        event_indexes: f.events.flat().map((e) => index.get(e)!),
      });
      scorePath.push({
        time: f.time,
        entity_id: crossed.entity_id,
        rule_id: f.rule.id,
        before: r.before,
        added: r.added,
        after: r.after,
      });
    }
    const mode = this.opts.mode;
    const actions: ActionRequest[] = [{ type: "report" }];
    if (mode === "block") {
      const seen = new Set<string>();
      const push = (a: ActionRequest) => {
        if (a.type === "kill") {
          // One kill per process; a tree kill subsumes a single kill of it.
          const i = actions.findIndex((b) => b.type === "kill" && b.entity_id === a.entity_id);
          const b = actions[i];
          if (b?.type === "kill") {
            if (a.tree && !b.tree) actions[i] = a;
            return;
          }
        }
        const key = JSON.stringify(a);
        if (!seen.has(key)) {
          seen.add(key);
          actions.push(a);
        }
      };
      for (const a of rule.actions) {
        if (a.type === "block") {
          const authId = ev.bm?.auth_id;
          if (authId !== undefined) {
            push({ type: "block", auth_id: authId, pid: proc.pid, entity_id: proc.entity_id });
          } else {
            push({
              type: "kill",
              pid: proc.pid,
              start: proc.start,
              entity_id: proc.entity_id,
              tree: false,
            });
          }
        } else if (a.type === "kill") {
          const p = procs[a.step] ?? proc;
          push({ type: "kill", pid: p.pid, start: p.start, entity_id: p.entity_id, tree: a.tree });
        } else if (a.type === "quarantine") {
          const list = events[a.step];
          const e = list?.[list.length - 1];
          const p = procs[a.step] ?? proc;
          const f = (e as { file?: { path: string } } | undefined)?.file?.path;
          const path = f ?? (e?.event.action === "exec" ? p.executable : undefined);
          if (path !== undefined && path !== "") {
            push({ type: "quarantine", path, entity_id: p.entity_id });
          }
        }
      }
    }
    return {
      name: rule.name,
      rule_ids: ruleIds,
      severity: SEVERITY_ORDER[sev]!,
      techniques: [...techniques],
      tactics: [...tactics],
      score: crossed.score,
      threshold: this.opts.threshold,
      time: now,
      mode,
      // The process the firing rule matched, never an ancestor merely because its score crossed.
      process: {
        pid: firingProc.pid,
        entity_id: firingProc.entity_id,
        executable: firingProc.executable,
        args: firingProc.args ?? [],
        start: firingProc.start,
      },
      lineage: this.table.lineage(firingProc).map(lineageEntry),
      hits,
      score_path: scorePath,
      events: allEvents,
      actions,
    };
  }
}

/** Arrival order -> written step order. */
function written<T>(perm: readonly number[], xs: readonly T[]): T[] {
  const out = new Array<T>(xs.length);
  for (let i = 0; i < perm.length; i++) out[perm[i]!] = xs[i]!;
  return out;
}

function unlist(p: PartialMatch, m: Map<string, PartialMatch[]>, key: string): void {
  const b = m.get(key);
  if (b === undefined) return;
  const i = b.lastIndexOf(p);
  if (i >= 0) b.splice(i, 1);
  if (b.length === 0) m.delete(key);
}

function lineageEntry(p: Proc): LineageEntry {
  const e: LineageEntry = {
    entity_id: p.entity_id,
    pid: p.pid,
    start: p.start,
    executable: p.executable,
    args: p.args ?? [],
  };
  if (p.working_directory !== undefined) e.working_directory = p.working_directory;
  if (p.uid !== undefined) e.uid = p.uid;
  if (p.exited) e.exited = true;
  return e;
}

/** True when `proc` is `scopePid` or descends from it (bounded walk: lineages are shallow). */
function withinScope(proc: Proc, scopePid: number): boolean {
  let p: Proc | undefined = proc;
  for (let depth = 0; p !== undefined && depth < 256; depth++, p = p.parent) {
    if (p.pid === scopePid) return true;
  }
  return false;
}
