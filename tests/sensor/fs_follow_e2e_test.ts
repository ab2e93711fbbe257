/**
 * Issue 12 through the real Linux sensor, root only, and never a mark on a
 * real filesystem of this machine:
 *  - "every local filesystem" mode (marks=filesystem, no mount=) runs the
 *    production code path (mountinfo scan, POLLPRI following, one mark per
 *    superblock) through the test build of the library, whose
 *    marks_only_under confines it to tmpfs mounts under the test's own
 *    directory; the production library rejects that key;
 *  - one exec record per execve: a binary whose loader (PT_INTERP) and a
 *    script whose `#!` interpreter live on the test tmpfs, so their opens
 *    raise permission events like the system loader does on a marked `/`;
 *  - the environment at exec (process.env_vars, env_misses).
 */
import assert from "node:assert/strict";
import { NativeSensor, type NativeSensorOptions } from "../../src/sensor/native_sensor.ts";
import type { BmEvent } from "../../src/sensor/event.ts";
import { ProcessTable } from "../../src/engine/process_table.ts";
import {
  allowAll,
  buildLibrary,
  buildTestLibrary,
  fileOf,
  finish,
  mountTmpfs,
  pump,
  ROOT,
  sh,
  umount,
  withTimeout,
  withTmpfs,
} from "./_harness.ts";

const ignore = !ROOT || Deno.build.os !== "linux";

async function until(what: string, ms: number, ok: () => boolean): Promise<number> {
  const t0 = performance.now();
  while (!ok()) {
    if (performance.now() - t0 > ms) throw new Error(`Not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - t0;
}

Deno.test({
  name:
    "every-filesystem mode: a tmpfs mounted later is marked, its exec and file events seen; umount drops it",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      60_000,
      "mount following",
      (async () => {
        const lib = buildTestLibrary();
        const dir = await Deno.makeTempDir({ prefix: "bm_follow_" });
        const a = `${dir}/a`, b = `${dir}/b`;
        const mounted: string[] = [];
        let sensor: NativeSensor | undefined;
        let p: ReturnType<typeof pump> | undefined;
        try {
          // b exists before the sensor starts, a comes after
          mountTmpfs(b);
          mounted.push(b);
          sensor = NativeSensor.open({
            marks: "filesystem",
            marksOnlyUnder: dir,
            libraryPath: lib,
            authDeadlineMs: 3000,
            deadlineMarginMs: 1000,
          });
          p = pump(sensor, allowAll);
          const s = sensor;
          const marked = (m: string) => s.filesystems().some((f) => f.marked && f.mountPoint === m);
          assert.ok(marked(b), JSON.stringify(s.filesystems()));
          assert.ok(s.filesystems().every((f) => f.mountPoint.startsWith(dir)));

          mountTmpfs(a);
          mounted.push(a);
          const ms = await until(`${a} marked`, 10_000, () => marked(a));
          console.log(`tmpfs mounted after start: marked after ${ms.toFixed(0)} ms`);
          assert.deepEqual(
            s.filesystems().find((f) => f.mountPoint === a),
            { marked: true, mountPoint: a, type: "tmpfs" },
          );

          // a script written there and run: its create, close_modified and held exec
          const script = `${a}/dropped.sh`;
          const r = await finish(
            sh(`printf '#!/bin/sh\\nexit 0\\n' > ${script}; chmod +x ${script}; ${script}`),
          );
          assert.equal(r.code, 0, r.err);
          await until("the script's events", 5000, () =>
            p!.events.some((e) =>
              e.bm?.auth_id !== undefined && fileOf(e)?.path === script
            ));
          const kinds = new Set(
            p.events.filter((e) => fileOf(e)?.path === script).map((e) => e.event.action),
          );
          assert.ok(
            kinds.has("create") && kinds.has("close_modified") && kinds.has("exec"),
            [...kinds].join(),
          );

          // gone: dropped from the list, the sensor keeps working on what is left
          umount(a);
          mounted.splice(mounted.indexOf(a), 1);
          await until(
            `${a} dropped`,
            10_000,
            () => !s.filesystems().some((f) => f.mountPoint === a),
          );
          const after = `${b}/still.sh`;
          const r2 = await finish(
            sh(`printf '#!/bin/sh\\nexit 0\\n' > ${after}; chmod +x ${after}; ${after}`),
          );
          assert.equal(r2.code, 0, r2.err);
          await until(
            "exec on the remaining mount",
            5000,
            () => p!.events.some((e) => e.bm?.auth_id !== undefined && fileOf(e)?.path === after),
          );
          const st = s.nativeStats();
          assert.equal(st.authByWatchdog, 0);
          assert.equal(st.queueErrors, 0);
        } finally {
          await sensor?.close();
          await p?.stop();
          for (const m of mounted.reverse()) {
            umount(m);
          }
          await Deno.remove(dir, { recursive: true });
        }
      })(),
    ),
});

// That the production library rejects marks_only_under is checked in C (test_common, built
// without BM_TEST_HOOKS): loading both builds into one Deno process here would not test it,
// since both are opened as /proc/self/fd/N and the loader may hand back the first one.

/** The dynamic loader of this system, as /bin/sh's PT_INTERP names it. */
function systemLoader(): string {
  for (const p of ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"]) {
    try {
      Deno.statSync(p);
      return Deno.realPathSync(p);
    } catch { /* next */ }
  }
  throw new Error("No known dynamic loader on this system");
}

Deno.test({
  name:
    "one exec record per execve: 1,000 execs of a dynamic binary and 1,000 of a #! script give 2,000",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      120_000,
      "exec records",
      withTmpfs(async (dir) => {
        buildLibrary();
        // loader and interpreter on the marked tmpfs, as the system's are on a marked /
        const ld = `${dir}/ld.so`;
        await Deno.copyFile(systemLoader(), ld);
        await Deno.chmod(ld, 0o755);
        const prog = `${dir}/prog`;
        await Deno.writeTextFile(`${dir}/prog.c`, "int main(void) { return 0; }\n");
        const cc = await new Deno.Command("cc", {
          args: ["-o", prog, `${dir}/prog.c`, `-Wl,--dynamic-linker=${ld}`],
          stderr: "piped",
        }).output();
        assert.ok(cc.success, new TextDecoder().decode(cc.stderr));
        const script = `${dir}/run.sh`;
        await Deno.writeTextFile(script, `#!${prog}\n`, { mode: 0o755 });

        const sensor = NativeSensor.open({
          marks: "mounts",
          mounts: [dir],
          authDeadlineMs: 3000,
          deadlineMarginMs: 1000,
        });
        const p = pump(sensor, allowAll);
        const n = 1000;
        try {
          const r = await finish(
            sh(`i=0; while [ $i -lt ${n} ]; do ${prog} && ${script} || exit 9; i=$((i+1)); done`),
          );
          assert.equal(r.code, 0, r.err);
          // every execve of ours is held once (the file run); its pid names its other records
          const isAuth = (e: BmEvent) => e.bm?.auth_id !== undefined;
          const auth = p.events.filter((e) =>
            e.event.action === "exec" && isAuth(e) && fileOf(e)?.path?.startsWith(dir)
          );
          const pids = new Set(auth.map((e) => e.process.pid));
          const mine = (e: BmEvent) => e.event.action === "exec" && pids.has(e.process.pid);
          await until("every notify exec", 30_000, () =>
            p.events.filter((e) =>
              mine(e) && !isAuth(e)
            ).length >= 2 * n);
          await new Promise((res) => setTimeout(res, 200));
          const execs = p.events.filter(mine);
          const notify = execs.filter((e) => !isAuth(e));
          assert.equal(pids.size, 2 * n, "one process per execve");
          assert.equal(auth.filter((e) => fileOf(e)?.path === prog).length, n);
          assert.equal(auth.filter((e) => fileOf(e)?.path === script).length, n);
          assert.equal(auth.length, 2 * n);
          assert.equal(notify.length, 2 * n);
          assert.equal(
            execs.filter((e) => e.process.executable === ld || fileOf(e)?.path === ld).length,
            0,
          );
          // a script's record: the interpreter as executable, the script as process.script and in
          // args (unless its /proc facts lost the race with its exit: an enrichment miss)
          const scripted = notify.filter((e) => e.process.script === script);
          assert.equal(scripted.length, n);
          // (an exit can also land between the reads of exe and cmdline: no argv then)
          const odd = scripted.filter((e) =>
            e.process.executable !== undefined &&
            (e.process.executable !== prog ||
              (e.process.args !== undefined && e.process.args.length > 0 &&
                !e.process.args.includes(script)))
          );
          assert.deepEqual(odd.map((e) => [e.process.executable, e.process.args]), []);
          // the loader of prog (one per exec), a script's interpreter and its loader (two)
          assert.equal(sensor.nativeStats().execFollowers, 3 * n);
          // the engine's view: each held exec and its completion are one exec of the process
          const table = new ProcessTable(65536, 300_000);
          let records = 0;
          for (const e of p.events) {
            table.apply(e);
            if (mine(e) && !table.lastExecPair) records++;
          }
          assert.equal(records, 2 * n);
          console.log(
            `exec records: ${records} for ${2 * n} execve (followers answered in C: ${3 * n})`,
          );
        } finally {
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});

Deno.test({
  name: "environment at exec: configured variables in process.env_vars, bounded, misses counted",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      30_000,
      "env",
      withTmpfs(async (dir) => {
        buildLibrary();
        const o: NativeSensorOptions = {
          marks: "mounts",
          mounts: [dir],
          envVars: ["LD_PRELOAD", "HISTFILE", "BM_LONG"],
          authDeadlineMs: 3000,
          deadlineMarginMs: 1000,
        };
        const sensor = NativeSensor.open(o);
        const p = pump(sensor, allowAll);
        const target = `${dir}/t.sh`;
        await Deno.writeTextFile(target, "#!/bin/sh\nsleep 0.2\n", { mode: 0o755 });
        try {
          const long = "x".repeat(5000);
          // run by a shell: Deno's spawn of a held exec would wait for the answer on this thread
          const r = await finish(
            new Deno.Command("/bin/sh", {
              args: ["-c", `${target}`],
              env: {
                LD_PRELOAD: "/tmp/.x/evil.so",
                HISTFILE: "/dev/null",
                BM_LONG: long,
                OTHER: "1",
              },
              clearEnv: true,
              stdout: "piped",
              stderr: "piped",
            }).spawn(),
          );
          assert.equal(r.code, 0, r.err);
          await until("the notify exec", 5000, () =>
            p.events.some((e) =>
              e.bm?.auth_id === undefined && e.process.script === target
            ));
          const e = p.events.find((e) =>
            e.bm?.auth_id === undefined && e.process.script === target
          )!;
          assert.deepEqual([...e.process.env_vars ?? []].sort(), [
            `BM_LONG=${"x".repeat(1024)}`,
            "HISTFILE=/dev/null",
            "LD_PRELOAD=/tmp/.x/evil.so",
          ]);
          // more than 64 KiB of environment: what fits is read, the rest is a counted miss
          // (the counter is machine-wide: other processes' fast exits add to it too)
          const missesBefore = sensor.stats().envMisses;
          const pads = Array.from({ length: 20 }, (_, i) => `PAD${i}=${"p".repeat(4000)}`);
          const r2 = await finish(
            new Deno.Command("env", {
              args: ["-i", "HISTFILE=/dev/null", ...pads, "LD_PRELOAD=/dev/shm/late.so", target],
              stdout: "piped",
              stderr: "piped",
            }).spawn(),
          );
          assert.equal(r2.code, 0, r2.err);
          const padded = (e: BmEvent) =>
            e.bm?.auth_id === undefined && e.process.script === target &&
            e.process.env_vars?.includes("HISTFILE=/dev/null") === true &&
            !e.process.env_vars.some((v) => v.startsWith("BM_LONG="));
          await until("the padded exec", 5000, () => p.events.some(padded));
          assert.deepEqual(p.events.find(padded)!.process.env_vars, ["HISTFILE=/dev/null"]);
          assert.ok(sensor.stats().envMisses > missesBefore);
        } finally {
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});
