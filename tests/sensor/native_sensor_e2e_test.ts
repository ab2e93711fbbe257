/**
 * End to end through the real Linux sensor (fanotify + proc connector) and the
 * TS binding. Root only; marks only on a tmpfs each test mounts.
 */
import assert from "node:assert/strict";
import { NativeSensor, type NativeSensorOptions } from "../../src/sensor/native_sensor.ts";
import { AT_FDCWD, renameAt } from "../../ffi/libc_fs.ts";
import { pathToBytes } from "../../src/sensor/path_codec.ts";
import {
  buildLibrary,
  copyBinary,
  fileOf,
  finish,
  pump,
  ROOT,
  sh,
  withTimeout,
  withTmpfs,
} from "./_harness.ts";

const ignore = !ROOT || Deno.build.os !== "linux";

function open(dir: string, o: NativeSensorOptions = {}): NativeSensor {
  buildLibrary();
  return NativeSensor.open({
    marks: "mounts",
    mounts: [dir],
    authDeadlineMs: 3000,
    deadlineMarginMs: 1000,
    ...o,
  });
}

// The child reports errno of its own execve: python3 is on the unmarked root
// filesystem, so only the target exec is held.
const EXEC_ERRNO = `import os, sys
try:
    os.execv(sys.argv[1], [sys.argv[1]])
except OSError as e:
    print(e.errno); sys.exit(3)`;

function execErrno(target: string): Deno.ChildProcess {
  return new Deno.Command("python3", {
    args: ["-c", EXEC_ERRNO, target],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test({
  name: "native sensor: TS deny gives the child EPERM, TS allow lets it run",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      30_000,
      "deny/allow",
      withTmpfs(async (dir) => {
        const target = await copyBinary("true", dir);
        let verdict = false;
        const sensor = open(dir);
        const p = pump(sensor, (e) => fileOf(e)?.path === target ? { allow: verdict } : null);
        try {
          const denied = await finish(
            execErrno(target),
          );
          assert.equal(denied.code, 3);
          assert.equal(denied.out.trim(), "1"); // EPERM
          verdict = true;
          const allowed = await finish(sh(target));
          assert.equal(allowed.code, 0, allowed.err);
          const auth = p.events.filter((e) =>
            e.bm?.auth_id !== undefined && fileOf(e)?.path === target
          );
          assert.equal(auth.length, 2);
          assert.equal(auth[0]!.event.action, "exec");
          assert.equal(auth[0]!.process.executable, target);
          assert.equal(fileOf(auth[0]!)?.uid, 0);
          const st = sensor.stats();
          assert.equal(st.authByAgent, 2);
          assert.equal(st.authByWatchdog, 0);
        } finally {
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});

Deno.test({
  name: "native sensor: a silent agent never holds an exec past the deadline (watchdog)",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      30_000,
      "watchdog",
      withTmpfs(async (dir) => {
        const target = await copyBinary("true", dir);
        const deadline = 600, margin = 200;
        const sensor = open(dir, { authDeadlineMs: deadline, deadlineMarginMs: margin });
        const p = pump(sensor, () => null); // never answers
        try {
          const r = await finish(sh(`for i in 1 2 3 4; do ${target} || exit 9; done`));
          assert.equal(r.code, 0, r.err); // fail-open default allowed every exec
          await new Promise((res) => setTimeout(res, 100));
          const auth = p.events.filter((e) =>
            e.bm?.auth_id !== undefined && fileOf(e)?.path === target
          );
          assert.equal(auth.length, 4);
          // each exec went on within the deadline: its notify exec follows its auth event
          for (const a of auth) {
            const held = a.bm!.deadline! - a["@timestamp"];
            assert.ok(
              held >= deadline && held < deadline + 100,
              `deadline ${held} ms after the event`,
            );
            const after = p.events.find((e) =>
              e.event.action === "exec" && e.bm?.auth_id === undefined &&
              e.process.pid === a.process.pid
            );
            assert.ok(after, `no exec notify for pid ${a.process.pid}`);
            assert.ok(
              after["@timestamp"] < a.bm!.deadline!,
              `exec of pid ${a.process.pid} held past its deadline`,
            );
          }
          // a late answer is ignored and counted
          sensor.respond({ authId: auth[0]!.bm!.auth_id!, allow: false, cache: false });
          const st = sensor.stats();
          assert.equal(st.authByWatchdog, 4);
          assert.equal(st.authByAgent, 0);
          assert.equal(st.lateAnswers, 1);
        } finally {
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});

Deno.test({
  name: "native sensor: fail-closed watchdog denies, push-down tables answer in C",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      30_000,
      "fail closed + tables",
      withTmpfs(async (dir) => {
        const target = await copyBinary("true", dir);
        const sensor = open(dir, { authDeadlineMs: 400, deadlineMarginMs: 100, failOpen: false });
        const p = pump(sensor, () => null);
        try {
          const r = await finish(
            execErrno(target),
          );
          assert.equal(r.out.trim(), "1");
          assert.equal(sensor.stats().authByWatchdog, 1);
          // deny by executable: answered in C at once
          sensor.denyExecutable(target);
          const t = await finish(
            execErrno(target),
          );
          assert.equal(t.out.trim(), "1");
          const st = sensor.stats();
          assert.equal(st.fastPathAnswers, 1);
          assert.equal(st.authByWatchdog, 1);
        } finally {
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});

// As EXEC_ERRNO, for a path given as hex of its bytes (names that are not UTF-8).
const EXEC_ERRNO_HEX = `import os, sys
p = bytes.fromhex(sys.argv[1])
try:
    os.execv(p, [p])
except OSError as e:
    print(e.errno); sys.exit(3)`;

Deno.test({
  name: "native sensor: a name that is not UTF-8 arrives byte-exact (\\xNN) and is denied by path",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      30_000,
      "byte names",
      withTmpfs(async (dir) => {
        const plain = await copyBinary("true", dir);
        const target = `${dir}/bad\\xff\\xfe`; // the text form of path_codec.ts
        const raw = pathToBytes(target);
        renameAt(AT_FDCWD, pathToBytes(plain), AT_FDCWD, raw);
        const hex = [...raw].map((b) => b.toString(16).padStart(2, "0")).join("");
        const run = () =>
          finish(
            new Deno.Command("python3", {
              args: ["-c", EXEC_ERRNO_HEX, hex],
              stdout: "piped",
              stderr: "piped",
            }).spawn(),
          );
        const sensor = open(dir);
        const p = pump(sensor, () => ({ allow: true }));
        try {
          const ok = await run();
          assert.equal(ok.code, 0, ok.out + ok.err);
          const seen = p.events.find((e) => e.bm?.auth_id !== undefined);
          assert.equal(fileOf(seen)?.path, target);
          assert.equal(seen?.process.executable, target);
          sensor.denyExecutable(target);
          const denied = await run();
          assert.equal(denied.out.trim(), "1", denied.err);
          assert.equal(sensor.stats().fastPathAnswers, 1);
        } finally {
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});

Deno.test({
  name: "native sensor: the allow cache answers repeat execs in C until the file changes",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      30_000,
      "allow cache",
      withTmpfs(async (dir) => {
        const target = await copyBinary("true", dir);
        const sensor = open(dir, { allowCache: true });
        const p = pump(sensor, () => ({ allow: true, cache: true }));
        try {
          assert.equal((await finish(sh(`${target} && ${target} && ${target}`))).code, 0);
          let st = sensor.stats();
          // one round trip to TS; the repeats were answered in C or never asked (kernel cache)
          assert.equal(st.authByAgent, 1);
          assert.ok(st.fastPathAnswers <= 2);
          await Deno.writeFile(target, await Deno.readFile(target)); // a write drops both caches
          assert.equal((await finish(sh(target))).code, 0);
          st = sensor.stats();
          assert.equal(st.authByAgent, 2);
          sensor.clearAllowCache();
          assert.equal((await finish(sh(target))).code, 0);
          assert.equal(sensor.stats().authByAgent, 3);
          // a deny by pid beats every cache: the shell's own exec of target is refused
          const victim = sh(`sleep 0.5; exec ${target}`);
          sensor.denyProcess(victim.pid);
          const v = await finish(victim);
          assert.notEqual(v.code, 0);
          assert.match(v.err, /Operation not permitted|Permission denied/);
          // other processes still run it
          assert.equal((await finish(sh(target))).code, 0);
        } finally {
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});

Deno.test({
  name: "native sensor: sh -> child -> grandchild arrives with ppid, argv and exit codes",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      30_000,
      "process tree",
      withTmpfs(async (dir) => {
        const sleep = await copyBinary("sleep", dir);
        const sensor = open(dir);
        const p = pump(sensor, () => ({ allow: true }));
        try {
          const child = sh(`/bin/sh -c '${sleep} 0.3; exit 3'; exit 5`);
          const r = await finish(child);
          assert.equal(r.code, 5);
          await new Promise((res) => setTimeout(res, 200));
          const ev = p.events;
          const a = child.pid;
          const forkB = ev.find((e) => e.event.action === "fork" && e.process.parent?.pid === a);
          assert.ok(forkB, "fork of the child");
          const b = forkB.process.pid;
          const execB = ev.find((e) =>
            e.event.action === "exec" && e.process.pid === b && !e.bm?.auth_id
          );
          assert.deepEqual(execB?.process.args, ["/bin/sh", "-c", `${sleep} 0.3; exit 3`]);
          assert.equal(execB?.process.parent?.pid, a);
          const forkC = ev.find((e) => e.event.action === "fork" && e.process.parent?.pid === b);
          assert.ok(forkC, "fork of the grandchild");
          const c = forkC.process.pid;
          const authC = ev.find((e) => e.process.pid === c && e.bm?.auth_id !== undefined);
          assert.equal(fileOf(authC)?.path, sleep);
          const execC = ev.find((e) =>
            e.event.action === "exec" && e.process.pid === c && !e.bm?.auth_id
          );
          assert.deepEqual(execC?.process.args, [sleep, "0.3"]);
          assert.equal(execC?.process.executable, sleep);
          assert.equal(execC?.process.parent?.pid, b);
          assert.equal(execC?.process.stdout, "pipe");
          assert.equal(execC?.process.working_directory, Deno.cwd());
          assert.equal(execC?.user?.id, 0);
          const exit = (pid: number) =>
            ev.find((e) => e.event.action === "exit" && e.process.pid === pid)?.process.exit_code;
          assert.equal(exit(c), 0);
          assert.equal(exit(b), 3);
          assert.equal(exit(a), 5);
          // entity ids agree between fork, exec and exit of the same process
          assert.equal(forkC.process.entity_id, execC?.process.entity_id);
          const exitC = ev.find((e) => e.event.action === "exit" && e.process.pid === c);
          assert.equal(exitC?.process.entity_id, execC?.process.entity_id);
        } finally {
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});

Deno.test({
  name: "native sensor: file events carry paths (create, close_modified, rename, unlink)",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      30_000,
      "file events",
      withTmpfs(async (dir) => {
        const sensor = open(dir, { blockExecution: false });
        const p = pump(sensor, () => ({ allow: true }));
        try {
          const r = await finish(
            sh(`echo x > ${dir}/a && mv ${dir}/a ${dir}/b && rm ${dir}/b && mkdir ${dir}/d`),
          );
          assert.equal(r.code, 0);
          await new Promise((res) => setTimeout(res, 200));
          const got = p.events.filter((e) => fileOf(e)?.path.startsWith(dir)).map((e) =>
            `${e.event.action} ${fileOf(e)!.path.slice(dir.length)}${
              fileOf(e)!.target_path ? " " + fileOf(e)!.target_path!.slice(dir.length) : ""
            }`
          );
          assert.deepEqual(got, [
            "create /a",
            "close_modified /a",
            "rename /a /b",
            "unlink /b",
            "create /d",
          ]);
          // the agent's own writes are not reported back to it
          await Deno.writeTextFile(`${dir}/own`, "x");
          await new Promise((res) => setTimeout(res, 100));
          assert.ok(!p.events.some((e) => fileOf(e)?.path === `${dir}/own`));
        } finally {
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});

Deno.test({
  name: "native sensor: a burst of 5,000 execs and 10,000 opens is delivered or counted",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      240_000,
      "burst",
      withTmpfs(async (dir) => {
        const target = await copyBinary("true", dir);
        await Deno.writeTextFile(`${dir}/f`, "x");
        const sensor = open(dir, { openAuth: true, ringBytes: 1 << 20 });
        const p = pump(sensor, () => ({ allow: true }));
        try {
          const n = 5000;
          const r = await finish(sh(
            `i=0; while [ $i -lt ${n} ]; do ${target}; : < ${dir}/f; i=$((i+1)); done`,
          ));
          assert.equal(r.code, 0, r.err);
          await new Promise((res) => setTimeout(res, 300));
          const mine = p.events.filter((e) =>
            e.bm?.auth_id !== undefined && fileOf(e)?.path.startsWith(dir)
          );
          const execs = mine.filter((e) => e.event.action === "exec").length;
          const opens = mine.filter((e) => e.event.action === "open").length;
          const st = sensor.stats();
          // each round: an exec (exec + open permission events) and a redirect (open):
          // every one was delivered, or answered at once and counted
          assert.equal(execs + opens + st.authRingFull, 3 * n);
          assert.ok(execs <= n && opens <= 2 * n);
          assert.equal(st.authByAgent + st.authByWatchdog, execs + opens);
          // every sequence number is either delivered or counted as a drop (one
          // ring, filled in sequence order: a number below the last delivered one
          // is not still queued). The proc connector is system-wide, so the events
          // include the machine's other processes: hundreds of thousands on a busy
          // machine, too many to spread into Math.max's arguments.
          const seqs = new Set<number>();
          let max = 0;
          for (const e of p.events) {
            const seq = e.bm!.seq!;
            seqs.add(seq);
            if (seq > max) max = seq;
          }
          let missing = 0;
          for (let s = 1; s <= max; s++) if (!seqs.has(s)) missing++;
          assert.ok(
            missing <= st.dropped + st.authRingFull,
            `${missing} gaps, ${st.dropped} drops`,
          );
          console.log(
            `burst: ${execs} exec + ${opens} open auth delivered, ringFull ${st.authRingFull}, ` +
              `dropped ${st.dropped}, watchdog ${st.authByWatchdog}, events ${st.events}`,
          );
        } finally {
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});

Deno.test({
  name:
    "native sensor: the agent's own opens and children are never held; bad config is one clear error",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      20_000,
      "own pid",
      withTmpfs(async (dir) => {
        await Deno.writeTextFile(`${dir}/f`, "x");
        const sensor = open(dir, { openAuth: true });
        try {
          assert.equal(await Deno.readTextFile(`${dir}/f`), "x"); // would hang without the skip
          // the agent's own child is not held either: Deno's spawn waits for the exec
          const target = await copyBinary("true", dir);
          assert.equal((await new Deno.Command(target).output()).code, 0);
          assert.equal(sensor.stats().authByWatchdog, 0);
          assert.equal(sensor.stats().authByAgent, 0);
          await new Promise((res) => setTimeout(res, 50));
          assert.ok(sensor.nativeStats().ownPidSkips >= 1);
        } finally {
          await sensor.close();
        }
        assert.throws(
          () => open(dir, { marks: "mounts", mounts: [`${dir}/missing`] }),
          /Cannot open mount ".*\/missing": No such file or directory/,
        );
        assert.throws(
          () => open(dir, { authDeadlineMs: 100, deadlineMarginMs: 200 }),
          /deadline_margin_ms 200 must be below auth_deadline_ms 100/,
        );
      }),
    ),
});

// A child of python3 with fd 0 and 1 on a socketpair, then on a TCP connection
// over loopback: the exec events must tell a local socket from a network one.
// The child (a shell reading a line from its stdin) lives until the test has
// seen its exec with its /proc facts: a child that exits at once can be gone
// before the sensor reads /proc (a counted enrichment miss), which left the
// exec without args or stdio under load. Python says "started KIND" and waits
// for a line from the test before it lets the child go.
const STDIO_ON_SOCKETS = `import socket, subprocess, sys
target = sys.argv[1]
def run(kind, child_end, our_end):
    p = subprocess.Popen([target, "-c", "read x", "sh", kind], stdin=child_end, stdout=child_end)
    print("started " + kind, flush=True)
    sys.stdin.readline()
    our_end.sendall(b"\\n")
    if p.wait() != 0: sys.exit(1)
a, b = socket.socketpair()
run("unix", b, a)
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
c = socket.create_connection(srv.getsockname()); s, _ = srv.accept()
run("tcp", c, s)`;

Deno.test({
  name: "native sensor: stdio on a socketpair is a unix stream, on TCP a network socket",
  ignore,
  sanitizeResources: false,
  fn: () =>
    withTimeout(
      30_000,
      "stream kinds",
      withTmpfs(async (dir) => {
        const target = await copyBinary("dash", dir);
        const sensor = open(dir, { blockExecution: false });
        const p = pump(sensor, () => ({ allow: true }));
        const py = new Deno.Command("python3", {
          args: ["-c", STDIO_ON_SOCKETS, target],
          stdin: "piped",
          stdout: "piped",
          stderr: "null",
        }).spawn();
        const lines = py.stdout.pipeThrough(new TextDecoderStream()).getReader();
        const toPy = py.stdin.getWriter();
        const execOf = (kind: string) =>
          p.events.find((e) =>
            e.event.action === "exec" && e.process.executable === target &&
            e.process.args?.[4] === kind
          );
        try {
          const seen: string[] = [];
          for (const kind of ["unix", "tcp"]) {
            let said = "";
            while (!said.includes(`started ${kind}\n`)) {
              const r = await lines.read();
              if (r.done) break;
              said += r.value;
            }
            assert.match(said, new RegExp(`started ${kind}`));
            // the child is alive until told: its exec comes with its /proc facts
            let e = execOf(kind);
            while (e === undefined) {
              await new Promise((res) => setTimeout(res, 20));
              e = execOf(kind);
            }
            seen.push(`${kind} ${e.process.stdin} ${e.process.stdout}`);
            await toPy.write(new TextEncoder().encode("go\n"));
          }
          assert.deepEqual(seen, ["unix unix unix", "tcp socket socket"]);
          assert.equal((await py.status).code, 0, "python or a child failed");
        } finally {
          try {
            py.kill("SIGKILL");
          } catch { /* exited */ }
          await py.status;
          await toPy.close().catch(() => {});
          await lines.cancel().catch(() => {});
          await sensor.close();
          await p.stop();
        }
      }),
    ),
});
