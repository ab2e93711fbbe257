import { deepEqual, equal, ok } from "node:assert/strict";
import { exitedMax, ProcessTable } from "./process_table.ts";
import { ev } from "./engine_test_utils.ts";

Deno.test("fork inherits the parent's image; exec replaces it and keeps the entity", () => {
  const t = new ProcessTable(100, 60_000);
  t.apply(
    ev(1, "exec", {
      pid: 10,
      executable: "/bin/bash",
      args: ["bash"],
      working_directory: "/h",
      parent: { pid: 1 },
    }, { user: { id: 1000 } }),
  );
  const child = t.apply(ev(2, "fork", { pid: 11, parent: { pid: 10 } }));
  equal(child.entity_id, "11-2");
  equal(child.executable, "/bin/bash");
  equal(child.uid, 1000);
  equal(child.parent?.pid, 10);
  const after = t.apply(ev(3, "exec", { pid: 11, executable: "/usr/bin/ls", args: ["ls", "-l"] }));
  equal(after, child, "same entity after exec");
  equal(after.name, "ls");
  deepEqual(after.execs.map((e) => e.executable), ["/usr/bin/ls"]);
  deepEqual(t.lineage(after).map((p) => p.pid), [1, 10, 11]);
});

Deno.test("Linux auth exec clears args until the notify exec fills them; one history entry", () => {
  const t = new ProcessTable(100, 60_000);
  t.apply(ev(1, "exec", { pid: 10, executable: "/bin/sh", args: ["sh"], parent: { pid: 1 } }));
  const p = t.apply(
    ev(2, "exec", { pid: 10, executable: "/usr/bin/curl" }, {
      file: { path: "/usr/bin/curl" },
      bm: { auth_id: 1 },
    }),
  );
  equal(p.executable, "/usr/bin/curl");
  equal(p.args, undefined, "the old image's args are not the new image's");
  equal(t.lastExecPair, false);
  t.apply(
    ev(3, "exec", {
      pid: 10,
      executable: "/usr/bin/curl",
      args: ["curl", "x"],
      working_directory: "/w",
    }),
  );
  equal(t.lastExecPair, true);
  deepEqual(p.args, ["curl", "x"]);
  equal(p.execs.length, 2);
  deepEqual(p.execs[1], {
    time: 2,
    executable: "/usr/bin/curl",
    args: ["curl", "x"],
    working_directory: "/w",
  });
});

Deno.test("unknown parents get placeholders; events with only a pid find the process", () => {
  const t = new ProcessTable(100, 60_000);
  const p = t.apply(
    ev(5, "exec", {
      pid: 20,
      executable: "/x",
      args: ["x"],
      parent: { pid: 19, executable: "/bin/zsh", name: "zsh" },
    }),
  );
  equal(p.parent?.name, "zsh");
  const q = t.apply(ev(6, "open", { pid: 20 }, { file: { path: "/etc/passwd" } }));
  equal(q, p);
});

Deno.test("exit retention and size bound with eviction counter", () => {
  const t = new ProcessTable(10, 1000);
  for (let i = 0; i < 30; i++) t.apply(ev(i, "fork", { pid: 100 + i, parent: { pid: 1 } }));
  t.apply(ev(30, "exit", { pid: 100 }));
  t.sweep(31);
  ok(t.size <= 10);
  ok(t.stats().evictions >= 20);
  const u = new ProcessTable(100, 1000);
  u.apply(ev(0, "fork", { pid: 5, parent: { pid: 1 } }));
  u.apply(ev(10, "exit", { pid: 5 }));
  u.sweep(500);
  ok(u.byPidLookup(5)?.exited, "kept within retention");
  u.sweep(1011);
  equal(u.byPidLookup(5), undefined);
  equal(u.stats().expiredExited, 1);
});

Deno.test("exited processes are bounded by exitedMax: the oldest exits go first, live ones stay", () => {
  const t = new ProcessTable(16_384, 300_000);
  const keep = exitedMax(16_384);
  equal(keep, 2048);
  for (let i = 0; i < 50; i++) t.apply(ev(i, "fork", { pid: 10 + i, parent: { pid: 1 } }));
  // A flood: 10,000 short-lived processes, all within the retention time.
  for (let i = 0; i < 10_000; i++) {
    const pid = 1000 + i;
    t.apply(ev(100 + i, "fork", { pid, parent: { pid: 10 } }));
    t.apply(ev(100 + i, "exit", { pid }));
  }
  t.sweep(20_000);
  // 50 live, the parent 1, and the newest `keep` exited.
  equal(t.size, 51 + keep);
  equal(t.byPidLookup(1000), undefined, "the oldest exit went");
  ok(t.byPidLookup(1000 + 9_999)?.exited, "the newest exit stayed");
  ok(t.byPidLookup(1000 + 10_000 - keep)?.exited);
  equal(t.byPidLookup(1000 + 10_000 - keep - 1), undefined);
  for (let i = 0; i < 50; i++) ok(t.byPidLookup(10 + i) && !t.byPidLookup(10 + i)!.exited);
  equal(t.stats().evictions, 10_000 - keep);
  equal(exitedMax(100), 1024, "never fewer than 1,024");
});

Deno.test("a parent pid of 0 is no lineage entry (init's and launchd's parent)", () => {
  const t = new ProcessTable(100, 60_000);
  const init = t.apply(ev(1, "exec", { pid: 1, executable: "/sbin/init", parent: { pid: 0 } }));
  equal(init.parent, undefined);
  const sh = t.apply(ev(2, "exec", { pid: 9, executable: "/bin/sh", parent: { pid: 1 } }));
  deepEqual(t.lineage(sh).map((p) => p.pid), [1, 9]);
  equal(t.byPidLookup(0), undefined);
  t.seed([{ pid: 1, ppid: 0, start: 0, executable: "/sbin/init", args: [] }], 3);
  equal(t.byPidLookup(1)?.parent, undefined);
});

Deno.test("an exec whose image is unknown (enrichment miss) drops the image inherited at fork", () => {
  const t = new ProcessTable(100, 60_000);
  t.apply(
    ev(1, "exec", { pid: 10, executable: "/tmp/.x/tool", args: ["tool"], parent: { pid: 1 } }),
  );
  t.apply(ev(2, "fork", { pid: 11, parent: { pid: 10 } }));
  const after = t.apply(ev(3, "exec", { pid: 11, parent: { pid: 10 } }));
  equal(after.executable, "", "not the parent's /tmp/.x/tool");
  equal(after.name, "");
  equal(after.args, undefined);
  // A later event that names the image fills it in.
  const named = t.apply(ev(4, "open", { pid: 11, executable: "/usr/bin/cmp" }, {
    file: { path: "/x" },
  }));
  equal(named.executable, "/usr/bin/cmp");
});

Deno.test("a #! script's notify exec names its interpreter and pairs with the script's auth exec", () => {
  const t = new ProcessTable(100, 60_000);
  t.apply(ev(1, "exec", { pid: 10, executable: "/bin/bash", args: ["bash"], parent: { pid: 1 } }));
  t.apply(
    ev(2, "exec", { pid: 10, executable: "/tmp/x.sh" }, {
      file: { path: "/tmp/x.sh" },
      bm: { auth_id: 1 },
    }),
  );
  const p = t.apply(
    ev(3, "exec", {
      pid: 10,
      executable: "/usr/bin/dash",
      script: "/tmp/x.sh",
      args: ["/bin/sh", "/tmp/x.sh"],
      env_vars: ["LD_PRELOAD=/tmp/a.so"],
    }),
  );
  equal(t.lastExecPair, true);
  equal(p.executable, "/usr/bin/dash");
  equal(p.script, "/tmp/x.sh");
  deepEqual(p.env_vars, ["LD_PRELOAD=/tmp/a.so"]);
  deepEqual(
    p.execs.map((e) => [e.executable, e.script]),
    [["/bin/bash", undefined], ["/usr/bin/dash", "/tmp/x.sh"]],
  );
  // an unrelated image is a new exec
  t.apply(ev(4, "exec", { pid: 10, executable: "/tmp/y" }, { bm: { auth_id: 2 } }));
  t.apply(ev(5, "exec", { pid: 10, executable: "/usr/bin/dash", script: "/tmp/x.sh", args: [] }));
  equal(t.lastExecPair, false);
});

Deno.test("environment: unknown at a Linux auth exec, [] when an exec with args carries none", () => {
  const t = new ProcessTable(100, 60_000);
  const p = t.apply(ev(1, "exec", { pid: 10, executable: "/bin/x" }, { bm: { auth_id: 1 } }));
  equal(p.env_vars, undefined);
  t.apply(ev(2, "exec", { pid: 10, executable: "/bin/x", args: ["x"] }));
  deepEqual(p.env_vars, []);
  const child = t.apply(ev(3, "fork", { pid: 11, parent: { pid: 10 } }));
  deepEqual(child.env_vars, [], "inherited at fork");
});

Deno.test("a fork record without start time that a held exec overtook is that process", () => {
  const t = new ProcessTable(100, 60_000);
  t.apply(ev(1, "exec", { pid: 10, executable: "/bin/sh", args: ["sh"], parent: { pid: 1 } }));
  const held = t.apply(
    ev(2, "exec", { pid: 11, executable: "/t/prog", start: 2, parent: { pid: 10 } }, {
      bm: { auth_id: 1 },
    }),
  );
  const fork = t.apply(ev(3, "fork", { pid: 11, parent: { pid: 10 } }));
  equal(fork, held);
  t.apply(ev(4, "exec", { pid: 11 }));
  equal(t.lastExecPair, true);
  equal(held.execs.length, 1);
  // a fork of a pid with no held exec is a new process as before
  const other = t.apply(ev(5, "fork", { pid: 11, parent: { pid: 10 } }));
  ok(other !== held);
});

Deno.test("an exit that says the process wrote held events keeps it past the exited bound and retention, for the rule's span", () => {
  const t = new ProcessTable(16_384, 1000);
  t.pinnedRetentionMs = 600_000;
  t.apply(ev(0, "exec", { pid: 7, start: 0, executable: "/usr/bin/wget", parent: { pid: 1 } }));
  t.apply(ev(5, "exit", { pid: 7, start: 0 }, { bm: { held_writes: true } }));
  t.apply(ev(0, "exec", { pid: 8, start: 0, executable: "/usr/bin/curl", parent: { pid: 1 } }));
  t.apply(ev(5, "exit", { pid: 8, start: 0 }));
  // an exec flood pushes the ordinary exits out
  for (let i = 0; i < 5_000; i++) {
    t.apply(ev(10 + i, "fork", { pid: 1000 + i, parent: { pid: 1 } }));
    t.apply(ev(10 + i, "exit", { pid: 1000 + i }));
  }
  t.sweep(120_000);
  equal(t.get("8-0"), undefined, "an ordinary exit went");
  const w = t.get("7-0");
  ok(w?.exited && w.name === "wget", "the writer of held events stayed");
  // its held write, sent late, finds it by entity id (old time: lastSeen does not go back)
  const p = t.apply(
    ev(3, "close_modified", { pid: 7, start: 0 }, { file: { path: "/tmp/x" }, bm: { late: true } }),
  );
  equal(p, w);
  equal(p.lastSeen, 5);
  t.sweep(600_006);
  equal(t.get("7-0"), undefined, "gone after the span");
});

Deno.test("a late (held) event is judged as the image that wrote it when its process executed another since", () => {
  const t = new ProcessTable(100, 60_000);
  t.apply(
    ev(0, "exec", {
      pid: 9,
      start: 0,
      executable: "/bin/bash",
      args: ["bash"],
      parent: { pid: 1 },
    }),
  );
  // bash wrote a held file at 5, then became python3 at 10 (the sensor flags that exec)
  const p = t.apply(
    ev(10, "exec", { pid: 9, start: 0, executable: "/usr/bin/python3", args: ["python3"] }, {
      bm: { held_writes: true },
    }),
  );
  equal(p.name, "python3");
  const late = (at: number) =>
    t.apply(
      ev(at, "close_modified", { pid: 9, start: 0 }, {
        file: { path: "/tmp/x" },
        bm: { late: true },
      }),
    );
  const w = late(5);
  equal(w.name, "bash");
  deepEqual(w.args, ["bash"]);
  equal(w.entity_id, p.entity_id);
  equal(late(12), p, "written after the exec: the current image");
  // a flagged exec without a held write before it changes nothing else
  equal(t.get(p.entity_id)?.name, "python3");
});
