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
    ev("fork", 102, 1), // its pid reused by another user's process
    ev("create", 102),
    ev("exec", 7, 3),
  ].map((e) => s.keep(e));
  assert.deepEqual(kept, [true, true, false, true, true, true, false, true, false, false, false]);
  assert.equal(s.dropped, 5);
  assert.equal(s.size, 2);
});

Deno.test("record scope: a file event read after its process's exit is kept", () => {
  // fanotify's rename of a short-lived mv, read after the proc connector's exit,
  // names only the pid: /proc was gone when the record was enriched
  const s = new RecordScope(10);
  assert.equal(s.keep(ev("fork", 11, 10)), true);
  assert.equal(s.keep(ev("exit", 11, 10)), true);
  assert.equal(s.keep(ev("create", 11)), true);
  assert.equal(s.size, 1);
  // a kept process forking again under the same pid is still inside
  assert.equal(s.keep(ev("fork", 11, 10)), true);
  assert.equal(s.size, 2);
});

Deno.test("record scope: exited pids are remembered up to a bound", () => {
  const s = new RecordScope(1);
  for (let pid = 2; pid < 2 + 5000; pid++) {
    s.keep(ev("fork", pid, 1));
    s.keep(ev("exit", pid, 1));
  }
  assert.equal(s.keep(ev("create", 2)), false, "the oldest exits are forgotten");
  assert.equal(s.keep(ev("create", 5001)), true, "the latest are kept");
  assert.equal(s.size, 1);
});

Deno.test("record scope: a file event before its fork event joins by its parent", () => {
  const s = new RecordScope(10);
  assert.equal(s.keep(ev("create", 11, 10)), true);
  assert.equal(s.keep(ev("fork", 11, 10)), true);
  assert.equal(s.keep(ev("create", 12, 99)), false);
});
