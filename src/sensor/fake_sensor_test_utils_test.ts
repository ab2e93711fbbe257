import assert from "node:assert/strict";
import { FakeSensor } from "./fake_sensor_test_utils.ts";
import type { BmEvent } from "./event.ts";

const ev = (pid: number, auth?: number): BmEvent => ({
  "@timestamp": pid,
  event: { action: "exec" },
  process: { pid },
  ...(auth !== undefined ? { bm: { auth_id: auth } } : {}),
});

Deno.test("fake sensor: pushed events come out in batches; next() waits, times out, ends", async () => {
  const s = new FakeSensor();
  assert.deepEqual(await s.next(5), []);
  const waiting = s.next(5000);
  s.push(ev(1), ev(2, 10));
  assert.deepEqual((await waiting)?.map((e) => e.process.pid), [1, 2]);
  assert.deepEqual(s.pendingAuth, [10]);
  s.push(ev(3));
  s.end();
  assert.equal((await s.next(5))?.length, 1);
  assert.equal(await s.next(5), null);
  assert.equal(s.stats().events, 3);
});

Deno.test("fake sensor: records answers (late ones counted) and table pushes", async () => {
  const s = new FakeSensor();
  s.push(ev(1, 7));
  await s.next(0);
  s.respond({ authId: 7, allow: false, cache: false });
  s.respond({ authId: 7, allow: true, cache: false });
  s.denyProcess(1);
  s.denyExecutable("/x");
  s.clearAllowCache();
  assert.equal(s.responses.length, 2);
  assert.deepEqual(s.stats().authByAgent, 1);
  assert.deepEqual(s.stats().lateAnswers, 1);
  assert.deepEqual(s.deniedPids, [1]);
  assert.deepEqual(s.deniedExecutables, ["/x"]);
  assert.equal(s.allowCacheClears, 1);
  await s.close();
  assert.equal(await s.next(100), null);
});
