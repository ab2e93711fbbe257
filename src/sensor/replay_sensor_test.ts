import assert from "node:assert/strict";
import { ReplaySensor } from "./replay_sensor.ts";
import { serializeEvent } from "./trace.ts";
import type { BmEvent } from "./event.ts";
import { BmError } from "../errors.ts";

Deno.test("replay sensor: reads a trace in batches, skips and counts bad lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const events: BmEvent[] = Array.from({ length: 5 }, (_, i) => ({
      "@timestamp": 1000 + i,
      event: { action: "fork" },
      process: { pid: 10 + i, parent: { pid: 1 } },
    }));
    const lines = events.map(serializeEvent);
    lines.splice(2, 0, '{"event":{"action":"exec"}}', "not json");
    const file = `${dir}/t.jsonl`;
    await Deno.writeTextFile(file, lines.join("\n") + "\n");
    const s = await ReplaySensor.open(file, { batchSize: 2 });
    assert.equal(s.skipped, 2);
    assert.deepEqual(s.problems.map((p) => p.line), [3, 4]);
    const got: BmEvent[] = [];
    for (let b = await s.next(0); b !== null; b = await s.next(0)) got.push(...b);
    assert.deepEqual(got, events);
    assert.equal(s.stats().events, 5);
    s.respond({ authId: 1, allow: true, cache: false });
    assert.equal(s.responses.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await assert.rejects(() => ReplaySensor.open("/nonexistent/t.jsonl"), BmError);
});
