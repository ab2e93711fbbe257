import { equal } from "node:assert/strict";
import { Bursts, MAX_GROUPS } from "./bursts.ts";
import type { CompiledStep } from "./rule_set.ts";
import type { MatchCtx } from "./fields.ts";
import { ev } from "./engine_test_utils.ts";

Deno.test("bursts: at most MAX_GROUPS groups counted at once, the oldest dropped first", () => {
  const step = { count: 2 } as unknown as CompiledStep;
  const b = new Bursts(step, 60_000);
  const ctx = {} as MatchCtx;
  // One event from each of MAX_GROUPS + 10 groups within the span: none completes.
  for (let i = 0; i < MAX_GROUPS + 10; i++) {
    equal(b.add(`g${i}`, ev(i, "exec", { pid: 1000 + i }), i, ctx), undefined);
  }
  equal(b.evicted, 10);
  // The first ten groups were dropped: their second event starts over.
  equal(b.add("g0", ev(5000, "exec", { pid: 1000 }), 5000, ctx), undefined);
  // A group still counted completes on its second event.
  equal(b.add("g20", ev(5001, "exec", { pid: 1020 }), 5001, ctx)?.length, 2);
});
