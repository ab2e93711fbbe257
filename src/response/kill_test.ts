import assert from "node:assert/strict";
import * as fs from "node:fs";
import { killProcess, KillRefused } from "./kill.ts";
import { LinuxProcessInspector, parseStat } from "./process_inspector.ts";

const linux = Deno.build.os === "linux";

/** "alive" unless the pid is gone or a zombie, read straight from /proc. */
function alive(pid: number): boolean {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, "utf8")).state !== "Z";
  } catch {
    return false;
  }
}

function spawn(script: string): Deno.ChildProcess {
  // A fixed literal script: tests only. Production code never runs a shell.
  return new Deno.Command("sh", { args: ["-c", script], stdout: "null", stderr: "null" }).spawn();
}

/** Test cleanup: SIGKILL a spawned shell and everything under it, so no sleeper outlives the test. */
async function reap(p: Deno.ChildProcess): Promise<void> {
  const ins = new LinuxProcessInspector();
  const all: number[] = [];
  const walk = (q: number) => {
    for (const c of ins.children(q)) {
      all.push(c);
      walk(c);
    }
  };
  walk(p.pid);
  for (const q of [p.pid, ...all]) {
    try {
      Deno.kill(q, "SIGKILL");
    } catch { /* already gone */ }
  }
  await p.status;
}

async function descendants(ins: LinuxProcessInspector, root: number, want: number) {
  for (let i = 0; i < 200; i++) {
    const all: number[] = [];
    const walk = (p: number) => {
      for (const c of ins.children(p)) {
        all.push(c);
        walk(c);
      }
    };
    walk(root);
    if (all.length >= want) return all;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("Process tree did not appear");
}

Deno.test({
  name: "parseStat copes with spaces and parentheses in the command name",
  fn() {
    const s = parseStat(
      "77 (a) b (c) S 12 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 4321 100 200 0",
    );
    assert.deepEqual(s, { ppid: 12, state: "S", startTicks: 4321 });
  },
});

Deno.test({
  name: "start time from /proc matches when a child was spawned",
  ignore: !linux,
  async fn() {
    const ins = new LinuxProcessInspector();
    const before = Date.now();
    const p = spawn("sleep 300; :");
    const after = Date.now();
    try {
      const info = ins.info(p.pid)!;
      assert.equal(info.ppid, Deno.pid);
      // 10 ms ticks and a 10 ms /proc/uptime: allow a few ticks either side.
      assert.ok(
        info.start >= before - 50 && info.start <= after + 50,
        `${before} ${info.start} ${after}`,
      );
      assert.equal(ins.info(2 ** 22 + 12345), undefined);
    } finally {
      await reap(p);
    }
  },
});

Deno.test({
  name: "kill a real tree: every descendant dies, children first, unrelated sleeper untouched",
  ignore: !linux,
  sanitizeResources: false,
  async fn() {
    const ins = new LinuxProcessInspector();
    const unrelated = spawn("sleep 300; :");
    const tree = spawn("sh -c 'sleep 300; :' & sleep 300 & wait");
    try {
      const kids = await descendants(ins, tree.pid, 3); // sh -> {sh -> sleep, sleep}
      const start = ins.info(tree.pid)!.start;
      const parent = new Map(kids.map((k) => [k, ins.info(k)!.ppid]));
      const sent: Array<[number, string]> = [];
      const r = killProcess({ pid: tree.pid, start, tree: true }, {
        inspector: ins,
        signal: (p, s) => {
          sent.push([p, s]);
          Deno.kill(p, s);
        },
      });
      assert.equal(r.gone, false);
      assert.deepEqual(new Set(r.killed), new Set([tree.pid, ...kids]));
      assert.equal(r.killed.at(-1), tree.pid, "target last");
      const kills = sent.filter(([, s]) => s === "SIGKILL").map(([p]) => p);
      assert.deepEqual(sent.slice(0, 4).map(([, s]) => s), Array(4).fill("SIGSTOP"));
      // Children first: every process gets SIGKILL before its parent does.
      for (const [k, pp] of parent) assert.ok(kills.indexOf(k) < kills.indexOf(pp), `${k}`);
      assert.ok([...parent.values()].some((pp) => pp !== tree.pid), "tree has a grandchild");
      const status = await tree.status;
      assert.equal(status.signal, "SIGKILL");
      for (let i = 0; i < 100 && kids.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
      for (const k of kids) assert.equal(alive(k), false, `pid ${k} survived`);
      assert.equal(alive(unrelated.pid), true, "unrelated sleeper was touched");
    } finally {
      try {
        tree.kill("SIGKILL");
      } catch { /* already dead */ }
      await reap(unrelated);
      await tree.status;
    }
  },
});

Deno.test({
  name: "a kill whose start time does not match the live pid is refused and the process survives",
  ignore: !linux,
  async fn() {
    const ins = new LinuxProcessInspector();
    const p = spawn("sleep 300; :");
    try {
      await new Promise((r) => setTimeout(r, 50));
      const start = ins.info(p.pid)!.start;
      assert.throws(
        () => killProcess({ pid: p.pid, start: start - 5000, tree: true }, { inspector: ins }),
        (e: Error) => e instanceof KillRefused && /pid reused/.test(e.message),
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(alive(p.pid), true);
      assert.equal(parseStat(fs.readFileSync(`/proc/${p.pid}/stat`, "utf8")).state, "S");
      assert.throws(() => killProcess({ pid: 1, start: 0, tree: false }, { inspector: ins }));
      assert.throws(
        () =>
          killProcess({ pid: Deno.pid, start: ins.info(Deno.pid)!.start, tree: false }, {
            inspector: ins,
          }),
        KillRefused,
      );
    } finally {
      await reap(p);
    }
  },
});

Deno.test({
  name: "killing an exited process reports it gone",
  ignore: !linux,
  async fn() {
    const ins = new LinuxProcessInspector();
    const p = spawn("exit 0");
    await p.status;
    const r = killProcess({ pid: p.pid, start: Date.now(), tree: false }, { inspector: ins });
    assert.deepEqual(r, { killed: [], gone: true });
  },
});

Deno.test({
  name: "an ancestor of bm is never killed, alone or as a tree",
  ignore: !linux,
  fn() {
    const ins = new LinuxProcessInspector();
    const sent: string[] = [];
    // Record instead of sending: were the refusal missing, the test runner's parent would die.
    const signal = (p: number, s: Deno.Signal) => void sent.push(`${s} ${p}`);
    const parent = ins.info(Deno.pid)!.ppid;
    assert.ok(parent > 1, "test runner has a parent");
    for (const tree of [false, true]) {
      assert.throws(
        () =>
          killProcess({ pid: parent, start: ins.info(parent)!.start, tree }, {
            inspector: ins,
            signal,
          }),
        (e: Error) => e instanceof KillRefused && /ancestor of bm/.test(e.message),
      );
    }
    assert.deepEqual(sent, []);
  },
});
