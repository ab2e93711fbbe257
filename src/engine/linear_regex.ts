/**
 * Every pattern a rule or a setting holds (regex, glob) runs on V8's
 * non-backtracking engine (the `l` flag), so no input can make a match take
 * more than time linear in its length: a backtracking engine lets one
 * argument of 60 KB stall the engine for seconds (invariant 8). The engine
 * exists only when Deno runs with `--v8-flags=--enable-experimental-regexp-engine`
 * (bin/bm, the services, `deno task compile` and scripts/test.sh pass it);
 * without it every pattern is refused with that fix as the reason, never run
 * on the backtracking engine.
 *
 * The linear engine has no case-insensitive mode and no backreferences or
 * lookaheads: case-insensitive patterns are lower-cased (escapes kept) and
 * matched against the lower-cased input; the rest is refused at load.
 */

import { literalFilter, requiredLiterals } from "./regex_literals.ts";
import { lowerCase } from "./lower_case.ts";

/** A compiled pattern: true when it matches (somewhere in) `s`. */
export type StringTest = (s: string) => boolean;

/** The V8 flag that turns the engine on. */
export const LINEAR_ENGINE_FLAG = "--enable-experimental-regexp-engine";

let available: boolean | undefined;

/** True when this runtime was started with LINEAR_ENGINE_FLAG. */
export function linearEngineAvailable(): boolean {
  if (available === undefined) {
    try {
      // The flag comes from a variable: the linter knows no `l` flag.
      const flags = "l";
      new RegExp("a", flags);
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

export interface LinearOptions {
  ignoreCase?: boolean;
  /** `.` matches every character, line terminators included. */
  dotAll?: boolean;
  /**
   * Literal text every match must start / end the string with (already
   * lower-cased with ignoreCase). Tested first: the linear engine costs tens of
   * ns per character, a failed `startsWith` next to nothing, and most values
   * fail it. For a regex the prefix is derived from the source when not given.
   */
  prefix?: string;
  suffix?: string;
}

/**
 * Compiles `source` on the linear engine; throws an Error whose message is the
 * reason (a syntax error, a construct the engine cannot run, or the engine
 * being off).
 */
export function compileLinear(source: string, opts: LinearOptions = {}): StringTest {
  if (!linearEngineAvailable()) {
    throw new Error(
      `the linear-time regex engine is off: run Deno with --v8-flags=${LINEAR_ENGINE_FLAG} (bin/bm does)`,
    );
  }
  const src = opts.ignoreCase ? lowerPattern(source) : source;
  let re: RegExp;
  try {
    re = new RegExp(src, opts.dotAll ? "sl" : "l");
  } catch (e) {
    const msg = (e as Error).message;
    if (!msg.includes("linear time")) {
      // Syntax errors: V8's text after the pattern is the reason.
      throw new Error(msg.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ""));
    }
    throw new Error(`cannot run in linear time: ${unsupportedConstruct(source)}`);
  }
  const prefix = opts.prefix ?? anchoredPrefix(src);
  const suffix = opts.suffix ?? "";
  const lower = opts.ignoreCase === true;
  // Literals every match must contain (regex_literals.ts): a failed `includes` is
  // far cheaper than the linear engine, and most values fail.
  const lits = requiredLiterals(src);
  const may = lits ? literalFilter(lits) : undefined;
  if (prefix === "" && suffix === "") {
    if (may) {
      return lower
        ? (s) => {
          const v = lowerCase(s);
          return may(v) && re.test(v);
        }
        : (s) => may(s) && re.test(s);
    }
    return lower ? (s) => re.test(lowerCase(s)) : (s) => re.test(s);
  }
  return (s) => {
    const v = lower ? lowerCase(s) : s;
    return v.startsWith(prefix) && v.endsWith(suffix) && (!may || may(v)) && re.test(v);
  };
}

const SPECIAL = new Set([..."\\^$.|?*+()[]{}"]);

/**
 * The literal text a `^`-anchored pattern without top-level alternation must
 * start with ("" when there is none or it is not plain to see).
 */
export function anchoredPrefix(src: string): string {
  if (!src.startsWith("^") || hasTopLevelAlternation(src)) return "";
  let out = "";
  let i = 1;
  let lastLen = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\\") {
      const n = src[i + 1];
      // Only an escaped punctuation character is itself (\. \/ \-); \d, \x41 are not.
      if (n === undefined || /[0-9A-Za-z]/.test(n)) break;
      lastLen = out.length;
      out += n;
      i += 2;
      continue;
    }
    if (SPECIAL.has(c)) {
      // A quantifier makes the last character optional or repeated.
      if (c === "?" || c === "*" || c === "{" || c === "+") out = out.slice(0, lastLen);
      break;
    }
    lastLen = out.length;
    out += c;
    i++;
  }
  return out;
}

function hasTopLevelAlternation(src: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return true;
  }
  return false;
}

/** Names the construct the linear engine refused, for the rule author. */
function unsupportedConstruct(src: string): string {
  if (/\\[1-9]|\\k</.test(src)) return "backreferences (\\1, \\k<name>) are not supported";
  if (/\(\?[=!]/.test(src)) return "lookahead ((?=...), (?!...)) is not supported";
  if (/\(\?<[=!]/.test(src)) return "this lookbehind ((?<=...), (?<!...)) is not supported";
  if (/\{\d{3,}/.test(src)) return "counted repetitions this large are not supported";
  return "the pattern needs backtracking (backreference, lookaround or a large counted repetition)";
}

/**
 * The pattern with every literal letter lower-cased, for matching against
 * lower-cased input. Escapes keep their letter (`\W` is not `\w`); `\xHH` and
 * `\uHHHH` naming an upper-case ASCII letter are rewritten to the lower-case one.
 */
export function lowerPattern(src: string): string {
  let out = "";
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c !== "\\") {
      out += c.toLowerCase();
      continue;
    }
    const n = src[i + 1];
    if (n === undefined) {
      out += c;
      continue;
    }
    const hexLen = n === "x" ? 2 : n === "u" ? 4 : 0;
    const hex = hexLen > 0 ? src.slice(i + 2, i + 2 + hexLen) : "";
    if (hexLen > 0 && hex.length === hexLen && /^[0-9a-fA-F]+$/.test(hex)) {
      const code = parseInt(hex, 16);
      const lowered = code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
      out += `\\${n}${lowered.toString(16).padStart(hexLen, "0")}`;
      i += 1 + hexLen;
      continue;
    }
    out += c + n;
    i++;
  }
  return out;
}
