import { deepEqual, equal, ok } from "node:assert/strict";
import { checkRegex } from "./regex_check.ts";
import { sampleRegex } from "./regex_sample.ts";

Deno.test("sigma regex: linear-time forms pass, a leading (?i) becomes case-insensitive", () => {
  deepEqual(checkRegex("\\s-[FTd]\\s"), { source: "\\s-[FTd]\\s", ignoreCase: false });
  deepEqual(checkRegex("(?i)/tmp/[a-z]+"), { source: "/tmp/[a-z]+", ignoreCase: true });
  deepEqual(checkRegex("(?:a|b)(?<n>c)[(?=]"), {
    source: "(?:a|b)(?<n>c)[(?=]",
    ignoreCase: false,
  });
});

Deno.test("sigma regex: backreferences, lookarounds, atomic, possessive, inline flags refused", () => {
  for (
    const [re, why] of [
      ["(a)\\1", "backreference"],
      ["(?<x>a)\\k<x>", "backreference"],
      ["foo(?=bar)", "lookaround"],
      ["foo(?!bar)", "lookaround"],
      ["(?<=a)b", "lookaround"],
      ["(?<!a)b", "lookaround"],
      ["(?>a+)b", "atomic group"],
      ["a++", "possessive"],
      ["a(?m)b", "inline flags"],
      ["(?P<x>a)", "(?P...)"],
      ["a(", "Invalid regular expression"],
    ]
  ) {
    const r = checkRegex(re!);
    ok("problem" in r && r.problem.includes(why!), `${re}: ${JSON.stringify(r)}`);
  }
});

Deno.test("sigma regex: a sample string the regex matches, or undefined", () => {
  for (
    const re of [
      "\\s-[FTd]\\s",
      "(.){200,}",
      "-(W|R)\\s?(\\s|\"|')([0-9a-fA-F]{2}\\s?){2,20}(\\s|\"|')",
      "(?:\\s-[^-\\s]{0,20}i|\\s--inode\\s)",
      "^/usr/bin/[a-z]+$",
      "a\\x41\\u0042\\.\\d+",
    ]
  ) {
    const s = sampleRegex(re, false);
    ok(s !== undefined && new RegExp(re).test(s), `${re}: ${JSON.stringify(s)}`);
  }
  equal(sampleRegex("\\bword\\b", false), "word");
  equal(sampleRegex("[^\\s\\S]", false), undefined);
});
