import assert from "node:assert/strict";
import { RecordScope } from "./_record_scope.ts";
import type { BmEvent } from "../sensor/event.ts";

function ev(action: BmEvent["event"]["action"], pid: number, parent?: number): BmEvent {
  return {
    "@timestamp": 1,
    event: { action },
    process: { pid, ...(parent !== undefined ? { parent: { pid: parent } } : {}) },
    ...(action === "create" ? { file: { path: "/x" } } : {}),
  } as BmEvent;
}

Deno.test("record scope: keeps the root and its descendants, drops everyone else", () => {
  const s = new RecordScope(100);
  const kept = [
    ev("exec", 100, 1),
    ev("fork", 101, 100),
    ev("fork", 500, 1), // another user's process
    ev("exec", 101, 100),
    ev("fork", 102, 101), // grandchild
    ev("create", 102),
    ev("create", 500),
    ev("exit", 102, 101),
    ev("create", 102), // pid gone from the subtree after its exit
    ev("exec", 7, 3),
  ].map((e) => s.keep(e));
  assert.deepEqual(kept, [true, true, false, true, true, true, false, true, false, false]);
  assert.equal(s.dropped, 4);
  assert.equal(s.size, 2);
});

Deno.test("record scope: a file event before its fork event joins by its parent", () => {
  const s = new RecordScope(10);
  assert.equal(s.keep(ev("create", 11, 10)), true);
  assert.equal(s.keep(ev("fork", 11, 10)), true);
  assert.equal(s.keep(ev("create", 12, 99)), false);
});
