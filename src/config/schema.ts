/**
 * The one schema for every bm setting. Defender's `com.microsoft.wdav` keys are
 * accepted verbatim (antivirusEngine, features) so an existing MDM profile
 * carries over; bm's own sections (sensor, engine, store, quarantine, logging)
 * use camelCase like Defender's. Default values live in `defaults.ts`.
 *
 * Every leaf (a value that is not a section) is one setting with one source;
 * lists are leaves too, merged by `antivirusEngine.exclusionsMergePolicy`.
 */
import { z } from "zod";

const onOff = z.enum(["enabled", "disabled"]);
const absolutePath = z.string().refine((s) => s.startsWith("/"), {
  message: "must be an absolute path",
});
const positiveInt = z.int().positive();

/** Defender's exclusion entries, `$type` tag and field names verbatim. */
export const ExclusionSchema = z.discriminatedUnion("$type", [
  z.object({
    $type: z.literal("excludedPath"),
    path: absolutePath,
    isDirectory: z.boolean().optional(),
  }),
  z.object({ $type: z.literal("excludedFileExtension"), extension: z.string().min(1) }),
  z.object({ $type: z.literal("excludedFileName"), name: z.string().min(1) }),
]);
export type Exclusion = z.infer<typeof ExclusionSchema>;

/** The allowed `$type` values of an exclusion, for error messages. */
export const EXCLUSION_TYPES: readonly string[] = [
  "excludedPath",
  "excludedFileExtension",
  "excludedFileName",
];

export const SettingsSchema = z.object({
  antivirusEngine: z.object({
    behaviorMonitoring: onOff,
    enforcementLevel: z.enum(["real_time", "on_demand", "passive"]),
    exclusions: z.array(ExclusionSchema),
    exclusionsMergePolicy: z.enum(["merge", "admin_only"]),
    allowedThreats: z.array(z.string().min(1)),
  }),
  features: z.object({
    behaviorMonitoring: onOff,
    behaviorMonitoringConfigurations: z.object({
      blockExecution: onOff,
      notifyForks: onOff,
      forwardRtpToBm: onOff,
      avoidOpenCache: onOff,
    }),
  }),
  sensor: z.object({
    authDeadlineMs: positiveInt.max(60_000),
    deadlineMarginMs: z.int().nonnegative(),
    failOpen: z.enum(["allow", "deny"]),
    marks: z.object({
      mode: z.enum(["filesystems", "mounts"]),
      mounts: z.array(absolutePath),
      network: z.boolean(),
    }),
    envVars: z.array(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, "must be an environment variable name"),
    ).max(16),
    openEvents: onOff,
  }),
  engine: z.object({
    scoreThreshold: z.number().positive(),
    decayHalfLifeSeconds: z.number().positive(),
    rulesDir: absolutePath.optional(),
    extraRulesDirs: z.array(absolutePath),
    processTableMax: positiveInt,
    exitedRetentionSeconds: z.int().nonnegative(),
  }),
  store: z.object({
    path: absolutePath,
    retentionDays: positiveInt,
    maxThreats: positiveInt,
  }),
  alerts: z.object({
    maxPerRulePerMinute: positiveInt,
    retentionDays: positiveInt,
    maxAlerts: positiveInt,
  }),
  quarantine: z.object({
    path: absolutePath,
  }),
  logging: z.object({
    level: z.enum(["debug", "info", "warn", "error"]),
    file: absolutePath.optional(),
    eventExport: z.object({
      enabled: z.boolean(),
      path: absolutePath,
      rawEvents: z.boolean(),
    }),
  }),
}).superRefine((s, ctx) => {
  if (s.sensor.deadlineMarginMs >= s.sensor.authDeadlineMs) {
    ctx.addIssue({
      code: "custom",
      path: ["sensor", "deadlineMarginMs"],
      message: `must be less than sensor.authDeadlineMs (${s.sensor.authDeadlineMs})`,
    });
  }
});

/** The effective settings every layer reads (after defaults and merge). */
export type Settings = z.infer<typeof SettingsSchema>;

/** Where an effective key's value came from, highest precedence first. */
export type Source = "managed" | "local" | "default";

/** List settings whose managed and local values follow `exclusionsMergePolicy`. */
export const POLICY_LISTS: readonly string[] = [
  "antivirusEngine.exclusions",
  "antivirusEngine.allowedThreats",
];

type AnyObject = z.ZodObject<z.ZodRawShape>;

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPipe) {
    s = s instanceof z.ZodPipe ? s.in as z.ZodType : s.unwrap() as z.ZodType;
  }
  return s;
}

function sectionShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const s = unwrap(schema);
  return s instanceof z.ZodObject ? (s as AnyObject).shape as Record<string, z.ZodType> : undefined;
}

/** The root section shape: top-level section name -> schema. */
export const ROOT_SHAPE: Record<string, z.ZodType> = sectionShape(SettingsSchema)!;

/** A node of the settings tree: a section (nested keys) or a leaf setting. */
export type SchemaNode =
  | { kind: "section"; shape: Record<string, z.ZodType> }
  | { kind: "leaf"; schema: z.ZodType; optional: boolean };

/** Classifies a child schema of a section. */
export function schemaNode(schema: z.ZodType): SchemaNode {
  const shape = sectionShape(schema);
  if (shape) return { kind: "section", shape };
  return { kind: "leaf", schema, optional: schema instanceof z.ZodOptional };
}

function collectLeaves(
  shape: Record<string, z.ZodType>,
  prefix: string,
  out: Map<string, z.ZodType>,
) {
  for (const [name, child] of Object.entries(shape)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const node = schemaNode(child);
    if (node.kind === "section") collectLeaves(node.shape, key, out);
    else out.set(key, child);
  }
}

const LEAVES = new Map<string, z.ZodType>();
collectLeaves(ROOT_SHAPE, "", LEAVES);

/** Every setting's dotted key, in schema order. */
export const SETTING_KEYS: readonly string[] = [...LEAVES.keys()];

/** The schema of one setting, or undefined when the dotted key is not a setting. */
export function leafSchema(key: string): z.ZodType | undefined {
  return LEAVES.get(key);
}

/** True when the leaf's value is a list (an array schema). */
export function isListSetting(key: string): boolean {
  const s = LEAVES.get(key);
  return s !== undefined && unwrap(s) instanceof z.ZodArray;
}

/** Reads a dotted key from a nested object. */
export function getPath(obj: unknown, key: string): unknown {
  let cur: unknown = obj;
  for (const part of key.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Writes a dotted key into a nested object, creating sections; undefined deletes. */
export function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (next === null || typeof next !== "object" || Array.isArray(next)) {
      cur[part] = {};
    }
    cur = cur[part] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}
