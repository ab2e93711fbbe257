/**
 * Glob patterns of the rule format, compiled once for the linear-time engine:
 * `*` matches within one path segment, `**` across segments (`/**\/` also
 * matches a single `/`), `?` one character other than `/`, `[abc]` / `[!a-z]`
 * a character class. Every wildcard matches any character but `/`, newline,
 * CR and tab included: a name holding one must not slip past a rule.
 */
import { compileLinear, type StringTest } from "./linear_regex.ts";
import { lowerCase } from "./lower_case.ts";

/** Compiles a glob to an anchored test; throws an Error with the reason when malformed. */
export function compileGlob(glob: string, caseInsensitive = false): StringTest {
  const src = globSource(glob); // validates
  const direct = shapeTest(caseInsensitive ? glob.toLowerCase() : glob);
  if (direct !== undefined) {
    return caseInsensitive ? (s) => direct(lowerCase(s)) : direct;
  }
  // The literal text before the first and after the last wildcard is a cheap first test.
  const first = glob.search(/[*?[]/);
  const last = Math.max(glob.lastIndexOf("*"), glob.lastIndexOf("?"), glob.lastIndexOf("]"));
  const fold = (x: string) => (caseInsensitive ? x.toLowerCase() : x);
  return compileLinear(src, {
    ignoreCase: caseInsensitive,
    dotAll: true,
    prefix: fold(first < 0 ? glob : glob.slice(0, first)),
    suffix: first < 0 ? "" : fold(glob.slice(last + 1)),
  });
}

/**
 * A direct test for the shapes most globs have, with the meaning of their
 * regular expression (globSource) and no regex engine: a literal; `P**`;
 * `**\/S`; `**S`; `**\/M/**`; `P*S` (one `*`); `P*\/**`. Pieces are literal
 * text (no `*`, `?` or class). Undefined for any other shape.
 */
function shapeTest(g: string): StringTest | undefined {
  if (/[?[\]]/.test(g)) return undefined;
  const stars = (g.match(/\*+/g) ?? []).map((x) => x.length);
  if (stars.length === 0) return (s) => s === g;
  if (stars.length === 1 && stars[0] === 2) {
    const i = g.indexOf("**");
    const p = g.slice(0, i);
    const rest = g.slice(i + 2);
    if (rest === "") return (s) => s.startsWith(p); // P**
    if (p !== "") return undefined;
    if (rest.startsWith("/")) {
      const tail = rest.slice(1);
      const slashTail = rest;
      return (s) => s === tail || s.endsWith(slashTail); // **/S
    }
    return (s) => s.endsWith(rest); // **S
  }
  if (stars.length === 2 && stars[0] === 2 && stars[1] === 2 && g.startsWith("**/")) {
    const m = g.slice(3, -2);
    if (!g.endsWith("/**") || m.length < 2 || !m.endsWith("/")) return undefined;
    const head = m; // "M/"
    const mid = `/${m}`; // "/M/"
    return (s) => s.startsWith(head) || s.includes(mid); // **/M/**
  }
  if (stars.length === 1 && stars[0] === 1) {
    const i = g.indexOf("*");
    const p = g.slice(0, i);
    const q = g.slice(i + 1);
    return (s) => {
      if (s.length < p.length + q.length || !s.startsWith(p) || !s.endsWith(q)) return false;
      const j = s.indexOf("/", p.length);
      return j < 0 || j >= s.length - q.length;
    }; // P*S
  }
  if (stars.length === 2 && stars[0] === 1 && stars[1] === 2 && g.endsWith("*/**")) {
    const p = g.slice(0, -4);
    if (p.includes("*")) return undefined;
    return (s) => s.startsWith(p) && s.indexOf("/", p.length) >= 0; // P*/**
  }
  return undefined;
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
