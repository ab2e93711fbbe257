/**
 * The binding over the synthetic sensor of the test build (no OS source,
 * records injected through its hook): what SensorBinding does with the ABI.
 */
import assert from "node:assert/strict";
import { encodeRecord } from "./record_encoder_test_utils.ts";
import { FLAG, STR } from "./symbols.ts";
import { SyntheticBinding } from "./synthetic_test_utils.ts";

const root = Deno.uid() === 0;

Deno.test({
  name: "binding: inject, wait, drain and decode; respond once; close wakes a pending wait",
  ignore: !root || Deno.build.os !== "linux",
  fn: async () => {
    const b = SyntheticBinding.openSynthetic({
      config: "auth_deadline_ms=60000\nown_pid=1\n",
      bufferBytes: 4096,
    });
    try {
      assert.equal(await b.wait(10), 0);
      const rec = encodeRecord({ kind: 6, pid: 42, strings: [[STR.path, "/tmp/x"]] });
      assert.equal(b.inject(rec, 100), 100);
      assert.equal(await b.wait(1000), 1);
      // the 4 KiB buffer takes a few batches
      const events = [];
      for (let batch = b.drain()!; batch.length; batch = b.drain()!) events.push(...batch);
      assert.equal(events.length, 100);
      assert.deepEqual(events.map((e) => e.bm!.seq), Array.from({ length: 100 }, (_, i) => i + 1));
      assert.equal(events[0]!.event.action, "create");
      const auth = encodeRecord({ kind: 1, flags: FLAG.auth, pid: 43 });
      assert.equal(b.inject(auth, 2), 2);
      const held = b.drain()!;
      const ids = held.map((e) => e.bm!.auth_id!);
      assert.equal(ids.length, 2);
      assert.notEqual(ids[0], ids[1]);
      assert.equal(b.respond(ids[0]!, true, false), 0);
      assert.equal(b.respond(ids[0]!, true, false), 1); // second answer is late
      const st = b.stats();
      assert.equal(st.events, 102);
      assert.equal(st.authByAgent, 1);
      assert.equal(st.lateAnswers, 1);
      assert.equal(st.heldNow, 1);
      const pending = b.wait(-1);
      await new Promise((r) => setTimeout(r, 20));
      await b.close();
      assert.equal(await pending, -1);
      assert.equal(b.drain(), null);
      assert.equal(b.respond(ids[1]!, true, false), -1);
    } finally {
      await b.close();
    }
  },
});

Deno.test({
  name: "binding: a bad config is refused with the library's reason",
  ignore: !root || Deno.build.os !== "linux",
  fn: () => {
    assert.throws(
      () => SyntheticBinding.openSynthetic({ config: "ring_bytes=12\n" }),
      /Bad sensor config value "12" for ring_bytes/,
    );
  },
});
