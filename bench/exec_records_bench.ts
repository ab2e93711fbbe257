/**
 * One exec record per execve, and the event rate with "every filesystem"
 * marked (figures, not a test): run as root on Linux.
 *
 *   deno run -A bench/exec_records_bench.ts [--n 1000]
 *
 * The agent's sensor runs the production "every local filesystem" mode
 * (mountinfo scan, one mark per superblock, mount following) through the test
 * build of the library, confined to the tmpfs this script mounts: marking this
 * shared machine's real filesystems is not an option. On that tmpfs live a
 * dynamically linked binary whose loader (PT_INTERP) is a copy on the same
 * tmpfs and a `#!` script run by that binary, so each execve opens two or
 * three marked files, as a binary and its loader do on a marked `/`.
 *
 * Runs N execs of the binary and N of the script with no agent, then with the
 * agent in block mode answering every held exec from TS, and prints: the
 * exec records seen (held execs, their completions, and the execs the
 * engine's process table counts), the loader/interpreter opens answered in C,
 * the wall time of each loop and their ratio, and the records per second the
 * agent drained. The machine's load average is printed: on a shared 2-vCPU
 * box the figures move with it.
 */
import { NativeSensor } from "../src/sensor/native_sensor.ts";
import type { BmEvent } from "../src/sensor/event.ts";
import { ProcessTable } from "../src/engine/process_table.ts";
import { allowAll, pump } from "../tests/sensor/_harness.ts";

const argAfter = (name: string) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
};
const n = Number(argAfter("--n") ?? 1000);
const repo = new URL("../", import.meta.url).pathname;

function run(cmd: string, args: string[]): void {
  const r = new Deno.Command(cmd, { args, stderr: "piped" }).outputSync();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

function loader(): string {
  for (const p of ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"]) {
    try {
      return Deno.realPathSync(p);
    } catch { /* next */ }
  }
  throw new Error("No known dynamic loader");
}

async function loop(prog: string, script: string): Promise<number> {
  const t0 = performance.now();
  const o = await new Deno.Command("/bin/sh", {
    args: ["-c", `i=0; while [ $i -lt ${n} ]; do ${prog} && ${script} || exit 9; i=$((i+1)); done`],
    stderr: "piped",
  }).output();
  if (!o.success) throw new Error(`loop failed: ${new TextDecoder().decode(o.stderr)}`);
  return performance.now() - t0;
}

run("make", ["-s", "-C", `${repo}dylib`, "all", "test-lib"]);
const base = await Deno.makeTempDir({ prefix: "bm_exec_bench_" });
const dir = `${base}/fs`;
Deno.mkdirSync(dir);
run("mount", ["-t", "tmpfs", "-o", "size=32m,mode=0755", "bm_bench", dir]);
try {
  const ld = `${dir}/ld.so`;
  Deno.copyFileSync(loader(), ld);
  Deno.chmodSync(ld, 0o755);
  const prog = `${dir}/prog`;
  Deno.writeTextFileSync(`${dir}/prog.c`, "int main(void) { return 0; }\n");
  run("cc", ["-O2", "-o", prog, `${dir}/prog.c`, `-Wl,--dynamic-linker=${ld}`]);
  const script = `${dir}/run.sh`;
  Deno.writeTextFileSync(script, `#!${prog}\n`, { mode: 0o755 });

  const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  const bare = await loop(prog, script);

  const sensor = NativeSensor.open({
    marks: "filesystem",
    marksOnlyUnder: base,
    libraryPath: `${repo}dylib/build/test/libbm_sensor.so`,
    authDeadlineMs: 5000,
    deadlineMarginMs: 1000,
    envVars: ["LD_PRELOAD", "HISTFILE"],
  });
  const p = pump(sensor, allowAll);
  const events = p.events;
  const marked = sensor.filesystems().filter((f) => f.marked).map((f) => f.mountPoint);
  const t0 = performance.now();
  const withAgent = await loop(prog, script);
  await new Promise((r) => setTimeout(r, 500));
  const drainedMs = performance.now() - t0;
  await p.stop();
  const st = sensor.nativeStats();
  await sensor.close();

  const held = events.filter((e) =>
    e.event.action === "exec" && e.bm?.auth_id !== undefined &&
    ("file" in e ? e.file?.path?.startsWith(dir) : false)
  );
  const pids = new Set(held.map((e) => e.process.pid));
  const mine = (e: BmEvent) => e.event.action === "exec" && pids.has(e.process.pid);
  const completions = events.filter((e) => mine(e) && e.bm?.auth_id === undefined);
  const table = new ProcessTable(65536, 300_000);
  let records = 0;
  for (const e of events) {
    table.apply(e);
    if (mine(e) && !table.lastExecPair) records++;
  }
  const loaderImages = events.filter((e) => mine(e) && e.process.executable === ld).length;
  console.log(`load average at start: ${load}; marked: ${marked.join(", ")}`);
  console.log(
    `execve: ${
      2 * n
    } (${n} of a dynamic binary, ${n} of a #! script); held exec records ${held.length}, ` +
      `completions ${completions.length}, exec records in the process table ${records}, ` +
      `records with the loader as image ${loaderImages}; loader/interpreter opens answered in C ` +
      `${st.execFollowers}; watchdog answers ${st.authByWatchdog}`,
  );
  console.log(
    `loop wall time: ${bare.toFixed(0)} ms without agent, ${withAgent.toFixed(0)} ms with ` +
      `(ratio ${(withAgent / bare).toFixed(2)}); ${
        (2 * n / (withAgent / 1000)).toFixed(0)
      } execve/s with the agent`,
  );
  console.log(
    `records drained: ${st.events} in ${drainedMs.toFixed(0)} ms ` +
      `(${
        (st.events / (drainedMs / 1000)).toFixed(0)
      } records/s, machine-wide proc connector events included)`,
  );
} finally {
  run("umount", [dir]);
  await Deno.remove(base, { recursive: true });
}
