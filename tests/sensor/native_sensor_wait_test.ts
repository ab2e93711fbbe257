/** Where NativeSensor.next waits, over the synthetic sensor (no OS source). */
import assert from "node:assert/strict";
import { encodeRecord } from "../../ffi/record_encoder_test_utils.ts";
import { FLAG, STR } from "../../ffi/symbols.ts";
import { SyntheticBinding } from "../../ffi/synthetic_test_utils.ts";
import { FakeClock } from "../../src/clock_test_utils.ts";
import { NativeSensor } from "../../src/sensor/native_sensor.ts";
import { ROOT } from "./_harness.ts";

Deno.test({
  name:
    "native sensor: while auth events flow it waits on the JS thread, and the event loop still gets a turn every 10 ms",
  ignore: !ROOT || Deno.build.os !== "linux",
  fn: async () => {
    const b = SyntheticBinding.openSynthetic({ config: "auth_deadline_ms=60000\nown_pid=1\n" });
    const clock = new FakeClock(1000);
    const s = NativeSensor.over(b, clock);
    // the event loop gets a turn exactly when next() awaits the asynchronous wait (on the
    // blocking pool); the synchronous one keeps this thread. Counting those calls is exact,
    // where a message posted beforehand may or may not be delivered first (it raced under load)
    let turns = 0;
    const asyncWait = b.wait.bind(b);
    b.wait = (ms: number) => {
      turns++;
      return asyncWait(ms);
    };
    const auth = encodeRecord({ kind: 1, flags: FLAG.auth, pid: 43 });
    const answer = (batch: unknown) => {
      for (const e of batch as { bm?: { auth_id?: number } }[]) {
        s.respond({ authId: e.bm!.auth_id!, allow: true, cache: false });
      }
    };
    try {
      // first wait: on the blocking pool, a turn of the event loop
      b.inject(auth, 1);
      let got = await s.next(1000);
      assert.equal(got!.length, 1);
      answer(got);
      assert.equal(turns, 1);
      // within the budget, ready records are handed over on this thread: no turn
      clock.advance(1);
      b.inject(auth, 1);
      got = await s.next(1000);
      assert.equal(got!.length, 1);
      answer(got);
      assert.equal(turns, 1);
      // an empty ring right after an auth batch: a synchronous wait until the budget's end, no turn
      got = await s.next(1000);
      assert.deepEqual(got, []);
      assert.equal(turns, 1);
      // a caller with work in flight (busy) gets a turn at once
      b.inject(auth, 1);
      got = await s.next(1000, { busy: true });
      assert.equal(got!.length, 1);
      answer(got);
      assert.equal(turns, 2);
      // 10 ms since the last turn: a turn, although records are ready
      clock.advance(10);
      b.inject(auth, 1);
      got = await s.next(1000);
      assert.equal(got!.length, 1);
      answer(got);
      assert.equal(turns, 3);
      // notify records only: the auth window closes and an empty ring is waited
      // for on the blocking pool
      clock.advance(11);
      b.inject(encodeRecord({ kind: 6, pid: 44, strings: [[STR.path, "/tmp/x"]] }), 1);
      got = await s.next(1000);
      assert.equal(got!.length, 1);
      assert.equal(turns, 4);
      clock.advance(1);
      got = await s.next(5);
      assert.deepEqual(got, []);
      assert.equal(turns, 5);
      assert.equal(s.stats().authByAgent, 4);
    } finally {
      await s.close();
    }
  },
});
