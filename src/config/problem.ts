/**
 * A problem found in a configuration file, printed as one line:
 * `FILE:LINE: key: reason` (errors) or `FILE:LINE: warning: key: reason`.
 */
export interface ConfigProblem {
  severity: "error" | "warning";
  file: string;
  /** 1-based line, when the format has lines and the key was found in the text. */
  line?: number;
  column?: number;
  /** Dotted key with list indexes, e.g. `antivirusEngine.exclusions[1].path`. */
  key?: string;
  reason: string;
  /** Why no line is given, e.g. "binary plist: no line numbers". */
  lineNote?: string;
}

/** The one-line form of a problem. */
export function formatProblem(p: ConfigProblem): string {
  let where = p.file;
  if (p.line !== undefined) where += `:${p.line}`;
  if (p.line !== undefined && p.column !== undefined) where += `:${p.column}`;
  const parts = [where];
  if (p.severity === "warning") parts.push("warning");
  if (p.key !== undefined) parts.push(p.key);
  parts.push(p.lineNote ? `${p.reason} (${p.lineNote})` : p.reason);
  // A key or value from the file may hold a newline: the line stays one line.
  return parts.join(": ").replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** Dotted key from a path of names and list indexes. */
export function keyOf(path: readonly (string | number)[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}
