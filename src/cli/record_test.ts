import assert from "node:assert/strict";
import { parseRecordArgs, recordTrace } from "./record.ts";
import { UsageError } from "../errors.ts";
import { FakeSensor } from "../sensor/fake_sensor.ts";
import { parseTrace } from "../sensor/trace.ts";

Deno.test("record: argument parsing", () => {
  assert.deepEqual(parseRecordArgs(["--output", "t.jsonl"]), { output: "t.jsonl", mounts: [] });
  assert.deepEqual(
    parseRecordArgs(["--output", "t", "--duration", "1.5", "--mount", "/a", "--mount", "/b"]),
    { output: "t", durationMs: 1500, mounts: ["/a", "/b"] },
  );
  for (
    const bad of [
      [],
      ["--output", "t", "--duration", "0"],
      ["--output", "t", "--duration", "x"],
      ["--output", "t", "--mount", "rel"],
      ["--output", "t", "--nope"],
      ["--output", "t", "extra"],
    ]
  ) {
    assert.throws(() => parseRecordArgs(bad), UsageError, JSON.stringify(bad));
  }
});

Deno.test("record: writes every event as a trace line and never holds an auth event", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = new FakeSensor();
    s.push(
      { "@timestamp": 1, event: { action: "fork" }, process: { pid: 2, parent: { pid: 1 } } },
      { "@timestamp": 2, event: { action: "exec" }, process: { pid: 2 }, bm: { auth_id: 5 } },
      { "@timestamp": 3, event: { action: "create" }, process: { pid: 2 }, file: { path: "/x" } },
    );
    s.end();
    const file = `${dir}/t.jsonl`;
    const out = await Deno.open(file, { write: true, create: true });
    const n = await recordTrace(s, out, new Promise(() => {}));
    out.close();
    assert.equal(n, 3);
    assert.deepEqual(s.responses, [{ authId: 5, allow: true, cache: false }]);
    const { events, problems } = parseTrace(await Deno.readTextFile(file), file);
    assert.equal(problems.length, 0);
    assert.deepEqual(events.map((e) => e.event.action), ["fork", "exec", "create"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
