/**
 * The rule index: each active rule, in each of its arrival orders, indexed
 * by the event kinds of its steps. First steps start sequences; later steps
 * are looked up only for kinds some rule is waiting on. Within a kind, a
 * first step keyed on the top-level folder of the event's file
 * (prefilter.ts) or on the name of its process or file (step_keys.ts) is
 * visited only for events that have one of its keys: the index never skips a
 * step that could match, and visits steps in the same order as without it.
 */
import type { EventAction } from "../sensor/event.ts";
import type { CompiledRule, CompiledStep, Relation } from "./rule_set.ts";
import { Bursts } from "./bursts.ts";
import type { PartialMatch } from "./partials.ts";
import { KeyTable } from "./key_table.ts";
import { LiteralScan } from "./literal_scan.ts";
import { lowerCase } from "./lower_case.ts";
import { commandLine } from "./process_table.ts";
import type { BmEvent } from "../sensor/event.ts";
import type { MatchCtx } from "./fields.ts";
import type { Pred } from "./conditions.ts";
import { KEY_DIMS, type KeyDim, keyOf } from "./step_keys.ts";

/** Which first steps of one event kind take one key of one dimension, as a bitset over the kind's list. */
interface DimBits {
  /** Steps that require no key of this dimension. */
  free: Uint32Array;
  /** Per key: `free` and the steps that require that key. */
  byKey: KeyTable<Uint32Array>;
}

/**
 * The first steps of one event kind, in index order, and the bitsets that
 * pick those an event may match: a step keyed in several dimensions (its
 * folder, its process name) is visited only when the event has a key of each.
 */
interface FirstIndex {
  refs: StepRef[];
  /** Top-level folders of `file.path` / `file.target_path` (CompiledStep.segments). */
  seg: DimBits | undefined;
  /** Name dimensions (step_keys.ts) some step of this kind is keyed on. */
  dims: { dim: KeyDim; bits: DimBits }[];
  /** Steps with an image gate (CompiledStep.gate), by position. */
  gated: { i: number; gate: Pred }[];
  /** Steps with a "name or command line" filter (CompiledStep.imageOrCmd), by position. */
  either: { i: number; gate: Pred }[];
  /**
   * Per executable and name, two bitsets in one (see `gateBits`): the steps
   * whose gate holds and those without one; the steps whose `imageOrCmd`
   * gate holds.
   */
  gates: Map<string, Map<string, Uint32Array>>;
  gateEntries: number;
  /**
   * Command-line literals, two bitsets in one (see `cmdScan`): steps that
   * need one of their `cmdLiterals`, and steps whose `imageOrCmd` gate failed
   * and that need one of its literals; those without, and the scan for the rest.
   */
  cmd: { free: Uint32Array; scan: LiteralScan } | undefined;
  /** The candidates of the event in progress. */
  cand: Uint32Array;
  /** The command line's share of them (both halves, as `cmd`). */
  cmdBits: Uint32Array;
  /** The steps of the event in progress, handed out by `firstFor`. */
  out: StepRef[];
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
}

export class EventIndex {
  /** First steps by event kind. */
  readonly first = new Map<EventAction, StepRef[]>();
  /** Later steps by event kind. */
  readonly later = new Map<EventAction, StepRef[]>();
  /** First steps by event kind with their key bitsets, for kinds where some step has keys. */
  private readonly firstKeyed = new Map<EventAction, FirstIndex>();
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
    this.firstKeyed.clear();
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
    for (const [a, refs] of this.first) {
      const seg = dimBits(refs, (r) => r.step.segments);
      const dims = KEY_DIMS.flatMap((dim) => {
        const bits = dimBits(refs, (r) => r.step.keys?.[dim]);
        return bits === undefined ? [] : [{ dim, bits }];
      });
      const gated = refs.flatMap((r, i) => (r.step.gate ? [{ i, gate: r.step.gate }] : []));
      const either = refs.flatMap((r, i) => {
        const e = r.step.imageOrCmd;
        return e === undefined ? [] : [{ i, gate: e.gate }];
      });
      const cmd = cmdScan(refs);
      if (seg === undefined && dims.length === 0 && gated.length === 0 && cmd === undefined) {
        continue;
      }
      const cand = new Uint32Array((refs.length + 31) >>> 5);
      this.firstKeyed.set(a, {
        refs,
        seg,
        dims,
        gated,
        either,
        gates: new Map(),
        gateEntries: 0,
        cmd,
        cmdBits: new Uint32Array(2 * cand.length),
        cand,
        out: [],
      });
    }
  }

  /**
   * First steps of `action` that may match `ev` of `proc`, in index order.
   * The list is reused by the next call: iterate it before asking again.
   */
  firstFor(action: EventAction, ctx: MatchCtx): readonly StepRef[] | undefined {
    const fi = this.firstKeyed.get(action);
    if (fi === undefined) return this.first.get(action);
    const ev = ctx.ev;
    const cand = fi.cand;
    const words = cand.length;
    const gates = fi.gated.length > 0 || fi.either.length > 0 ? gateBits(fi, ctx) : undefined;
    if (gates !== undefined) { for (let i = 0; i < words; i++) cand[i] = gates[i]!; }
    else cand.fill(0xffffffff);
    if (fi.seg !== undefined) {
      const f = (ev as { file?: { path?: string; target_path?: string } }).file;
      const la = segBits(fi.seg, f?.path);
      const lb = segBits(fi.seg, f?.target_path);
      // A step of the path's folder or of the target's.
      for (let i = 0; i < cand.length; i++) cand[i]! &= la[i]! | lb[i]!;
    }
    for (const { bits } of fi.dims) {
      const l = fileNameBits(bits, ev);
      for (let i = 0; i < cand.length; i++) cand[i]! &= l[i]!;
    }
    if (fi.cmd !== undefined) {
      const l = fi.cmdBits;
      l.set(fi.cmd.free);
      // an `imageOrCmd` step whose gate holds needs no literal
      if (gates !== undefined) {
        for (let i = 0; i < words; i++) l[words + i]! |= gates[words + i]!;
      }
      const line = commandLine(ctx.proc);
      if (line !== undefined) fi.cmd.scan.scan(lowerCase(line), l);
      for (let i = 0; i < words; i++) cand[i]! &= l[i]! & l[words + i]!;
    }
    const out = fi.out;
    out.length = 0;
    const refs = fi.refs;
    for (let w = 0; w < cand.length; w++) {
      let x = cand[w]! | 0;
      while (x !== 0) {
        const t = x & -x;
        out.push(refs[(w << 5) + 31 - Math.clz32(t)]!);
        x ^= t;
      }
    }
    return out;
  }

  /** Drops burst groups idle past their rule's span. */
  sweep(now: number): void {
    for (const rt of this.orders) rt.bursts?.sweep(now);
  }
}

/**
 * The command-line literals of the steps of one kind, or undefined when no
 * step has any. Two bitsets of the kind's steps in one: the first half for
 * `cmdLiterals`, the second for the literals of `imageOrCmd`; a step without
 * literals of a half is free in it. One scan fills both.
 */
function cmdScan(refs: readonly StepRef[]): { free: Uint32Array; scan: LiteralScan } | undefined {
  if (!refs.some((r) => r.step.cmdLiterals !== undefined || r.step.imageOrCmd !== undefined)) {
    return undefined;
  }
  const words = (refs.length + 31) >>> 5;
  const free = new Uint32Array(2 * words);
  const byLit = new Map<string, Uint32Array>();
  const put = (l: string, w: number, i: number) => {
    let b = byLit.get(l);
    if (b === undefined) byLit.set(l, b = new Uint32Array(2 * words));
    b[w]! |= 1 << (i & 31);
  };
  refs.forEach((r, i) => {
    const lits = r.step.cmdLiterals;
    if (lits === undefined) free[i >>> 5]! |= 1 << (i & 31);
    for (const l of lits ?? []) put(l, i >>> 5, i);
    const either = r.step.imageOrCmd;
    if (either === undefined) free[words + (i >>> 5)]! |= 1 << (i & 31);
    for (const l of either?.literals ?? []) put(l, words + (i >>> 5), i);
  });
  const lits = [...byLit].map(([text, bits]) => ({ text, bits }));
  return { free, scan: new LiteralScan(lits, 2 * words) };
}

/** The bitsets of one dimension over `refs`, or undefined when no step is keyed on it. */
function dimBits(
  refs: readonly StepRef[],
  keysOf: (r: StepRef) => readonly string[] | undefined,
): DimBits | undefined {
  if (!refs.some((r) => keysOf(r) !== undefined)) return undefined;
  const words = (refs.length + 31) >>> 5;
  const free = new Uint32Array(words);
  refs.forEach((r, i) => {
    if (keysOf(r) === undefined) free[i >>> 5]! |= 1 << (i & 31);
  });
  const byKey = new KeyTable<Uint32Array>();
  refs.forEach((r, i) => {
    for (const raw of keysOf(r) ?? []) {
      const k = keyOf(raw);
      let b = byKey.getKey(k);
      if (b === undefined) byKey.set(k, b = free.slice());
      b[i >>> 5]! |= 1 << (i & 31);
    }
  });
  return { free, byKey };
}

/** The steps a file path admits by its top-level folder (prefilter.ts `firstSegment`). */
function segBits(d: DimBits, path: string | undefined): Uint32Array {
  if (typeof path !== "string" || path.charCodeAt(0) !== 47) return d.free;
  const end = path.indexOf("/", 1);
  if (end < 0) return d.free;
  return d.byKey.get(path, 1, end) ?? d.free;
}

/** The steps an event admits by the last segment of its `file.path`. */
function fileNameBits(d: DimBits, ev: BmEvent): Uint32Array {
  const p = (ev as { file?: { path?: unknown } }).file?.path;
  if (typeof p !== "string") return d.free;
  return d.byKey.get(p, p.lastIndexOf("/") + 1, p.length) ?? d.free;
}

/** Distinct executable and name pairs remembered per event kind before the memo starts over. */
const GATE_ENTRIES_MAX = 4096;

/**
 * The steps whose image gate holds for the event's process (and every step
 * without a gate), then, in a second half, the steps whose `imageOrCmd` gate
 * holds: the gates read only its executable and name, so each pair is
 * evaluated once and remembered.
 */
function gateBits(fi: FirstIndex, ctx: MatchCtx): Uint32Array {
  const exe = ctx.proc.executable;
  const name = ctx.proc.name;
  let byName = fi.gates.get(exe);
  const hit = byName?.get(name);
  if (hit !== undefined) return hit;
  if (fi.gateEntries >= GATE_ENTRIES_MAX) {
    fi.gates.clear();
    fi.gateEntries = 0;
    byName = undefined;
  }
  if (byName === undefined) fi.gates.set(exe, byName = new Map());
  const words = fi.cand.length;
  const bits = new Uint32Array(2 * words);
  for (let i = 0; i < fi.refs.length; i++) bits[i >>> 5]! |= 1 << (i & 31);
  for (const { i, gate } of fi.gated) if (!gate(ctx)) bits[i >>> 5]! &= ~(1 << (i & 31));
  for (const { i, gate } of fi.either) if (gate(ctx)) bits[words + (i >>> 5)]! |= 1 << (i & 31);
  byName.set(name, bits);
  fi.gateEntries++;
  return bits;
}
