/**
 * The zod schema of one `[[rule]]` table of the rule format (policies/FORMAT.md).
 * Conditions are checked by the compiler (conditions.ts), which reports each
 * problem at its exact place; this schema checks the rule's own shape.
 */
import { z } from "zod";
import { EVENT_ACTIONS } from "../sensor/event.ts";

export const DURATION_RE = /^(\d+)(ms|s|m|h)$/;

export function parseDuration(s: string): number | undefined {
  const m = DURATION_RE.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2];
  return unit === "ms" ? n : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : n * 3_600_000;
}

const eventAction = z.enum(EVENT_ACTIONS);
export const RELATIONS = ["same", "child", "descendant", "sibling", "lineage"] as const;
const relation = z.enum(RELATIONS);
const condition = z.record(z.string(), z.unknown());

export const actionSchema = z.strictObject({
  type: z.enum(["report", "block", "kill", "quarantine"]),
  step: z.int().min(1).optional(),
  tree: z.boolean().optional(),
});
export type RuleActionSpec = z.infer<typeof actionSchema>;

export const stepSchema = z.strictObject({
  action: z.union([eventAction, z.array(eventAction).min(1)], {
    error: `Step action must be one of ${EVENT_ACTIONS.join(", ")}, or a list of them`,
  }),
  relation: z.union([relation, z.array(relation).min(1)], {
    error: `Relation must be one of ${RELATIONS.join(", ")}, or a list of them`,
  }).optional(),
  of: z.int().min(1).optional(),
  where: z.array(condition).optional(),
  count: z.int().min(1).optional(),
  distinct: z.string().optional(),
  group: z.enum(["entity", "parent"]).optional(),
});
export type StepSpec = z.infer<typeof stepSchema>;

export const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9_.-]+$/, "Rule id must match [a-z0-9_.-]+"),
  name: z.string().regex(
    /^Behavior:(Linux|MacOS)\/[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/,
    "Name must look like Behavior:Linux/Name.A or Behavior:MacOS/Name.A",
  ),
  description: z.string().min(1),
  platforms: z.array(z.enum(["linux", "macos"])).min(1),
  severity: z.enum(["low", "medium", "high", "critical"]),
  score: z.number().min(0),
  techniques: z.array(z.string().regex(/^T\d{4}(\.\d{3})?$/, "Technique ids look like T1059.004"))
    .default([]),
  tactics: z.array(z.string().regex(/^TA\d{4}$/, "Tactic ids look like TA0002")).default([]),
  maxspan: z.string().regex(DURATION_RE, 'Duration looks like "500ms", "60s", "5m" or "1h"')
    .optional(),
  ordered: z.boolean().default(true),
  actions: z.array(actionSchema).default([{ type: "report" }]),
  exclude: z.array(condition).default([]),
  tests: z.strictObject({
    positive: z.array(z.string()).min(1, "Every rule needs at least one positive test trace"),
    negative: z.array(z.string()).min(1, "Every rule needs at least one negative test trace"),
  }),
  steps: z.array(stepSchema).min(1, "A rule needs at least one step"),
});
export type RuleSpec = z.infer<typeof ruleSchema>;

/** The rule format this bm reads; a file declaring a later one is refused. */
export const FORMAT_VERSION = 1;

const listValues = z.array(z.union([z.string(), z.number()]), {
  error: "A list is an array of strings or numbers",
}).min(1, "A list needs at least one value");

export const fileSchema = z.strictObject({
  format_version: z.int({ error: "format_version is a positive integer" }).min(1).optional(),
  lists: z.record(
    z.string().regex(/^[a-z0-9_]+$/, "List names match [a-z0-9_]+"),
    listValues,
    { error: (iss) => (iss.code === "invalid_key" ? "List names match [a-z0-9_]+" : undefined) },
  ).optional(),
  rule: z.array(z.unknown(), { error: "A rule file holds [[rule]] tables" }).optional(),
}).refine((f) => (f.rule?.length ?? 0) > 0 || f.lists !== undefined, {
  error: "A rule file needs at least one [[rule]] or a [lists] table",
});
