/**
 * Best-effort line of a key in a config file's text. The parsers do not keep
 * positions, so this walks the key path through the text: each name is looked
 * for after the previous one, in the syntax of the format. It can be fooled
 * (a key name inside a string value), which only costs a wrong line number.
 * Cost: one pass over the text per text, then a binary search per key, so
 * 200,000 unknown keys are located in well under a second.
 */
export type TextFormat = "json" | "toml" | "xml";

/**
 * Every key of the text with its offsets, found in one pass with fixed
 * patterns (never a pattern built from a key: a key of 100 KB or one full of
 * regex syntax is only data), so each lookup is a binary search.
 */
interface KeyIndex {
  keys: Map<string, number[]>;
  /** Offsets where each line starts. */
  lineStarts: number[];
}

const KEY_TOKENS: Record<TextFormat, RegExp> = {
  json: /"((?:[^"\\\n]|\\.)*)"[ \t\r\n]*:/g,
  xml: /<key>([^<]*)<\/key>/g,
  toml: /(?<=^|[\s.[{,])(?:"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'|([A-Za-z0-9_$-]+))[ \t]*(?=[=.\]])/gm,
};

function keyIndex(text: string, format: TextFormat): KeyIndex {
  const keys = new Map<string, number[]>();
  const re = new RegExp(KEY_TOKENS[format].source, KEY_TOKENS[format].flags);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    let name = m[1] ?? m[2] ?? m[3] ?? "";
    if (format === "xml") name = name.trim();
    if (m[1] !== undefined && format !== "xml") {
      try {
        name = JSON.parse(`"${m[1]}"`) as string;
      } catch { /* keep the raw text */ }
    }
    const list = keys.get(name);
    if (list === undefined) keys.set(name, [m.index]);
    else list.push(m.index);
    if (m[0].length === 0) re.lastIndex++;
  }
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  return { keys, lineStarts };
}

/** The first offset in the sorted `list` at or after `pos`, or undefined. */
function firstAtOrAfter(list: readonly number[], pos: number): number | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < pos) lo = mid + 1;
    else hi = mid;
  }
  return list[lo];
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

function lineOfOffset(starts: readonly number[], index: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/**
 * A line finder for one text: the key index is built once, on the first
 * lookup, and every lookup after it is a binary search. (A module-wide cache
 * keyed by the text compared whole texts: reading the same 5 MB file again
 * cost a full comparison per key, 90 s for 200,000 keys.)
 */
export function keyLineFinder(
  text: string,
  format: TextFormat,
): (path: readonly (string | number)[]) => number | undefined {
  let index: KeyIndex | undefined;
  return (path) => findInIndex(index ??= keyIndex(text, format), text, format, path);
}

/** 1-based line where the key path appears, or undefined when its first name is not found. */
export function findKeyLine(
  text: string,
  format: TextFormat,
  path: readonly (string | number)[],
  start = 0,
): number | undefined {
  return findInIndex(keyIndex(text, format), text, format, path, start);
}

function findInIndex(
  index: KeyIndex,
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
      const list = index.keys.get(seg);
      const at = list === undefined ? undefined : firstAtOrAfter(list, pos);
      if (at === undefined) break;
      found = at;
      pos = at + 1;
      keyLineStart = text.lastIndexOf("\n", at) + 1;
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
  return found === undefined ? undefined : lineOfOffset(index.lineStarts, found);
}

/** 1-based line and column of a character offset. */
export function lineColumnAt(text: string, index: number): { line: number; column: number } {
  const line = lineAt(text, index);
  const column = index - (text.lastIndexOf("\n", index - 1) + 1) + 1;
  return { line, column };
}
