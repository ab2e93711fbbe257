import { equal, throws } from "node:assert/strict";
import {
  anchoredPrefix,
  compileLinear,
  linearEngineAvailable,
  lowerPattern,
} from "./linear_regex.ts";

Deno.test("linear regex: the engine is on in the test runtime (scripts/test.sh, bin/bm)", () => {
  equal(linearEngineAvailable(), true);
});

Deno.test("linear regex: ^(a+)+$ on 100 KB finishes (exponential on a backtracking engine)", () => {
  const t = compileLinear("^(a+)+$");
  const t0 = performance.now();
  equal(t("a".repeat(100_000) + "b"), false);
  equal(t("a".repeat(100_000)), true);
  // A loose bound (10x the few ms it takes): a backtracking engine never returns.
  const ms = performance.now() - t0;
  equal(ms < 2_000, true, `${ms} ms`);
});

Deno.test("linear regex: constructs the engine cannot run are refused with the reason", () => {
  throws(() => compileLinear("(a)\\1"), /cannot run in linear time: backreferences/);
  throws(() => compileLinear("(?<x>a)\\k<x>"), /backreferences/);
  throws(() => compileLinear("foo(?=bar)"), /lookahead/);
  throws(() => compileLinear("foo(?!bar)"), /lookahead/);
  throws(() => compileLinear("a{1000}"), /counted repetitions/);
  throws(() => compileLinear("("), /Unterminated group/);
});

Deno.test("linear regex: case-insensitive by lowering; escapes keep their meaning", () => {
  const t = compileLinear("^/Users/[A-Z]+\\W\\x41$", { ignoreCase: true });
  equal(t("/users/ALICE/a"), true);
  equal(t("/USERS/alice/A"), true);
  equal(t("/users/alice_a"), false); // \W is still "not a word character"
  equal(lowerPattern("\\D\\S\\W\\B\\u0042Q[\\W]"), "\\D\\S\\W\\B\\u0062q[\\W]");
});

Deno.test("linear regex: dotAll lets . match newline, CR and tab", () => {
  const t = compileLinear("^/tmp/.*\\.sh$", { dotAll: true });
  for (const c of ["\n", "\r", "\t", "\u2028"]) equal(t(`/tmp/a${c}b.sh`), true, JSON.stringify(c));
  equal(compileLinear("^a.b$")("a\nb"), false);
});

Deno.test("linear regex: the literal prefix tested first is what every match starts with", () => {
  const cases: [string, string][] = [
    ["^LD_PRELOAD=(.*[:/ ])?(/tmp/)", "LD_PRELOAD="],
    ["^python[0-9.]*$", "python"],
    ["^ab?c", "a"],
    ["^ab\\.?c", "ab"],
    ["^\\/tmp\\/x", "/tmp/x"],
    ["^a\\d", "a"],
    ["^abc|^x", ""],
    ["abc", ""],
    ["^(a|b)", ""],
    ["^a{2}", ""],
    ["^-[a-z]*e$", "-"],
  ];
  for (const [src, want] of cases) equal(anchoredPrefix(src), want, src);
  const t = compileLinear("^Python[0-9]$", { ignoreCase: true });
  equal(t("PYTHON3"), true);
  equal(t("perl"), false);
});
