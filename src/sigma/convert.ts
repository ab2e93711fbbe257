/**
 * One Sigma rule (a parsed YAML document) to one bm rule: logsource and
 * status checks, the detection tree, level to severity and score, ATT&CK
 * tags, and the rule's TOML text with its provenance as comments. Every
 * refusal is a skip reason for the import summary.
 */
import { convertDetection, type DetNode, type Matcher, type SigmaCategory } from "./detection.ts";
import { SkipError } from "./detection.ts";
import { tomlComment, tomlString, tomlValue } from "./toml_text.ts";

export const STATUSES = ["stable", "test", "experimental"] as const;
export type MinStatus = typeof STATUSES[number];
export type SigmaProduct = "linux" | "macos";
export type ImportAction = "block" | "kill" | "quarantine";

/** Sigma level to bm severity and score (policies/FORMAT.md, "Sigma rules"). */
export const LEVELS: Record<string, { severity: string; score: number }> = {
  informational: { severity: "low", score: 5 },
  low: { severity: "low", score: 10 },
  medium: { severity: "medium", score: 25 },
  high: { severity: "high", score: 50 },
  critical: { severity: "critical", score: 100 },
};

const TACTICS: Record<string, string> = {
  reconnaissance: "TA0043",
  resource_development: "TA0042",
  initial_access: "TA0001",
  execution: "TA0002",
  persistence: "TA0003",
  privilege_escalation: "TA0004",
  defense_evasion: "TA0005",
  credential_access: "TA0006",
  discovery: "TA0007",
  lateral_movement: "TA0008",
  collection: "TA0009",
  exfiltration: "TA0010",
  command_and_control: "TA0011",
  impact: "TA0040",
};

const CATEGORY_ACTIONS: Record<SigmaCategory, string[]> = {
  process_creation: ["exec"],
  file_event: ["create", "close_modified"],
  file_rename: ["rename"],
  file_delete: ["unlink"],
};

const NO_EVENTS: Record<string, string> = {
  network_connection: "no network events",
  dns_query: "no network events",
  dns: "no network events",
  firewall: "no network events",
  proxy: "no network events",
  image_load: "no library load events",
  file_access: "no file read events",
  file_change: "no file time-change events",
  process_access: "no process access events",
  create_remote_thread: "no thread events",
  registry_event: "no registry",
  registry_set: "no registry",
  registry_add: "no registry",
  registry_delete: "no registry",
  ps_script: "no script logging",
  ps_module: "no script logging",
  ps_classic_start: "no script logging",
  pipe_created: "no pipe events",
  driver_load: "no driver events",
};

export const LICENSE =
  "Detection Rule License (DRL) 1.1, https://github.com/SigmaHQ/Detection-Rule-License";

export interface ConvertOptions {
  minStatus: MinStatus;
  platform?: SigmaProduct;
  actions: ImportAction[];
}

export interface Converted {
  id: string;
  product: SigmaProduct;
  category: SigmaCategory;
  tree: DetNode;
  /** The rule's TOML (comments, [[rule]], its step), test paths relative to the pack. */
  toml: (tests: { positive: string; negative: string }) => string;
}

function str(x: unknown): string | undefined {
  return typeof x === "string" ? x : typeof x === "number" ? String(x) : undefined;
}

function strings(x: unknown): string[] {
  if (Array.isArray(x)) return x.map(str).filter((s): s is string => s !== undefined);
  const s = str(x);
  return s === undefined ? [] : [s];
}

function camel(title: string): string {
  const words = title.replace(/[^A-Za-z0-9]+/g, " ").trim().split(" ").filter((w) => w !== "");
  const s = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
  return s.slice(0, 64) || "Rule";
}

function ruleId(doc: Record<string, unknown>, file: string): string {
  const id = str(doc.id)?.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-");
  if (id) return `sigma.${id}`;
  const base = file.replace(/^.*\//, "").replace(/\.ya?ml$/i, "").toLowerCase();
  return `sigma.${base.replace(/[^a-z0-9_.-]+/g, "-")}`;
}

/** bm conditions of a detection tree (FORMAT.md operators). */
export function conditionOf(n: DetNode): Record<string, unknown> {
  switch (n.t) {
    case "and":
      return { all: n.xs.map(conditionOf) };
    case "or":
      return { any: n.xs.map(conditionOf) };
    case "not":
      return { not: conditionOf(n.x) };
    case "m":
      return matcherCondition(n.m);
  }
}

function matcherCondition(m: Matcher): Record<string, unknown> {
  const field = m.field;
  if (m.op === "exists") return { field, exists: m.present ?? true };
  const parts: Record<string, unknown>[] = [];
  const lits: (string | number)[] = [];
  for (const v of m.values) {
    if ("lit" in v) lits.push(v.lit);
    else parts.push({ field, [v.ignoreCase ? "iregex" : "regex"]: v.re });
  }
  const ci = !m.cased && !m.numeric;
  const litCond = (vs: (string | number)[]): Record<string, unknown> => {
    if (m.op === "eq") {
      if (vs.length === 1) return { field, [ci ? "ieq" : "eq"]: vs[0] };
      return { field, [ci ? "iin" : "in"]: vs };
    }
    const op = (ci ? "i" : "") + m.op;
    return { field, [op]: vs.length === 1 ? vs[0] : vs };
  };
  if (m.all) {
    const xs = [...lits.map((l) => litCond([l])), ...parts];
    return xs.length === 1 ? xs[0]! : { all: xs };
  }
  const xs = lits.length > 0 ? [litCond(lits), ...parts] : parts;
  return xs.length === 1 ? xs[0]! : { any: xs };
}

/** The category and product, or the reason the logsource is not converted. */
function logsource(
  doc: Record<string, unknown>,
): { product: SigmaProduct; category: SigmaCategory } {
  const ls = doc.logsource;
  if (typeof ls !== "object" || ls === null) throw new SkipError("logsource missing");
  const l = ls as Record<string, unknown>;
  const product = str(l.product);
  const category = str(l.category);
  const service = str(l.service);
  if (product !== "linux" && product !== "macos") {
    throw new SkipError(`logsource product ${product ?? "(none)"}`);
  }
  if (category === undefined) {
    throw new SkipError(`logsource service ${service ?? "(none)"}: not a bm event source`);
  }
  if (category in CATEGORY_ACTIONS) {
    if (service !== undefined) {
      throw new SkipError(`logsource service ${service}: not a bm event source`);
    }
    return { product, category: category as SigmaCategory };
  }
  throw new SkipError(`category ${category}: ${NO_EVENTS[category] ?? "no such events in bm"}`);
}

/** Converts one document or throws SkipError with the reason. */
export function convertSigma(doc: unknown, file: string, opts: ConvertOptions): Converted {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new SkipError("not a Sigma rule (not a map)");
  }
  const d = doc as Record<string, unknown>;
  if ("correlation" in d) throw new SkipError("correlation rule unsupported");
  if ("filter" in d && !("detection" in d)) throw new SkipError("filter rule unsupported");
  const title = str(d.title);
  if (title === undefined || !("detection" in d)) {
    throw new SkipError("not a Sigma rule (no title or detection)");
  }
  const status = str(d.status) ?? "experimental";
  if (status === "deprecated" || status === "unsupported") {
    throw new SkipError(`status ${status}`);
  }
  const rank = (s: string) => {
    const i = (STATUSES as readonly string[]).indexOf(s);
    return i < 0 ? STATUSES.length : i;
  };
  if (rank(status) > rank(opts.minStatus)) {
    throw new SkipError(`status ${status} below --min-status ${opts.minStatus}`);
  }
  const { product, category } = logsource(d);
  if (opts.platform !== undefined && product !== opts.platform) {
    throw new SkipError(`product ${product}: not --platform ${opts.platform}`);
  }
  const level = str(d.level) ?? "medium";
  const sev = LEVELS[level];
  if (!sev) throw new SkipError(`level ${level}: unknown`);
  const tree = convertDetection(d.detection, category);
  const id = ruleId(d, file);
  const tags = strings(d.tags);
  const techniques = [
    ...new Set(
      tags.map((t) => /^attack\.t(\d{4})(\.\d{3})?$/i.exec(t))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => `T${m[1]}${m[2] ?? ""}`),
    ),
  ];
  const tactics = [
    ...new Set(
      tags.map((t) => TACTICS[t.toLowerCase().replace(/^attack\./, "").replace(/-/g, "_")])
        .filter((t): t is string => t !== undefined && tags.length > 0),
    ),
  ];
  const os = product === "linux" ? "Linux" : "MacOS";
  const actions: Record<string, unknown>[] = [{ type: "report" }];
  for (const a of opts.actions) {
    if (a === "quarantine" && category === "process_creation") continue;
    actions.push({ type: a });
  }
  const where = tree.t === "and" ? tree.xs.map(conditionOf) : [conditionOf(tree)];
  const toml = (tests: { positive: string; negative: string }) => {
    const lines = [
      tomlComment(`Sigma rule ${str(d.id) ?? "(no id)"}: ${title}`),
      tomlComment(`source: ${file}`),
    ];
    const author = str(d.author);
    if (author) lines.push(tomlComment(`author: ${author}`));
    lines.push(tomlComment(`status: ${status}, level: ${level}`));
    const date = str(d.date);
    const modified = str(d.modified);
    if (date) lines.push(tomlComment(`date: ${date}${modified ? `, modified: ${modified}` : ""}`));
    for (const r of strings(d.references)) lines.push(tomlComment(`reference: ${r}`));
    if (tags.length > 0) lines.push(tomlComment(`tags: ${tags.join(", ")}`));
    for (const fp of strings(d.falsepositives)) lines.push(tomlComment(`false positive: ${fp}`));
    lines.push(tomlComment(`license: ${str(d.license) ?? LICENSE}`));
    const desc = (str(d.description) ?? title).replace(/\s+/g, " ").trim() || title;
    lines.push(
      "[[rule]]",
      `id = ${tomlString(id)}`,
      `name = ${tomlString(`Behavior:${os}/Sigma_${camel(title)}.A`)}`,
      `description = ${tomlString(desc)}`,
      `platforms = [${tomlString(product)}]`,
      `severity = ${tomlString(sev.severity)}`,
      `score = ${sev.score}`,
      `techniques = ${tomlValue(techniques)}`,
      `tactics = ${tomlValue(tactics)}`,
      `actions = ${tomlValue(actions)}`,
      `tests = ${tomlValue({ positive: [tests.positive], negative: [tests.negative] })}`,
      "",
      "[[rule.steps]]",
      `action = ${tomlValue(CATEGORY_ACTIONS[category])}`,
      "where = [",
      ...where.map((c) => `  ${tomlValue(c)},`),
      "]",
    );
    return lines.join("\n") + "\n";
  };
  return { id, product, category, tree, toml };
}
