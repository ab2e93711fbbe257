/**
 * Glob patterns of the rule format, compiled once for the linear-time engine:
 * `*` matches within one path segment, `**` across segments (`/**\/` also
 * matches a single `/`), `?` one character other than `/`, `[abc]` / `[!a-z]`
 * a character class. Every wildcard matches any character but `/`, newline,
 * CR and tab included: a name holding one must not slip past a rule.
 */
import { compileLinear, type StringTest } from "./linear_regex.ts";

/** Compiles a glob to an anchored test; throws an Error with the reason when malformed. */
export function compileGlob(glob: string, caseInsensitive = false): StringTest {
  // The literal text before the first and after the last wildcard is a cheap first test.
  const first = glob.search(/[*?[]/);
  const last = Math.max(glob.lastIndexOf("*"), glob.lastIndexOf("?"), glob.lastIndexOf("]"));
  const fold = (x: string) => (caseInsensitive ? x.toLowerCase() : x);
  return compileLinear(globSource(glob), {
    ignoreCase: caseInsensitive,
    dotAll: true,
    prefix: fold(first < 0 ? glob : glob.slice(0, first)),
    suffix: first < 0 ? "" : fold(glob.slice(last + 1)),
  });
}

/** The anchored regular expression of a glob (`.` is meant with dotAll). */
export function globSource(glob: string): string {
  if (glob.length === 0) throw new Error("empty glob");
  let re = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        if (glob[i + 2] === "*") throw new Error(`"***" at offset ${i}`);
        if (glob[i + 2] === "/") {
          re += "(?:.*/)?";
          i += 2;
        } else {
          re += ".*";
          i += 1;
        }
      } else {
        re += "[^/]*";
      }
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) throw new Error(`unclosed "[" at offset ${i}`);
      let body = glob.slice(i + 1, end);
      let neg = false;
      if (body.startsWith("!") || body.startsWith("^")) {
        neg = true;
        body = body.slice(1);
      }
      if (body.length === 0) throw new Error(`empty character class at offset ${i}`);
      re += (neg ? "[^" : "[") + body.replace(/[\\\]^]/g, "\\$&") + "]";
      i = end;
    } else if (c === "]") {
      throw new Error(`unmatched "]" at offset ${i}`);
    } else {
      re += c.replace(/[.+^${}()|\\/]/g, "\\$&");
    }
  }
  return re + "$";
}
