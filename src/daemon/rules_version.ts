/**
 * The rule pack's version as `bm health` shows it: the pack's VERSION file
 * when it has one, plus a short SHA-256 over every rule file's path and
 * content, so two hosts with the same label but edited rules differ. The
 * digest is over the bytes the loader read and compiled (`loadRules`'s
 * sources under `dir`), never a second read that could see a newer file.
 */
import { createHash } from "node:crypto";
import type { RuleSource } from "../engine/rule_loader.ts";

export async function rulesVersion(dir: string, sources: readonly RuleSource[]): Promise<string> {
  const root = dir.replace(/\/$/, "");
  const mine = sources.filter((s) => s.file === root || s.file.startsWith(`${root}/`));
  const sorted = mine.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const h = createHash("sha256");
  for (const s of sorted) {
    h.update(s.file.startsWith(root) ? s.file.slice(root.length) : s.file);
    h.update("\0");
    h.update(s.bytes);
    h.update("\0");
  }
  const digest = h.digest("hex").slice(0, 12);
  let label = "";
  try {
    label = (await Deno.readTextFile(`${root}/VERSION`)).trim();
  } catch { /* no label */ }
  return label ? `${label}+${digest}` : digest;
}
