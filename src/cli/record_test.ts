import assert from "node:assert/strict";
import { parseRecordArgs, recordTrace } from "./record.ts";
import { UsageError } from "../errors.ts";
import { FakeSensor } from "../sensor/fake_sensor_test_utils.ts";
import { parseTrace } from "../sensor/trace.ts";
import { RecordScope } from "./_record_scope.ts";

Deno.test("record: argument parsing", () => {
  assert.deepEqual(parseRecordArgs(["--output", "t.jsonl"]), { output: "t.jsonl", mounts: [] });
  assert.deepEqual(
    parseRecordArgs(["--output", "t", "--duration", "1.5", "--mount", "/a", "--mount", "/b"]),
    { output: "t", durationMs: 1500, mounts: ["/a", "/b"] },
  );
  assert.deepEqual(parseRecordArgs(["--output", "t", "--scope-pid", "42"]), {
    output: "t",
    mounts: [],
    scopePid: 42,
  });
  assert.deepEqual(parseRecordArgs(["-o", "t", "--", "make", "--output", "x"]), {
    output: "t",
    mounts: [],
    command: ["make", "--output", "x"],
  });
  for (
    const bad of [
      [],
      ["--output", "t", "--duration", "0"],
      ["--output", "t", "--duration", "x"],
      ["--output", "t", "--mount", "rel"],
      ["--output", "t", "--nope"],
      ["--output", "t", "extra"],
      ["--output", "t", "--scope-pid", "0"],
      ["--output", "t", "--scope-pid", "12x"],
      ["--output", "t", "--"],
      ["--output", "t", "--scope-pid", "5", "--", "true"],
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

Deno.test("record: a scope keeps only the subtree's events", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = new FakeSensor();
    s.push(
      { "@timestamp": 1, event: { action: "fork" }, process: { pid: 20, parent: { pid: 10 } } },
      { "@timestamp": 2, event: { action: "fork" }, process: { pid: 30, parent: { pid: 1 } } },
      { "@timestamp": 3, event: { action: "create" }, process: { pid: 30 }, file: { path: "/o" } },
      { "@timestamp": 4, event: { action: "create" }, process: { pid: 20 }, file: { path: "/i" } },
    );
    s.end();
    const file = `${dir}/t.jsonl`;
    const out = await Deno.open(file, { write: true, create: true });
    const scope = new RecordScope(10);
    const n = await recordTrace(s, out, new Promise(() => {}), scope);
    out.close();
    assert.equal(n, 2);
    assert.equal(scope.dropped, 2);
    const { events } = parseTrace(await Deno.readTextFile(file), file);
    assert.deepEqual(events.map((e) => e["@timestamp"]), [1, 4]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
