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
