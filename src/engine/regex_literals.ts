/**
 * Required literals of a regular expression: a cheap test that says "cannot
 * match" for most inputs before the linear-time engine runs. The linear
 * engine costs tens of ns per character and most rule patterns fail on most
 * values, so a failed `includes` in front of it is where the engine's time
 * goes down (RE2 does the same with its prefilter).
 *
 * The result is an OR of ANDs: the pattern can match `s` only if, for at least
 * one alternative, `s` contains every literal of that alternative. It is
 * derived conservatively: only characters every match of that alternative
 * must contain, in that order, count; anything not understood contributes
 * nothing. `null` means no useful filter (some alternative requires nothing).
 */

/** Alternatives, each a list of literals that must all occur. */
export type Literals = string[][];

/** More alternatives than this and the filter costs more than it saves (an includes() each). */
const MAX_ALTERNATIVES = 64;

const NOTHING: Literals = [[]];

/**
 * The required literals of `src` (a pattern the linear engine accepted; with
 * ignoreCase already lower-cased), or null when some alternative has none.
 */
export function requiredLiterals(src: string): Literals | null {
  let r: Literals | undefined;
  try {
    const p = new Parser(src);
    r = p.alternation();
    if (p.i !== src.length) return null;
  } catch {
    return null;
  }
  if (!r || r.some((and) => and.length === 0)) return null;
  // One literal per alternative suffices to reject; the longest rejects most.
  return r.map((and) => [and.reduce((a, b) => (b.length > a.length ? b : a))]);
}

/** A test built from requiredLiterals: false only when no match is possible. */
export function literalFilter(lits: Literals): (s: string) => boolean {
  const alts = lits.map((and) => and[0]!);
  if (alts.length === 1) {
    const only = alts[0]!;
    return (s) => s.includes(only);
  }
  return (s) => {
    for (const l of alts) if (s.includes(l)) return true;
    return false;
  };
}

function and(a: Literals, b: Literals): Literals | undefined {
  const out: Literals = [];
  for (const x of a) {
    for (const y of b) {
      out.push([...x, ...y]);
      if (out.length > MAX_ALTERNATIVES) return undefined;
    }
  }
  return out;
}

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  /** alternative ('|' alternative)* up to ')' or the end. */
  alternation(): Literals {
    const alts: Literals = [];
    for (;;) {
      const seq = this.sequence();
      alts.push(...seq);
      if (this.s[this.i] !== "|") break;
      this.i++;
    }
    if (alts.length > MAX_ALTERNATIVES || alts.some((a) => a.length === 0)) return NOTHING;
    return alts;
  }

  /** Atoms with their quantifiers, up to '|', ')' or the end. */
  sequence(): Literals {
    let acc: Literals = NOTHING;
    let run = "";
    const flush = () => {
      if (run !== "") acc = and(acc, [[run]]) ?? acc;
      run = "";
    };
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === "|" || c === ")") break;
      let atom: { lit?: string; group?: Literals } = {};
      if (c === "\\") {
        const n = this.s[this.i + 1];
        if (n === undefined) throw new Error("trailing backslash");
        // An escaped punctuation character is itself; \d, \b, \x41, \n are not plain literals.
        atom = /[0-9A-Za-z]/.test(n) ? {} : { lit: n };
        this.i += 2;
        // The rest of a multi-character escape is part of it, never literal text.
        if (n === "x") this.i += 2;
        else if (n === "c") this.i += 1;
        else if (n === "u" || n === "p" || n === "P") {
          if (this.s[this.i] === "{") {
            const end = this.s.indexOf("}", this.i);
            if (end < 0) throw new Error("unterminated escape");
            this.i = end + 1;
          } else if (n === "u") this.i += 4;
        } else if (n === "k") throw new Error("backreference");
      } else if (c === "[") {
        this.skipClass();
      } else if (c === "(") {
        this.i++;
        if (this.s[this.i] === "?") {
          if (this.s.startsWith("?:", this.i)) this.i += 2;
          else if (this.s[this.i + 1] === "<" && /[A-Za-z_$]/.test(this.s[this.i + 2] ?? "")) {
            this.i = this.s.indexOf(">", this.i) + 1;
            if (this.i === 0) throw new Error("unterminated group name");
          } else throw new Error("group kind not understood");
        }
        const g = this.alternation();
        if (this.s[this.i] !== ")") throw new Error("unclosed group");
        this.i++;
        atom = { group: g };
      } else if (c === "^" || c === "$") {
        this.i++;
        continue; // anchors: zero width, no literal, no break of meaning
      } else if (c === "." || c === "*" || c === "+" || c === "?" || c === "{" && this.quantAt()) {
        this.i++;
        if (c !== ".") throw new Error("quantifier without an atom");
      } else {
        atom = { lit: c };
        this.i++;
      }
      // The quantifier, if any.
      const q = this.quantifier();
      if (atom.lit !== undefined && q === "one") {
        run += atom.lit;
        continue;
      }
      if (atom.lit !== undefined && q === "many") {
        run += atom.lit; // at least one: it is there, but what follows may not be adjacent
        flush();
        continue;
      }
      flush();
      if (atom.group && q !== "optional") {
        acc = and(acc, atom.group) ?? acc;
      }
    }
    flush();
    return acc;
  }

  /** Skips a character class; its characters are alternatives, not literals. */
  private skipClass(): void {
    this.i++;
    if (this.s[this.i] === "^") this.i++;
    while (this.i < this.s.length && this.s[this.i] !== "]") {
      this.i += this.s[this.i] === "\\" ? 2 : 1;
    }
    if (this.i >= this.s.length) throw new Error("unclosed class");
    this.i++;
  }

  private quantAt(): boolean {
    return /^\{\d+(,\d*)?\}/.test(this.s.slice(this.i));
  }

  /** Reads a quantifier: "one" (none), "many" (at least one) or "optional" (may be absent). */
  private quantifier(): "one" | "many" | "optional" {
    const c = this.s[this.i];
    let kind: "one" | "many" | "optional" = "one";
    if (c === "?" || c === "*") {
      kind = "optional";
      this.i++;
    } else if (c === "+") {
      kind = "many";
      this.i++;
    } else if (c === "{" && this.quantAt()) {
      const m = /^\{(\d+)(,\d*)?\}/.exec(this.s.slice(this.i))!;
      const min = Number(m[1]);
      kind = min === 0 ? "optional" : m[2] === undefined && min === 1 ? "one" : "many";
      this.i += m[0].length;
    } else return "one";
    if (this.s[this.i] === "?") this.i++; // lazy
    return kind;
  }
}
