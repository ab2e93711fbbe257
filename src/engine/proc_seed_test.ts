import { deepEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parseStat, readProcesses } from "./proc_seed.ts";
import { rule, rules, run } from "./engine_test_utils.ts";
import { AT_FDCWD, renameAt } from "../../ffi/libc_fs.ts";
import { pathToBytes } from "../sensor/path_codec.ts";

Deno.test("parseStat handles a comm with spaces and parentheses", () => {
  const line = "1234 (a (b) c) S 77 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 1000 10";
  assertEquals(parseStat(line), { ppid: 77, startTicks: 4242 });
  assertEquals(parseStat("garbage"), undefined);
});

Deno.test("readProcesses finds this process with its parent, args and start", () => {
  const procs = readProcesses();
  const me = procs.find((p) => p.pid === Deno.pid);
  assert(me, "own pid is listed");
  assertEquals(me.ppid, Deno.ppid);
  assert(me.executable.length > 0);
  assert(me.args.length > 0);
  assert(Math.abs(me.start - Date.now()) < 24 * 3600_000, "start is a wall-clock time");
  assertEquals(me.entity_id, `${me.pid}-${me.start}`);
});

Deno.test("seeded processes give later events their lineage", () => {
  // A rule firing on the child shows the lineage the seed gave it.
  const set = rules(
    rule("fork") + `
[[rule.steps]]
action = "fork"
where = [{ field = "process.pid", eq = 999999 }]
`,
  );
  const r = run(
    set,
    [{
      "@timestamp": Date.now(),
      event: { action: "fork" },
      process: { pid: 999_999, parent: { pid: Deno.pid } },
    }],
    {},
    readProcesses(),
  );
  assertEquals(r.verdicts.length, 1);
  const pids = r.verdicts[0]!.lineage.map((l) => l.pid);
  assertEquals(pids.slice(-3), [Deno.ppid, Deno.pid, 999_999]);
});

Deno.test("readProcesses gives an executable whose name is not UTF-8 in the text form", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bm_seed_" });
  const name = `${dir}/sl\\xff\\xfe`; // the bytes "sl" 0xff 0xfe (src/sensor/path_codec.ts)
  await Deno.copyFile(await Deno.realPath("/bin/sleep"), `${dir}/plain`);
  renameAt(AT_FDCWD, pathToBytes(`${dir}/plain`), AT_FDCWD, pathToBytes(name));
  // Deno cannot pass the name to exec; the shell's glob hands the kernel the bytes.
  const child = new Deno.Command("/bin/sh", { args: ["-c", 'exec "$1"/sl* 30', "sh", dir] })
    .spawn();
  try {
    let exe: string | undefined;
    for (let i = 0; i < 100 && exe !== name; i++) {
      exe = readProcesses().find((p) => p.pid === child.pid)?.executable;
      if (exe !== name) await new Promise((r) => setTimeout(r, 20));
    }
    assertEquals(exe, name);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
