/**
 * Glob patterns of the rule format, compiled once to a RegExp: `*` matches
 * within one path segment, `**` across segments (`/**\/` also matches a single
 * `/`), `?` one character other than `/`, `[abc]` / `[!a-z]` a character class.
 */

/** Compiles a glob to an anchored RegExp; throws an Error with the reason when malformed. */
export function globToRegExp(glob: string, caseInsensitive = false): RegExp {
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
  return new RegExp(re + "$", caseInsensitive ? "i" : "");
}
