import { deepEqual, equal, ok } from "node:assert/strict";
import { parse } from "smol-toml";
import { literalFilter, requiredLiterals } from "./regex_literals.ts";
import { lowerPattern } from "./linear_regex.ts";

Deno.test("required literals: what every match must contain, and nothing it may lack", () => {
  deepEqual(requiredLiterals("curl.*\\|\\s*(ba)?sh"), [["curl"]]);
  deepEqual(requiredLiterals("^(chisel|gost|frpc)$"), [["chisel"], ["gost"], ["frpc"]]);
  deepEqual(requiredLiterals("^/etc/ld\\.so\\.preload$"), [["/etc/ld.so.preload"]]);
  deepEqual(requiredLiterals("base64 +(-d|--decode)"), [["base64 "], ["--decode"]]);
  deepEqual(requiredLiterals("(?:nc|ncat) .*-e"), [["nc"], ["ncat"]]);
  // an optional atom, an optional group, a class: not required
  deepEqual(requiredLiterals("abc?d"), [["ab"]]);
  deepEqual(requiredLiterals("x(yz)?w"), [["x"]]);
  deepEqual(requiredLiterals("[a-z]+foo"), [["foo"]]);
  // a repeated literal is there, but what follows need not be adjacent to the first
  deepEqual(requiredLiterals("ab+cd"), [["ab"]]);
  // escapes: \x41 is "A", not the text "41"; \d is not a digit literal
  deepEqual(requiredLiterals("\\x41bc"), [["bc"]]);
  deepEqual(requiredLiterals("\\u0041\\d{3}zz"), [["zz"]]);
  // no filter when an alternative requires nothing
  equal(requiredLiterals("a|.*"), null);
  deepEqual(requiredLiterals("(a|)b"), [["b"]]);
  equal(requiredLiterals("[0-9]+"), null);
  equal(requiredLiterals(".*"), null);
  equal(requiredLiterals("(?=x)"), null);
});

Deno.test("literal filter: passes inputs holding one alternative's literal, rejects the rest", () => {
  const f = literalFilter(requiredLiterals("^(chisel|gost)$")!);
  ok(f("chisel"));
  ok(f("gost"));
  ok(!f("ngrok"));
});

/** Every regex and iregex of the shipped pack, as the loader compiles it. */
function packPatterns(): { src: string; lower: boolean }[] {
  const out: { src: string; lower: boolean }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== "object") return;
    for (const [k, x] of Object.entries(v)) {
      if ((k === "regex" || k === "iregex") && (typeof x === "string" || Array.isArray(x))) {
        for (const s of [x].flat()) {
          if (typeof s === "string") out.push({ src: s, lower: k === "iregex" });
        }
      } else walk(x);
    }
  };
  const root = new URL("../../policies/", import.meta.url).pathname;
  for (const os of ["linux", "macos"]) {
    for (const f of Deno.readDirSync(root + os)) {
      if (f.name.endsWith(".toml")) walk(parse(Deno.readTextFileSync(`${root}${os}/${f.name}`)));
    }
  }
  return out;
}

/** Strings from real activity: every string value in the recorded benign traces and rule traces. */
function corpus(): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") out.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  const root = new URL("../../policies/", import.meta.url).pathname;
  for (const dir of ["benign", "tests/linux", "tests/macos"]) {
    for (const f of Deno.readDirSync(root + dir)) {
      if (!f.name.endsWith(".jsonl")) continue;
      for (const line of Deno.readTextFileSync(`${root}${dir}/${f.name}`).split("\n")) {
        if (line.trim()) walk(JSON.parse(line));
      }
    }
  }
  return [...out];
}

Deno.test("literal filter never rejects a match: every pack pattern over every string in the pack's traces", () => {
  const patterns = packPatterns();
  ok(patterns.length > 50, `only ${patterns.length} patterns found`);
  const strings = corpus();
  ok(strings.length > 1000);
  let filtered = 0, matched = 0;
  for (const p of patterns) {
    const src = p.lower ? lowerPattern(p.src) : p.src;
    const lits = requiredLiterals(src);
    if (!lits) continue;
    filtered++;
    const may = literalFilter(lits);
    // The backtracking engine is fine here: these are the pack's own patterns on its own data.
    const re = new RegExp(src, "s");
    for (const s0 of strings) {
      const s = p.lower ? s0.toLowerCase() : s0;
      if (re.test(s)) {
        matched++;
        ok(may(s), `filter of /${p.src}/ rejected a match: ${JSON.stringify(s0)}`);
      }
    }
  }
  ok(filtered > patterns.length / 2, `a filter for only ${filtered} of ${patterns.length}`);
  ok(matched > 0);
});
