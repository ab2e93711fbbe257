/**
 * A shortest-ish string a regex matches, for the positive example of a rule
 * with `|re` (the importer then checks the sample against the compiled rule).
 * Covers literals, escapes, classes, groups, alternation (first branch) and
 * quantifiers (their minimum); returns undefined for what it cannot follow.
 */

const CANDIDATES = ["a", "x", "0", " ", "-", "/", "_", "A", "Z", "9", ".", "=", "\t"];

class Reader {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string | undefined {
    return this.s[this.i];
  }
  next(): string | undefined {
    return this.s[this.i++];
  }
}

function escapeSample(c: string): string {
  switch (c) {
    case "d":
      return "0";
    case "D":
      return "a";
    case "w":
      return "a";
    case "W":
      return "-";
    case "s":
      return " ";
    case "S":
      return "x";
    case "t":
      return "\t";
    case "n":
      return "\n";
    case "r":
      return "\r";
    case "b":
    case "B":
      return "";
    default:
      return c;
  }
}

/** Chars a class escape stands for, among CANDIDATES (for negated classes). */
function escapeHas(c: string, ch: string): boolean {
  switch (c) {
    case "d":
      return /\d/.test(ch);
    case "D":
      return /\D/.test(ch);
    case "w":
      return /\w/.test(ch);
    case "W":
      return /\W/.test(ch);
    case "s":
      return /\s/.test(ch);
    case "S":
      return /\S/.test(ch);
    default:
      return escapeSample(c) === ch;
  }
}

function readClass(r: Reader): string | undefined {
  const negated = r.peek() === "^";
  if (negated) r.next();
  const items: ((ch: string) => boolean)[] = [];
  let first: string | undefined;
  let start = true;
  for (;;) {
    let c = r.next();
    if (c === undefined) return undefined;
    if (c === "]" && !start) break;
    start = false;
    let has: (ch: string) => boolean;
    let sample: string;
    if (c === "\\") {
      const e = r.next();
      if (e === undefined) return undefined;
      sample = escapeSample(e);
      has = (ch) => escapeHas(e, ch);
      c = sample;
    } else {
      sample = c;
      has = (ch) => ch === sample;
    }
    if (r.peek() === "-" && r.s[r.i + 1] !== "]" && r.s[r.i + 1] !== undefined) {
      r.next();
      let hi = r.next()!;
      if (hi === "\\") hi = escapeSample(r.next() ?? "");
      const lo = c;
      has = (ch) => ch >= lo && ch <= hi;
      sample = lo;
    }
    items.push(has);
    first ??= sample;
  }
  if (!negated) return first;
  return CANDIDATES.find((ch) => !items.some((h) => h(ch)));
}

function readAlt(r: Reader): string | undefined {
  const first = readSeq(r);
  if (first === undefined) return undefined;
  while (r.peek() === "|") {
    r.next();
    if (readSeq(r) === undefined) return undefined;
  }
  return first;
}

function readSeq(r: Reader): string | undefined {
  let out = "";
  for (;;) {
    const c = r.peek();
    if (c === undefined || c === "|" || c === ")") return out;
    r.next();
    let atom: string | undefined;
    if (c === "(") {
      if (r.peek() === "?") {
        r.next();
        const k = r.next();
        if (k === "<") {
          while (r.peek() !== undefined && r.peek() !== ">") r.next();
          r.next();
        } else if (k !== ":") return undefined;
      }
      atom = readAlt(r);
      if (atom === undefined || r.next() !== ")") return undefined;
    } else if (c === "[") atom = readClass(r);
    else if (c === "\\") {
      const e = r.next();
      if (e === undefined) return undefined;
      if (e === "x") {
        atom = String.fromCharCode(parseInt(r.s.slice(r.i, r.i + 2), 16));
        r.i += 2;
      } else if (e === "u") {
        atom = String.fromCharCode(parseInt(r.s.slice(r.i, r.i + 4), 16));
        r.i += 4;
      } else atom = escapeSample(e);
    } else if (c === ".") atom = "a";
    else if (c === "^" || c === "$") atom = "";
    else atom = c;
    if (atom === undefined) return undefined;
    // quantifier
    let min = 1;
    const q = r.peek();
    if (q === "*" || q === "?") {
      r.next();
      min = 0;
    } else if (q === "+") {
      r.next();
      min = 1;
    } else if (q === "{") {
      const m = /^\{(\d+)(,\d*)?\}/.exec(r.s.slice(r.i));
      if (m) {
        r.i += m[0].length;
        min = Number(m[1]);
      }
    }
    if (r.peek() === "?") r.next();
    out += atom.repeat(min);
  }
}

export function sampleRegex(source: string, ignoreCase: boolean): string | undefined {
  const r = new Reader(source);
  const s = readAlt(r);
  if (s === undefined || r.i !== source.length) return undefined;
  try {
    return new RegExp(source, ignoreCase ? "i" : "").test(s) ? s : undefined;
  } catch {
    return undefined;
  }
}
