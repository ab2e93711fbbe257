/**
 * The rule pack's version as `bm health` shows it: the pack's VERSION file
 * when it has one, plus a short SHA-256 over every rule file's path and
 * content, so two hosts with the same label but edited rules differ.
 */
import { createHash } from "node:crypto";

export async function rulesVersion(dir: string): Promise<string> {
  const files: string[] = [];
  const walk = async (d: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(d)];
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.isFile && e.name.endsWith(".toml")) files.push(p);
    }
  };
  await walk(dir);
  files.sort();
  const h = createHash("sha256");
  for (const f of files) {
    h.update(f.slice(dir.length));
    h.update("\0");
    try {
      h.update(await Deno.readFile(f));
    } catch { /* unreadable files are reported by the loader */ }
    h.update("\0");
  }
  const digest = h.digest("hex").slice(0, 12);
  let label = "";
  try {
    label = (await Deno.readTextFile(`${dir}/VERSION`)).trim();
  } catch { /* no label */ }
  return label ? `${label}+${digest}` : digest;
}
