/** `bm record` end to end: a real sensor, a tmpfs the test mounts, a trace file that parses. */
import assert from "node:assert/strict";
import { buildLibrary, ROOT, sh, withTimeout, withTmpfs } from "./_harness.ts";
import { parseTrace } from "../../src/sensor/trace.ts";

const bm = new URL("../../main.ts", import.meta.url).pathname;

Deno.test({
  name: "bm record: live events from the test mount land in a valid trace",
  ignore: !ROOT || Deno.build.os !== "linux",
  fn: () =>
    withTimeout(
      60_000,
      "bm record",
      withTmpfs(async (dir) => {
        buildLibrary();
        const trace = `${dir}/trace.jsonl`;
        const rec = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", bm, "record", "--output", trace, "--duration", "3", "--mount", dir],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        // the trace file appears once the sensor is open; --duration counts from there
        for (let i = 0; i < 300; i++) {
          if (await Deno.stat(trace).then(() => true, () => false)) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await sh(`echo hi > ${dir}/made_by_test && mv ${dir}/made_by_test ${dir}/moved`).output();
        const out = await rec.output();
        const err = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, err);
        assert.match(err, /^Recorded \d+ events to ".*trace.jsonl"/);
        const { events, problems } = parseTrace(await Deno.readTextFile(trace), trace);
        assert.equal(problems.length, 0);
        const mine = events.filter((e) => "file" in e && e.file?.path.startsWith(dir));
        assert.deepEqual(mine.map((e) => e.event.action), ["create", "close_modified", "rename"]);
        // the process that renamed (mv) has its exec in the trace too
        const mvPid = mine[2]!.process.pid;
        assert.ok(events.some((e) => e.event.action === "exec" && e.process.pid === mvPid));
      }),
    ),
});

Deno.test({
  name: "bm record -- COMMAND: the trace holds the command's subtree only and ends when it exits",
  ignore: !ROOT || Deno.build.os !== "linux",
  fn: () =>
    withTimeout(
      60_000,
      "bm record -- COMMAND",
      withTmpfs(async (dir) => {
        buildLibrary();
        const trace = `${dir}/trace.jsonl`;
        // a process outside the recorded subtree writes to the same mount meanwhile
        const outsider = sh(
          `for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo x > ${dir}/outsider_$i; sleep 0.2; done`,
        );
        const rec = await new Deno.Command(Deno.execPath(), {
          args: [
            ...["run", "-A", bm, "record", "--output", trace, "--mount", dir, "--"],
            ...[
              "sh",
              "-c",
              `sleep 0.5; echo hi > ${dir}/inner && sh -c 'mv ${dir}/inner ${dir}/inner2'`,
            ],
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        await outsider.status;
        const err = new TextDecoder().decode(rec.stderr);
        assert.equal(rec.code, 0, err);
        assert.match(err, /outside the scope/);
        const { events, problems } = parseTrace(await Deno.readTextFile(trace), trace);
        assert.equal(problems.length, 0);
        const files = events.flatMap((e) => "file" in e && e.file?.path.startsWith(dir) ? [e] : []);
        assert.deepEqual(
          files.map((e) => `${e.event.action} ${e.file!.path.slice(dir.length)}`),
          ["create /inner", "close_modified /inner", "rename /inner"],
        );
        // the process that renamed (mv) has its exec in the trace; a process that
        // exits before the sensor reads its /proc facts has no name (a counted
        // enrichment miss, seen for mv under load), so the names are checked where known
        const execs = events.filter((e) => e.event.action === "exec");
        const mv = execs.find((e) => e.process.pid === files[2]!.process.pid);
        assert.ok(mv, `no exec for the renaming process in ${JSON.stringify(execs)}`);
        assert.ok(mv.process.name === undefined || mv.process.name === "mv", mv.process.name);
        const shell = (await Deno.realPath("/bin/sh")).split("/").pop()!;
        const names = new Set(execs.flatMap((e) => e.process.name ?? []));
        assert.ok(names.has(shell), `the command's shell: ${[...names]}`);
        assert.ok(
          [...names].every((n) => ["mv", shell, "sleep"].includes(n)),
          `only the subtree's programs: ${[...names]}`,
        );
      }),
    ),
});

Deno.test({
  name: "bm record -- COMMAND: a failing command makes bm record exit 1",
  ignore: !ROOT || Deno.build.os !== "linux",
  fn: () =>
    withTimeout(
      60_000,
      "bm record -- false",
      withTmpfs(async (dir) => {
        buildLibrary();
        const rec = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            bm,
            "record",
            "--output",
            `${dir}/t.jsonl`,
            "--mount",
            dir,
            "--",
            "false",
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const err = new TextDecoder().decode(rec.stderr);
        assert.equal(rec.code, 1, err);
        assert.match(err, /Command "false" exited with 1/);
      }),
    ),
});
