import { deepEqual, throws } from "node:assert/strict";
import { ConditionError, parseCondition } from "./condition.ts";

const names = ["sel_a", "sel_b", "filter", "_private"];

Deno.test("sigma condition: precedence not > and > or, parentheses", () => {
  deepEqual(parseCondition("sel_a or sel_b and not filter", names), {
    t: "or",
    xs: [
      { t: "sel", name: "sel_a" },
      {
        t: "and",
        xs: [{ t: "sel", name: "sel_b" }, { t: "not", x: { t: "sel", name: "filter" } }],
      },
    ],
  });
  deepEqual(parseCondition("(sel_a or sel_b) and filter", names), {
    t: "and",
    xs: [
      { t: "or", xs: [{ t: "sel", name: "sel_a" }, { t: "sel", name: "sel_b" }] },
      { t: "sel", name: "filter" },
    ],
  });
});

Deno.test("sigma condition: 1 of / all of a pattern or them (them leaves out _names)", () => {
  deepEqual(parseCondition("all of sel_*", names), {
    t: "and",
    xs: [{ t: "sel", name: "sel_a" }, { t: "sel", name: "sel_b" }],
  });
  deepEqual(parseCondition("1 of them", names), {
    t: "or",
    xs: [{ t: "sel", name: "sel_a" }, { t: "sel", name: "sel_b" }, { t: "sel", name: "filter" }],
  });
  deepEqual(parseCondition("1 of filt*", names), { t: "sel", name: "filter" });
});

Deno.test("sigma condition: what is refused, with the reason", () => {
  for (
    const [c, re] of [
      ["sel_a | count() > 5", /aggregation/],
      ["sel_a near sel_b", /"near" unsupported/],
      ["2 of sel_*", /"2 of" unsupported/],
      ["sel_a and nothing", /unknown selection "nothing"/],
      ["1 of x*", /names no selection/],
      ["(sel_a", /missing "\)"/],
      ["sel_a sel_b", /unexpected "sel_b"/],
      ["sel_a and", /ends too early/],
    ] as const
  ) {
    throws(
      () => parseCondition(c, names),
      (e: unknown) => e instanceof ConditionError && re.test(e.message),
      c,
    );
  }
});
