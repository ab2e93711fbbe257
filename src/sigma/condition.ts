/**
 * Sigma's `condition` expression: `and`, `or`, `not`, parentheses, selection
 * names, `1 of X*`, `all of X*`, `1 of them`, `all of them`. Anything else
 * (aggregations after `|`, `near`, `N of` with N > 1) is refused with a reason
 * the importer reports as the rule's skip reason.
 */

export type CondNode =
  | { t: "and"; xs: CondNode[] }
  | { t: "or"; xs: CondNode[] }
  | { t: "not"; x: CondNode }
  | { t: "sel"; name: string };

/** Thrown for a condition the importer does not convert; the message is the skip reason. */
export class ConditionError extends Error {}

function tokenize(s: string): string[] {
  const out: string[] = [];
  const re = /\s*(\(|\)|\||[^\s()|]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(s)) !== null) {
    out.push(m[1]!);
    pos = re.lastIndex;
  }
  if (s.slice(pos).trim() !== "") throw new ConditionError(`condition "${s}": cannot be read`);
  return out;
}

function globToRe(pattern: string): RegExp {
  const esc = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(
    /\?/g,
    ".",
  );
  return new RegExp(`^${esc}$`);
}

/**
 * Parses `condition` against the detection's selection names. `x of them`
 * leaves out names starting with `_` (Sigma's convention).
 */
export function parseCondition(text: string, names: readonly string[]): CondNode {
  if (/\|/.test(text)) {
    throw new ConditionError(`condition "${text}": aggregation (|) unsupported`);
  }
  const toks = tokenize(text);
  if (toks.some((t) => t.toLowerCase() === "near")) {
    throw new ConditionError(`condition "${text}": "near" unsupported`);
  }
  let i = 0;
  const peek = () => toks[i];
  const low = (t: string | undefined) => t?.toLowerCase();
  const expr = (): CondNode => {
    const xs = [and()];
    while (low(peek()) === "or") {
      i++;
      xs.push(and());
    }
    return xs.length === 1 ? xs[0]! : { t: "or", xs };
  };
  const and = (): CondNode => {
    const xs = [not()];
    while (low(peek()) === "and") {
      i++;
      xs.push(not());
    }
    return xs.length === 1 ? xs[0]! : { t: "and", xs };
  };
  const not = (): CondNode => {
    if (low(peek()) === "not") {
      i++;
      return { t: "not", x: not() };
    }
    return primary();
  };
  const primary = (): CondNode => {
    const t = toks[i++];
    if (t === undefined) throw new ConditionError(`condition "${text}": ends too early`);
    if (t === "(") {
      const e = expr();
      if (toks[i++] !== ")") throw new ConditionError(`condition "${text}": missing ")"`);
      return e;
    }
    if (low(toks[i]) === "of") {
      const quant = low(t);
      if (quant !== "1" && quant !== "all" && quant !== "any") {
        throw new ConditionError(`condition "${text}": "${t} of" unsupported (only 1 of, all of)`);
      }
      i++;
      const target = toks[i++];
      if (target === undefined) throw new ConditionError(`condition "${text}": "of" needs a name`);
      const picked = low(target) === "them"
        ? names.filter((n) => !n.startsWith("_"))
        : names.filter((n) => globToRe(target).test(n));
      if (picked.length === 0) {
        throw new ConditionError(`condition "${text}": "${target}" names no selection`);
      }
      const xs = picked.map((name): CondNode => ({ t: "sel", name }));
      if (xs.length === 1) return xs[0]!;
      return quant === "all" ? { t: "and", xs } : { t: "or", xs };
    }
    if (t === ")" || ["and", "or", "not"].includes(low(t)!)) {
      throw new ConditionError(`condition "${text}": unexpected "${t}"`);
    }
    if (!names.includes(t)) {
      throw new ConditionError(`condition "${text}": names unknown selection "${t}"`);
    }
    return { t: "sel", name: t };
  };
  const e = expr();
  if (i < toks.length) throw new ConditionError(`condition "${text}": unexpected "${toks[i]}"`);
  return e;
}
