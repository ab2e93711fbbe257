/**
 * Settings exclusions, in the shape of Defender's `antivirusEngine.exclusions`
 * list, compiled once into sets, prefixes and linear-time glob tests.
 */
import { compileGlob } from "./glob.ts";
import type { StringTest } from "./linear_regex.ts";
import { basename } from "./process_table.ts";

export type Exclusion =
  | { $type: "excludedPath"; path: string; isDirectory?: boolean }
  | { $type: "excludedFileExtension"; extension: string }
  | { $type: "excludedFileName"; name: string };

export type PathMatcher = (path: string) => boolean;

/** Compiles an exclusions list; `undefined` when nothing is excluded. */
export function compileExclusions(list: readonly Exclusion[]): PathMatcher | undefined {
  const exact = new Set<string>();
  const dirs: string[] = [];
  const globs: StringTest[] = [];
  const exts = new Set<string>();
  const names = new Set<string>();
  for (const e of list) {
    if (e.$type === "excludedPath") {
      const wild = /[*?[]/.test(e.path);
      const p = e.path.length > 1 ? e.path.replace(/\/+$/, "") : e.path;
      if (wild) {
        try {
          globs.push(compileGlob(e.isDirectory ? `${p}/**` : p));
        } catch {
          exact.add(p);
        }
      } else if (e.isDirectory) dirs.push(p === "/" ? "/" : `${p}/`);
      else exact.add(p);
    } else if (e.$type === "excludedFileExtension") {
      exts.add(e.extension.replace(/^\./, "").toLowerCase());
    } else if (e.$type === "excludedFileName") {
      names.add(e.name);
    }
  }
  if (exact.size + dirs.length + globs.length + exts.size + names.size === 0) return undefined;
  return (path: string) => {
    if (exact.has(path)) return true;
    for (const d of dirs) if (path.startsWith(d)) return true;
    for (const g of globs) if (g(path)) return true;
    if (names.size > 0 || exts.size > 0) {
      const b = basename(path);
      if (names.has(b)) return true;
      const i = b.lastIndexOf(".");
      if (i > 0 && exts.has(b.slice(i + 1).toLowerCase())) return true;
    }
    return false;
  };
}
