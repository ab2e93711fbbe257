import assert from "node:assert/strict";
import type { BmEvent, EventAction } from "../sensor/event.ts";
import { HotSources } from "./hot_sources.ts";

function ev(action: EventAction, pid: number, executable?: string, ppid?: number): BmEvent {
  const process: BmEvent["process"] = { pid };
  if (executable !== undefined) process.executable = executable;
  if (ppid !== undefined) process.parent = { pid: ppid };
  return { "@timestamp": 1, event: { action }, process } as BmEvent;
}

Deno.test("hot sources: a fork and an exit without an executable count for the pid's image", () => {
  const h = new HotSources();
  h.add(ev("exec", 10, "/bin/bash"));
  h.add(ev("fork", 11, undefined, 10)); // bash's child: still bash
  h.add(ev("exec", 11, "/usr/bin/true")); // the Linux auth exec
  h.add(ev("exec", 11, "/usr/bin/true")); // its notify exec
  h.add(ev("exit", 11));
  h.add(ev("exit", 10));
  assert.equal(h.total, 6);
  assert.deepEqual(h.top(), [
    {
      executable: "/bin/bash",
      events: 3,
      actions: { exec: 1, fork: 1, exit: 1 },
      pids: [{ pid: 10, events: 2 }, { pid: 11, events: 1 }],
    },
    {
      executable: "/usr/bin/true",
      events: 3,
      actions: { exec: 2, exit: 1 },
      pids: [{ pid: 11, events: 3 }],
    },
  ]);
});

Deno.test("hot sources: a pid never seen with an executable counts under (pid N); an exit forgets the image", () => {
  const h = new HotSources();
  h.add(ev("fork", 21, undefined, 20)); // parent 20 never seen
  h.add(ev("exec", 30, "/bin/sh"));
  h.add(ev("exit", 30));
  h.add(ev("exit", 30)); // pid 30 again: its image is forgotten at the first exit
  assert.deepEqual(h.top().map((s) => [s.executable, s.events]), [
    ["/bin/sh", 2],
    ["(pid 21)", 1],
    ["(pid 30)", 1],
  ]);
});

Deno.test("hot sources: past maxKeys executables new ones count under (other)", () => {
  const h = new HotSources(2);
  h.add(ev("exec", 1, "/a"));
  h.add(ev("exec", 2, "/b"));
  h.add(ev("exec", 3, "/c"));
  h.add(ev("exit", 3)); // the image of pid 3 is (other)
  h.add(ev("exec", 4, "/d"));
  assert.deepEqual(h.top().map((s) => [s.executable, s.events]), [
    ["(other)", 3],
    ["/a", 1],
    ["/b", 1],
  ]);
});
