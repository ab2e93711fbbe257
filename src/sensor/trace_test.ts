import assert from "node:assert/strict";
import { decodeLine, parseEvent, parseTrace, serializeEvent } from "./trace.ts";
import type { BmEvent } from "./event.ts";
import { InputError } from "../errors.ts";

const exec: BmEvent = {
  "@timestamp": Date.UTC(2026, 10, 27, 12, 0, 0, 123),
  event: { action: "exec" },
  process: {
    pid: 42,
    executable: "/bin/sh",
    args: ["sh", "-c", "id"],
    parent: { pid: 1 },
    stdin: "socket",
  },
  user: { id: 0 },
  bm: { seq: 7, source: "linux" },
};

Deno.test("trace: event round-trips through one line with an ISO timestamp", () => {
  const line = serializeEvent(exec);
  assert.ok(!line.includes("\n"));
  assert.ok(line.startsWith('{"@timestamp":"2026-11-27T12:00:00.123Z"'));
  assert.deepEqual(parseEvent(line), exec);
});

Deno.test("trace: unknown fields are kept, numeric timestamps accepted", () => {
  const e = parseEvent(
    '{"@timestamp":5,"event":{"action":"fork"},"process":{"pid":3},"x":{"y":1}}',
  );
  assert.equal(e["@timestamp"], 5);
  assert.deepEqual((e as unknown as { x: unknown }).x, { y: 1 });
});

Deno.test("trace: bad lines give a clean reason naming the field", () => {
  const r1 = decodeLine("{nope");
  assert.ok("reason" in r1 && r1.reason.startsWith("not JSON"));
  const r2 = decodeLine('{"@timestamp":"yesterday","event":{"action":"exec"},"process":{"pid":1}}');
  assert.ok("reason" in r2 && r2.reason.includes("@timestamp"), JSON.stringify(r2));
  const r3 = decodeLine('{"@timestamp":1,"event":{"action":"teleport"},"process":{"pid":1}}');
  assert.ok("reason" in r3 && r3.reason.startsWith("event.action"), JSON.stringify(r3));
  const r4 = decodeLine('{"@timestamp":1,"event":{"action":"create"},"process":{"pid":1}}');
  assert.ok("reason" in r4 && r4.reason.startsWith("file"), JSON.stringify(r4));
  const r5 = decodeLine('{"@timestamp":1,"event":{"action":"exec"},"process":{"pid":"1"}}');
  assert.ok("reason" in r5 && r5.reason.startsWith("process.pid"), JSON.stringify(r5));
  assert.throws(
    () => parseEvent("[]", "t.jsonl", 9),
    (e: unknown) => e instanceof InputError && /^Bad trace "t\.jsonl" line 9: /.test(e.message),
  );
});

Deno.test("trace: parseTrace collects events and problems with line numbers", () => {
  const text = [serializeEvent(exec), "", "garbage", serializeEvent({ ...exec, bm: { seq: 8 } })]
    .join("\n");
  const { events, problems } = parseTrace(text, "x.jsonl");
  assert.equal(events.length, 2);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.line, 3);
});
