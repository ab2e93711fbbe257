/**
 * Best-effort line of a key in a config file's text. The parsers do not keep
 * positions, so this walks the key path through the text: each name is looked
 * for after the previous one, in the syntax of the format. It can be fooled
 * (a key name inside a string value), which only costs a wrong line number.
 */
export type TextFormat = "json" | "toml" | "xml";

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function keyRegex(format: TextFormat, name: string): RegExp {
  const n = esc(name);
  switch (format) {
    case "json":
      return new RegExp(`"${n}"\\s*:`, "g");
    case "xml":
      return new RegExp(`<key>\\s*${n}\\s*</key>`, "g");
    case "toml":
      return new RegExp(`(?<=^|[\\s.\\[{,])(?:"${n}"|'${n}'|${n})\\s*(?:=|\\.|\\])`, "gm");
  }
}

function openerRegex(format: TextFormat): RegExp {
  switch (format) {
    case "json":
      return /\{/g;
    case "xml":
      return /<dict\s*>/g;
    case "toml":
      return /\{|\[\[/g;
  }
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** 1-based line where the key path appears, or undefined when its first name is not found. */
export function findKeyLine(
  text: string,
  format: TextFormat,
  path: readonly (string | number)[],
  start = 0,
): number | undefined {
  let pos = start;
  let found: number | undefined;
  let keyLineStart = start;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (typeof seg === "string") {
      const re = keyRegex(format, seg);
      re.lastIndex = pos;
      const m = re.exec(text);
      if (!m) break;
      found = m.index;
      pos = m.index + m[0].length;
      keyLineStart = text.lastIndexOf("\n", m.index) + 1;
    } else if (i + 1 < path.length) {
      // The item of a list of tables/dicts: count openers from the list's key.
      const re = openerRegex(format);
      re.lastIndex = format === "toml" ? keyLineStart : pos;
      let m: RegExpExecArray | null = null;
      for (let k = 0; k <= seg; k++) {
        m = re.exec(text);
        if (!m) break;
      }
      if (!m) break;
      found = m.index;
      pos = m.index + m[0].length;
    }
  }
  return found === undefined ? undefined : lineAt(text, found);
}

/** 1-based line and column of a character offset. */
export function lineColumnAt(text: string, index: number): { line: number; column: number } {
  const line = lineAt(text, index);
  const column = index - (text.lastIndexOf("\n", index - 1) + 1) + 1;
  return { line, column };
}
