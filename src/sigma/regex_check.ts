/**
 * The engine's regex safety rules applied to Sigma `|re` values: a pattern
 * must run in linear time (invariant 8), so backreferences, lookarounds,
 * atomic groups and possessive quantifiers are refused, as are PCRE-only
 * forms JavaScript reads differently (inline flags other than a leading
 * `(?i)`, `(?P<name>`). A leading `(?i)` becomes a case-insensitive regex.
 */

export interface CheckedRegex {
  source: string;
  ignoreCase: boolean;
}

/** The reason the pattern is refused, or the pattern to compile. */
export function checkRegex(pattern: string): CheckedRegex | { problem: string } {
  let source = pattern;
  let ignoreCase = false;
  if (source.startsWith("(?i)")) {
    source = source.slice(4);
    ignoreCase = true;
  }
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\\") {
      const n = source[i + 1] ?? "";
      if (!inClass && (/[1-9]/.test(n) || n === "k")) {
        return { problem: `regex "${pattern}": backreference unsupported` };
      }
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      if (source[i + 1] === "]") i++;
      continue;
    }
    if (c === "(" && source[i + 1] === "?") {
      const rest = source.slice(i + 2);
      if (/^(=|!|<=|<!)/.test(rest)) {
        return { problem: `regex "${pattern}": lookaround unsupported` };
      }
      if (rest.startsWith(">")) return { problem: `regex "${pattern}": atomic group unsupported` };
      if (rest.startsWith("P")) return { problem: `regex "${pattern}": (?P...) unsupported` };
      if (!rest.startsWith(":") && !/^<[A-Za-z_]/.test(rest)) {
        return { problem: `regex "${pattern}": inline flags unsupported` };
      }
    }
    if ((c === "*" || c === "+" || c === "?" || c === "}") && source[i + 1] === "+") {
      return { problem: `regex "${pattern}": possessive quantifier unsupported` };
    }
  }
  try {
    new RegExp(source);
  } catch (e) {
    return { problem: `regex "${pattern}": ${(e as Error).message}` };
  }
  return { source, ignoreCase };
}
