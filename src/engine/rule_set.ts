/**
 * Compiled rules: what the loader produces and the engine runs. A RuleSet is
 * immutable; a reload builds a new one and the daemon swaps it in whole.
 */
import type { EventAction } from "../sensor/event.ts";
import type { Severity } from "./verdict.ts";
import type { Pred } from "./conditions.ts";
import type { Accessor } from "./fields.ts";
import type { PathPattern } from "../sensor/interest.ts";
import type { StepKeys } from "./step_keys.ts";

export type Relation = "same" | "child" | "descendant" | "sibling" | "lineage";
export type Platform = "linux" | "macos";

export interface CompiledStep {
  actions: readonly EventAction[];
  pred: Pred;
  /** The event's process stands in any of these relations to the process of step `of`. */
  relations: readonly Relation[];
  /** 0-based index of the step the relation refers to. */
  of: number;
  count: number;
  distinct: Accessor | undefined;
  group: "entity" | "parent";
  /** Accessors of fields later steps read from this step's event. */
  captures: Accessor[];
  /**
   * NEED_* bits (conditions.ts) of the fields this step, its later steps' refs
   * to it and the rule's exclude read: the step is not tried on an event whose
   * process lacks one (a Linux auth exec has no args yet).
   */
  needs: number;
  /**
   * First path segments a file event's path or target must start with for
   * this step to match (prefilter.ts); undefined when any path may.
   */
  segments?: readonly string[] | undefined;
  /**
   * The file paths this step can match (interest.ts stepPaths), for the
   * sensor's interest filter; undefined when any path may.
   */
  paths?: readonly PathPattern[] | undefined;
  /**
   * Per action, the events this step can match (interest.ts stepInterest:
   * paths, process names, mode bits), for the interest filter; an action
   * mapped to undefined takes every event. Undefined: `paths` for every action.
   */
  interest?: ReadonlyMap<EventAction, readonly PathPattern[] | undefined> | undefined;
  /**
   * Names the event's file must have for this step to match
   * (step_keys.ts); undefined when it requires none.
   */
  keys?: StepKeys | undefined;
  /**
   * The step's conditions that read only the process name and executable
   * (step_keys.ts `imageOnly`), all of them; the index evaluates it once per
   * name and executable and skips the step where it fails. Undefined when none.
   */
  gate?: Pred | undefined;
  /**
   * Literals one of which the lower-cased command line contains whenever the
   * step matches (step_keys.ts `stepCmdLiterals`); undefined when none are known.
   */
  cmdLiterals?: readonly string[] | undefined;
  /**
   * For a conjunct "name or command line" (step_keys.ts `stepImageOrCmd`):
   * the step matches only when `gate` (name and executable alone) holds or the
   * lower-cased command line contains one of `literals`. Undefined when the
   * step has no such conjunct.
   */
  imageOrCmd?: { gate: Pred; literals: readonly string[] } | undefined;
  /**
   * A first step whose event the rule can use only if that very file is
   * executed next (interest.ts holdsUntilExec): the interest filter holds
   * its events in the sensor until such an exec.
   */
  holdUntilExec?: boolean | undefined;
}

export interface StepOrder {
  steps: CompiledStep[];
  perm: number[];
}

export type CompiledAction =
  | { type: "report" }
  | { type: "block" }
  | { type: "kill"; step: number; tree: boolean }
  | { type: "quarantine"; step: number };

export interface CompiledRule {
  id: string;
  name: string;
  description: string;
  platforms: readonly Platform[];
  severity: Severity;
  score: number;
  techniques: string[];
  tactics: string[];
  maxspanMs: number;
  actions: CompiledAction[];
  /** True when any exclude condition holds for the event. */
  excluded: Pred | undefined;
  /** The steps as written; with `ordered = false` the first of `orders` is this order. */
  steps: CompiledStep[];
  /**
   * `ordered = false`: every arrival order the engine tracks, each its steps in
   * arrival order (`of` in arrival positions) and `perm[i]` the written index
   * of arrival position i. Undefined for ordered rules.
   */
  orders: StepOrder[] | undefined;
  tests: { positive: string[]; negative: string[] };
  /**
   * Process names the rule's `exclude` rules out for every step
   * (interest.ts excludedNames), for the interest filter; undefined when none.
   */
  excludeNames?: readonly string[] | undefined;
  /** Source, for messages. */
  file: string;
  line: number;
}

export interface RuleSet {
  readonly rules: readonly CompiledRule[];
}

export const EMPTY_RULES: RuleSet = { rules: [] };
