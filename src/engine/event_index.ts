/**
 * The rule index: each active rule, in each of its arrival orders, indexed
 * by the event kinds of its steps. First steps start sequences; later steps
 * are looked up only for kinds some rule is waiting on.
 */
import type { EventAction } from "../sensor/event.ts";
import type { CompiledRule, CompiledStep, Relation } from "./rule_set.ts";
import { Bursts } from "./bursts.ts";
import type { PartialMatch } from "./partials.ts";

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
}

export class EventIndex {
  /** First steps by event kind. */
  readonly first = new Map<EventAction, StepRef[]>();
  /** Later steps by event kind. */
  readonly later = new Map<EventAction, StepRef[]>();
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
          list.push({ rt, k, step });
        }
      });
    }
  }

  /** Drops burst groups idle past their rule's span. */
  sweep(now: number): void {
    for (const rt of this.orders) rt.bursts?.sweep(now);
  }
}
