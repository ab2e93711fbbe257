import { equal } from "node:assert/strict";
import { Scoring } from "./scoring.ts";
import { ProcessTable } from "./process_table.ts";
import type { CompiledRule } from "./rule_set.ts";
import type { BmEvent } from "../sensor/event.ts";

function chain(): ProcessTable {
  const t = new ProcessTable(1000, 60_000);
  const e = (pid: number, ppid: number): BmEvent => ({
    "@timestamp": 0,
    event: { action: "fork" },
    process: { pid, parent: { pid: ppid } },
  });
  t.apply(e(10, 1));
  t.apply(e(11, 10));
  return t;
}

const rule = (score: number) => ({ id: `r${score}`, score }) as CompiledRule;

Deno.test("a firing scores its process and ancestors, never pid 1; the nearest crossing wins", () => {
  const t = chain();
  const s = new Scoring(0);
  const p11 = t.byPidLookup(11)!;
  const p10 = t.byPidLookup(10)!;
  const p1 = t.byPidLookup(1)!;
  equal(
    s.add({ rule: rule(60), time: 1, entityId: p11.entity_id, events: [] }, p11, 100),
    undefined,
  );
  equal(s.add({ rule: rule(50), time: 2, entityId: p10.entity_id, events: [] }, p10, 100), p10);
  equal(s.score(p11), 60);
  equal(s.score(p10), 110);
  equal(s.score(p1), 0);
  equal(s.explain(p10, 2).map((r) => r.after).join(), "60,110");
});

Deno.test("scores decay by the half-life; old records stop explaining", () => {
  const t = chain();
  const s = new Scoring(1000);
  const p11 = t.byPidLookup(11)!;
  s.add({ rule: rule(80), time: 0, entityId: p11.entity_id, events: [] }, p11, 100);
  equal(s.decayed(p11, 1000), 40);
  equal(s.decayed(p11, 2000), 20);
  equal(s.explain(p11, 8000).length, 1);
  equal(s.explain(p11, 8001).length, 0);
});
