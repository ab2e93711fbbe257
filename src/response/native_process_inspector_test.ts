/**
 * NativeProcessInspector (TS -> FFI -> bm_proc_info/bm_proc_children) against
 * LinuxProcessInspector on a real spawned tree. On Linux the native library
 * reads /proc too, so this proves the FFI path and the C semantics; the macOS
 * C side (libproc) is only syntax-checked here (tests/macos/syntax_check_test.ts).
 */
import assert from "node:assert/strict";
import { killProcess } from "./kill.ts";
import { NativeProcessInspector } from "./native_process_inspector.ts";
import { LinuxProcessInspector, systemProcessInspector } from "./process_inspector.ts";

const linux = Deno.build.os === "linux";

/** sh -> (sh -> sleep, sleep): a parent, two children, one grandchild. */
function spawnTree(): Deno.ChildProcess {
  // A fixed literal script: tests only. The trailing ":" keeps each shell from exec'ing its last command.
  return new Deno.Command("sh", {
    args: ["-c", "sh -c 'sleep 30; :' & sleep 30; :"],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

function descendants(ins: LinuxProcessInspector, pid: number): number[] {
  const out: number[] = [];
  for (const c of ins.children(pid)) out.push(c, ...descendants(ins, c));
  return out;
}

async function treeOf(root: number, ins: LinuxProcessInspector): Promise<number[]> {
  for (let i = 0; i < 500; i++) {
    const all = descendants(ins, root);
    if (all.length >= 3) return all;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`Spawned tree under ${root} never grew to 3 processes`);
}

Deno.test({
  name: "NativeProcessInspector agrees with LinuxProcessInspector on a real process tree",
  ignore: !linux,
  async fn() {
    const lin = new LinuxProcessInspector();
    const nat = new NativeProcessInspector();
    const p = spawnTree();
    try {
      const tree = await treeOf(p.pid, lin);
      for (const pid of [Deno.pid, p.pid, ...tree]) {
        const a = lin.info(pid);
        const b = nat.info(pid);
        assert.ok(a && b, `pid ${pid}: linux ${JSON.stringify(a)}, native ${JSON.stringify(b)}`);
        assert.equal(b.pid, pid);
        assert.equal(b.ppid, a.ppid, `ppid of ${pid}`);
        assert.match(b.state, /^[A-Z]$/);
        assert.ok(Math.abs(b.start - a.start) < 1000, `start of ${pid}: ${a.start} vs ${b.start}`);
        assert.deepEqual(
          nat.children(pid).sort((x, y) => x - y),
          lin.children(pid).sort((x, y) => x - y),
          `children of ${pid}`,
        );
      }
      assert.equal(nat.info(p.pid)?.ppid, Deno.pid);
      assert.ok(nat.children(Deno.pid).includes(p.pid));
      assert.equal(nat.children(p.pid).length, 2);
      const startMs = nat.info(p.pid)?.start ?? 0;
      assert.ok(Math.abs(startMs - Date.now()) < 60_000, `start ${startMs} is not recent`);

      // the kill action runs on it: the whole tree goes, the agent stays
      const r = killProcess({ pid: p.pid, start: startMs, tree: true }, { inspector: nat });
      assert.deepEqual([...r.killed].sort(), [p.pid, ...tree].sort());
      await p.status;
      assert.equal(nat.info(p.pid), undefined, "a reaped pid is gone");
      assert.deepEqual(nat.children(p.pid), []);
    } finally {
      try {
        Deno.kill(p.pid, "SIGKILL");
      } catch { /* already gone */ }
      for (const q of descendants(lin, p.pid)) {
        try {
          Deno.kill(q, "SIGKILL");
        } catch { /* already gone */ }
      }
      await p.status;
    }
  },
});

Deno.test({
  name: "systemProcessInspector: /proc on Linux, the native library on macOS, refusal elsewhere",
  ignore: !linux,
  fn() {
    assert.ok(systemProcessInspector("linux") instanceof LinuxProcessInspector);
    // on Linux the native library is the Linux build: same class, same ABI as on macOS
    assert.ok(systemProcessInspector("darwin") instanceof NativeProcessInspector);
    assert.throws(() => systemProcessInspector("freebsd"), /Cannot inspect processes on "freebsd"/);
  },
});
