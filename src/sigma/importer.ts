/**
 * `bm rules import-sigma`: Sigma YAML files (or folders, searched
 * recursively) to a bm rule pack, one TOML file per product and category,
 * with a positive and a negative test trace per rule. Each converted rule is
 * compiled by the real rule loader and its examples replayed through the
 * engine before it is written, so the pack validates and `bm rules test`
 * passes on it. A file that is not valid YAML is reported with line and
 * column; the other files still convert.
 */
import { parseAllDocuments } from "yaml";
import { dirname, join, relative, resolve } from "node:path";
import { compileFile, formatProblem, type RuleProblem } from "../engine/rule_loader.ts";
import { serializeEvent } from "../sensor/trace.ts";
import { type ConvertOptions, convertSigma } from "./convert.ts";
import { SkipError } from "./detection.ts";
import { deriveExamples } from "./examples.ts";

export interface ImportOptions extends ConvertOptions {
  out: string;
}

export interface ConvertedRule {
  id: string;
  file: string;
  product: string;
  category: string;
  pack_file: string;
}

export interface SkippedRule {
  file: string;
  id?: string;
  reason: string;
}

export interface YamlError {
  file: string;
  line: number;
  column: number;
  reason: string;
}

export interface ImportSummary {
  out: string;
  files: number;
  converted: ConvertedRule[];
  skipped: SkippedRule[];
  /** Skip reasons with quoted values left out, and how many rules each. */
  skipped_by_reason: Record<string, number>;
  errors: YamlError[];
}

/** A skip reason without its quoted specifics, for counting. */
export function reasonKey(reason: string): string {
  return reason.replace(/"(?:[^"\\]|\\.)*"/g, "…");
}

async function collect(path: string, out: string[], errors: YamlError[]): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    errors.push({
      file: path,
      line: 0,
      column: 0,
      reason: e instanceof Deno.errors.NotFound ? "no such file or directory" : String(e),
    });
    return;
  }
  if (info.isFile) {
    out.push(path);
    return;
  }
  if (!info.isDirectory) return;
  const names: string[] = [];
  for await (const ent of Deno.readDir(path)) names.push(ent.name);
  names.sort();
  for (const n of names) {
    if (n.startsWith(".")) continue;
    const p = join(path, n);
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(p);
    } catch {
      continue;
    }
    if (st.isDirectory) await collect(p, out, errors);
    else if (st.isFile && /\.ya?ml$/i.test(n)) out.push(p);
  }
}

interface Pending {
  id: string;
  file: string;
  product: string;
  category: string;
  packFile: string;
  toml: string;
  positive: string;
  negative: string;
}

export async function importSigma(
  sources: string[],
  opts: ImportOptions,
): Promise<ImportSummary> {
  const files: string[] = [];
  const summary: ImportSummary = {
    out: opts.out,
    files: 0,
    converted: [],
    skipped: [],
    skipped_by_reason: {},
    errors: [],
  };
  /** The name a rule's `# source:` comment gives its file: relative to the SOURCE's parent. */
  const shown = new Map<string, string>();
  for (const s of sources) {
    const before = files.length;
    await collect(s, files, summary.errors);
    const base = dirname(resolve(s));
    for (const f of files.slice(before)) shown.set(f, relative(base, resolve(f)));
  }
  summary.files = files.length;
  const pending: Pending[] = [];
  const ids = new Set<string>();
  const skip = (file: string, reason: string, id?: string) => {
    const s: SkippedRule = { file, reason };
    if (id !== undefined) s.id = id;
    summary.skipped.push(s);
    const k = reasonKey(reason);
    summary.skipped_by_reason[k] = (summary.skipped_by_reason[k] ?? 0) + 1;
  };
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (e) {
      summary.errors.push({ file, line: 0, column: 0, reason: (e as Error).message });
      continue;
    }
    const docs = parseAllDocuments(text, { uniqueKeys: false });
    const list = Array.isArray(docs) ? docs : [];
    const bad = list.flatMap((d) => d.errors)[0];
    if (bad !== undefined || !Array.isArray(docs)) {
      const pos = bad?.linePos?.[0];
      summary.errors.push({
        file,
        line: pos?.line ?? 0,
        column: pos?.col ?? 0,
        reason: bad ? bad.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "") : "",
      });
      continue;
    }
    const values = list.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown).filter((v) =>
      v !== null && v !== undefined
    );
    if (values.length === 0) {
      skip(file, "empty YAML file");
      continue;
    }
    if (values.length > 1) {
      skip(file, "multi-document YAML (rule collection) unsupported");
      continue;
    }
    let conv;
    try {
      conv = convertSigma(values[0], shown.get(file) ?? file, opts);
    } catch (e) {
      if (e instanceof SkipError) {
        skip(file, e.message, idOf(values[0]));
        continue;
      }
      throw e;
    }
    if (ids.has(conv.id)) {
      skip(file, `duplicate rule id "${conv.id}"`, conv.id);
      continue;
    }
    const packFile = `${conv.product}_${conv.category}.toml`;
    const tests = {
      positive: `tests/${conv.id}.pos.jsonl`,
      negative: `tests/${conv.id}.neg.jsonl`,
    };
    const toml = conv.toml(tests);
    const problems: RuleProblem[] = [];
    const compiled = compileFile(join(opts.out, packFile), toml, problems, { checkTests: false });
    if (problems.length > 0 || compiled.length !== 1) {
      const p = problems[0];
      skip(file, `bm refused the converted rule: ${p ? formatProblem(p) : "no rule"}`, conv.id);
      continue;
    }
    const ex = deriveExamples(conv.tree, conv.category, compiled[0]!);
    if (ex.positive === undefined || ex.negative === undefined) {
      skip(file, ex.problem ?? "no example derivable", conv.id);
      continue;
    }
    ids.add(conv.id);
    pending.push({
      id: conv.id,
      file,
      product: conv.product,
      category: conv.category,
      packFile,
      toml,
      positive: ex.positive.map(serializeEvent).join("\n") + "\n",
      negative: ex.negative.map(serializeEvent).join("\n") + "\n",
    });
  }
  if (pending.length > 0) await writePack(opts.out, pending);
  for (const p of pending) {
    summary.converted.push({
      id: p.id,
      file: p.file,
      product: p.product,
      category: p.category,
      pack_file: p.packFile,
    });
  }
  return summary;
}

function idOf(doc: unknown): string | undefined {
  const id = (doc as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : undefined;
}

async function writePack(out: string, rules: Pending[]): Promise<void> {
  await Deno.mkdir(join(out, "tests"), { recursive: true });
  const byFile = new Map<string, Pending[]>();
  for (const r of rules) {
    const l = byFile.get(r.packFile) ?? [];
    l.push(r);
    byFile.set(r.packFile, l);
  }
  for (const [name, list] of byFile) {
    const head = [
      `# Imported from Sigma by "bm rules import-sigma" (${list.length} rules).`,
      "# Each rule keeps its Sigma id, title, author, status, level, references, tags and license.",
      "format_version = 1",
      "",
    ].join("\n");
    await Deno.writeTextFile(join(out, name), head + list.map((r) => r.toml).join("\n"));
    for (const r of list) {
      await Deno.writeTextFile(join(out, "tests", `${r.id}.pos.jsonl`), r.positive);
      await Deno.writeTextFile(join(out, "tests", `${r.id}.neg.jsonl`), r.negative);
    }
  }
}

/** The text summary: counts, skip reasons, then each skipped file and why. */
export function formatSummary(s: ImportSummary, cwd = Deno.cwd()): string {
  const lines: string[] = [];
  const perFile = new Map<string, number>();
  for (const c of s.converted) perFile.set(c.pack_file, (perFile.get(c.pack_file) ?? 0) + 1);
  lines.push(
    `Converted ${s.converted.length} rules from ${s.files} files into "${s.out}"${
      perFile.size > 0 ? ` (${[...perFile].map(([f, n]) => `${f}: ${n}`).join(", ")})` : ""
    }`,
  );
  lines.push(`Skipped ${s.skipped.length} rules:`);
  const reasons = Object.entries(s.skipped_by_reason).sort((a, b) => b[1] - a[1]);
  for (const [r, n] of reasons) lines.push(`  ${String(n).padStart(6)}  ${r}`);
  for (const k of s.skipped) lines.push(`skipped ${relative(cwd, k.file)}: ${k.reason}`);
  for (const e of s.errors) {
    lines.push(`${relative(cwd, e.file)}:${e.line}:${e.column}: ${e.reason}`);
  }
  return lines.join("\n");
}
