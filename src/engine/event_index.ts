/**
 * The rule index: each active rule, in each of its arrival orders, indexed
 * by the event kinds of its steps. First steps start sequences; later steps
 * are looked up only for kinds some rule is waiting on.
 */
import type { EventAction } from "../sensor/event.ts";
import type { CompiledRule, CompiledStep, Relation } from "./rule_set.ts";
import { Bursts } from "./bursts.ts";
import type { PartialMatch } from "./partials.ts";
import { firstSegment } from "./prefilter.ts";
import type { BmEvent } from "../sensor/event.ts";

/**
 * First steps of one event kind split by the top-level folder their file
 * paths must be in (CompiledStep.segments): a file event visits the steps of
 * its own folders and those that may match anywhere, in index order.
 */
interface SegIndex {
  always: StepRef[];
  bySeg: Map<string, StepRef[]>;
  /** Merged lists by the event's (path, target) segments, built on first use. */
  merged: Map<string, StepRef[]>;
}

/** Partials waiting for one step under one of its relations. */
export interface RelIndex {
  rel: Relation;
  /** By relation key (see `Partials.register`). */
  m: Map<string, PartialMatch[]>;
  /** Lineage only: by the entity id of the step they refer to (the event's process descends from it). */
  down: Map<string, PartialMatch[]> | undefined;
}

/** One rule in one arrival order (an ordered rule has one; `ordered = false` one per order). */
export interface RuleOrder {
  rule: CompiledRule;
  /** The steps in arrival order. */
  steps: readonly CompiledStep[];
  /** Arrival position -> written step index; undefined when they are the same. */
  perm: readonly number[] | undefined;
  /** Key for per-process bookkeeping of this order (auth exec matches). */
  key: string;
  /** Per step index >= 1: partials waiting for it, per relation of the step. */
  waiters: RelIndex[][];
  /** First-step burst counters (count > 1 on step 1). */
  bursts: Bursts | undefined;
  /**
   * Partials still waiting for step 2, by first-step process and captured
   * values: a newer identical start replaces the older one (same meaning, later
   * deadline), so a process rewriting one temp file holds one partial, not thousands.
   */
  ident: Map<string, PartialMatch>;
}

/** One step of one rule order, as an event kind finds it. */
export interface StepRef {
  rt: RuleOrder;
  k: number;
  step: CompiledStep;
  /** Position in its kind's list, so split lists merge back in index order. */
  ord: number;
}

export class EventIndex {
  /** First steps by event kind. */
  readonly first = new Map<EventAction, StepRef[]>();
  /** Later steps by event kind. */
  readonly later = new Map<EventAction, StepRef[]>();
  /** First steps by event kind and top-level folder, for kinds where some step has segments. */
  private readonly firstSeg = new Map<EventAction, SegIndex>();
  orders: RuleOrder[] = [];

  /** Rebuilds the index over `active`; every waiting partial is forgotten. */
  build(active: readonly CompiledRule[]): void {
    for (const rt of this.orders) {
      for (const ris of rt.waiters) {
        for (const ri of ris) {
          ri.m.clear();
          ri.down?.clear();
        }
      }
      rt.ident.clear();
    }
    this.first.clear();
    this.later.clear();
    this.firstSeg.clear();
    this.orders = active.flatMap((rule) =>
      (rule.orders ?? [{ steps: rule.steps, perm: undefined }]).map((o, v): RuleOrder => ({
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
        bursts: o.steps[0]!.count > 1 ? new Bursts(o.steps[0]!, rule.maxspanMs) : undefined,
        ident: new Map<string, PartialMatch>(),
      }))
    );
    for (const rt of this.orders) {
      rt.steps.forEach((step, k) => {
        const idx = k === 0 ? this.first : this.later;
        for (const a of step.actions) {
          let list = idx.get(a);
          if (!list) idx.set(a, list = []);
          list.push({ rt, k, step, ord: list.length });
        }
      });
    }
    for (const [a, list] of this.first) {
      if (!list.some((r) => r.step.segments !== undefined)) continue;
      const si: SegIndex = { always: [], bySeg: new Map(), merged: new Map() };
      for (const r of list) {
        if (r.step.segments === undefined) si.always.push(r);
        else {
          for (const g of r.step.segments) {
            let l = si.bySeg.get(g);
            if (!l) si.bySeg.set(g, l = []);
            l.push(r);
          }
        }
      }
      this.firstSeg.set(a, si);
    }
  }

  /** First steps of `action` that may match `ev`, in index order. */
  firstFor(action: EventAction, ev: BmEvent): StepRef[] | undefined {
    const si = this.firstSeg.get(action);
    if (si === undefined) return this.first.get(action);
    const f = (ev as { file?: { path?: string; target_path?: string } }).file;
    const a = typeof f?.path === "string" ? firstSegment(f.path) : undefined;
    const b = typeof f?.target_path === "string" ? firstSegment(f.target_path) : undefined;
    const la = a !== undefined ? si.bySeg.get(a) : undefined;
    const lb = b !== undefined && b !== a ? si.bySeg.get(b) : undefined;
    if (la === undefined && lb === undefined) return si.always;
    const key = `${la === undefined ? "" : a}\0${lb === undefined ? "" : b}`;
    let m = si.merged.get(key);
    if (m === undefined) {
      const set = new Set([...si.always, ...(la ?? []), ...(lb ?? [])]);
      m = [...set].sort((x, y) => x.ord - y.ord);
      si.merged.set(key, m);
    }
    return m;
  }

  /** Drops burst groups idle past their rule's span. */
  sweep(now: number): void {
    for (const rt of this.orders) rt.bursts?.sweep(now);
  }
}
