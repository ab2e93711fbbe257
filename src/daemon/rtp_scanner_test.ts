import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { FakeClock } from "../clock_test_utils.ts";
import { DEFAULT_ENGINE_OPTIONS, Engine } from "../engine/engine.ts";
import { EMPTY_RULES } from "../engine/rule_set.ts";
import type { BmEvent } from "../sensor/event.ts";
import { FakeSensor } from "../sensor/fake_sensor_test_utils.ts";
import { FakeThreatStore } from "../store/fake_threat_store_test_utils.ts";
import { Agent } from "./agent.ts";
import { Logger, MemorySink } from "./log.ts";
import { RtpScanner } from "./rtp_scanner.ts";
import { parseRtpBlocklist } from "../engine/rtp_blocklist.ts";
import { AT_FDCWD, renameAt } from "../../ffi/libc_fs.ts";
import { pathToBytes } from "../sensor/path_codec.ts";

const BAD = "harmless test content on a temp blocklist\n";
const BAD_SHA = createHash("sha256").update(BAD).digest("hex");

function closeModified(pid: number, path: string, t = 1000): BmEvent {
  return {
    "@timestamp": t,
    event: { action: "close_modified" },
    process: { pid, entity_id: `${pid}-1`, start: 1, executable: "/bin/writer" },
    file: { path },
  };
}

function exec(pid: number, path: string, viaFile: boolean, t = 2000): BmEvent {
  return viaFile
    ? {
      "@timestamp": t,
      event: { action: "exec" },
      process: { pid, entity_id: `${pid}-1`, start: 1 },
      file: { path },
      bm: { auth_id: pid },
    }
    : {
      "@timestamp": t,
      event: { action: "exec" },
      process: { pid, entity_id: `${pid}-1`, start: 1, executable: path },
    };
}

async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "bm_rtp_" });
  const bad = `${dir}/bad.bin`;
  await Deno.writeTextFile(bad, BAD);
  const good = `${dir}/good.bin`;
  await Deno.writeTextFile(good, "nothing to see\n");
  const out: BmEvent[] = [];
  const scanner = (o: Partial<ConstructorParameters<typeof RtpScanner>[0]> = {}) =>
    new RtpScanner({ sink: (e) => out.push(e), blocklist: new Set([BAD_SHA]), ...o });
  return { dir, bad, good, out, scanner, done: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("rtp scanner: a written file on the blocklist gives one rtp_verdict of the writer", async () => {
  const f = await fixture();
  try {
    const s = f.scanner();
    s.offer(closeModified(7, f.good));
    s.offer(closeModified(8, f.bad, 1234));
    assert.equal(f.out.length, 0, "offer never hashes inline");
    await s.idle();
    assert.equal(f.out.length, 1);
    const ev = f.out[0]!;
    assert.equal(ev.event.action, "rtp_verdict");
    assert.equal(ev["@timestamp"], 1234, "the original event's time");
    assert.equal(ev.process.pid, 8);
    assert.equal(ev.process.entity_id, "8-1");
    assert.equal(ev.process.executable, "/bin/writer");
    assert.equal(ev.bm?.rtp_threat, `sha256:${BAD_SHA}`);
    assert.deepEqual((ev as { file: unknown }).file, { path: f.bad, hash: { sha256: BAD_SHA } });
    assert.deepEqual(s.counters, {
      filesHashed: 2,
      cacheHits: 0,
      matches: 1,
      skipped: 0,
      queueDropped: 0,
      coalesced: 0,
      sizeFiltered: 0,
    });
  } finally {
    await f.done();
  }
});

Deno.test("rtp scanner: a file run again is answered from the cache; one exec reported twice is hashed once", async () => {
  const f = await fixture();
  try {
    const s = f.scanner();
    // Linux: held auth exec (file.path) then notify exec (process.executable) of one exec.
    s.offer(exec(10, f.bad, true));
    s.offer(exec(10, f.bad, false));
    await s.idle();
    assert.equal(f.out.length, 1);
    assert.equal(f.out[0]!.process.executable, f.bad, "the exec'd image");
    for (let pid = 11; pid < 20; pid++) s.offer(exec(pid, f.bad, false));
    await s.idle();
    assert.equal(f.out.length, 10, "every process that ran it is reported");
    assert.equal(s.counters.filesHashed, 1);
    assert.equal(s.counters.cacheHits, 9);
    assert.equal(s.counters.matches, 10);
    // A rewrite (new size/mtime) is hashed again.
    await Deno.writeTextFile(f.bad, "now different content\n");
    s.offer(closeModified(30, f.bad));
    await s.idle();
    assert.equal(s.counters.filesHashed, 2);
    assert.equal(f.out.length, 10);
  } finally {
    await f.done();
  }
});

Deno.test("rtp scanner: a process's next exec replaces an exec whose second report never came", async () => {
  const f = await fixture();
  try {
    const s = f.scanner();
    s.offer(exec(10, f.bad, true)); // its notify exec lost
    s.offer(exec(10, f.good, true));
    s.offer(exec(10, f.good, false)); // the pair of the second exec
    s.offer(exec(10, f.bad, true)); // a new exec of the listed file: scored again
    await s.idle();
    assert.equal(s.counters.matches, 2);
    assert.equal(f.out.length, 2);
  } finally {
    await f.done();
  }
});

Deno.test("rtp scanner: a job offered while the worker is finishing is still hashed", async () => {
  // The worker's loop can end a few microtasks before the worker counts as gone; a batch
  // read in that window (its promise settled in the same turn) offered its jobs to a worker
  // that never came back to them: the e2e EICAR copy was never hashed, 2 runs in 6 under load.
  const f = await fixture();
  try {
    for (let ticks = 0; ticks <= 8; ticks++) {
      f.out.length = 0;
      const s = f.scanner();
      s.offer(closeModified(7, f.good));
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      s.offer(closeModified(8, f.bad));
      await s.idle();
      assert.equal(s.pending, 0, `${ticks} microtasks later: a job left in the queue`);
      assert.equal(f.out.length, 1, `${ticks} microtasks later: the listed file was not scored`);
    }
  } finally {
    await f.done();
  }
});

Deno.test("rtp scanner: a file over one read (256 KiB) is streamed whole; a rewrite of the same size is hashed again", async () => {
  const f = await fixture();
  try {
    const big = new Uint8Array(700 * 1024 + 13).map((_, i) => (i * 7919) % 251);
    const sha = createHash("sha256").update(big).digest("hex");
    const path = `${f.dir}/big.bin`;
    await Deno.writeFile(path, big);
    const s = new RtpScanner({ sink: (e) => f.out.push(e), blocklist: new Set([sha]) });
    s.offer(closeModified(5, path));
    await s.idle();
    assert.equal(f.out.length, 1, "the hash of all 700 KiB matched");
    assert.equal(f.out[0]!.bm?.rtp_threat, `sha256:${sha}`);
    s.offer(exec(6, path, false));
    await s.idle();
    assert.equal(f.out.length, 2);
    assert.deepEqual([s.counters.filesHashed, s.counters.cacheHits], [1, 1]);
    // Same size, new content and mtime: the cache key changes, the file is read again.
    big[0] = big[0]! ^ 1;
    await Deno.writeFile(path, big);
    await Deno.utime(path, new Date(), new Date(Date.now() + 5000));
    s.offer(closeModified(7, path));
    await s.idle();
    assert.equal(s.counters.filesHashed, 2);
    assert.equal(f.out.length, 2, "the new content is not on the blocklist");
  } finally {
    await f.done();
  }
});

Deno.test("rtp scanner: too big, not regular, symlink and vanished files are skipped and counted", async () => {
  const f = await fixture();
  try {
    const skips: string[] = [];
    const s = f.scanner({ maxBytes: 16, onSkip: (_p, why) => skips.push(why) });
    s.offer(closeModified(1, f.bad)); // over 16 bytes
    s.offer(closeModified(2, f.dir)); // a directory
    await Deno.symlink(f.bad, `${f.dir}/link`);
    const small = f.scanner({ onSkip: (_p, why) => skips.push(why) });
    small.offer(closeModified(3, `${f.dir}/link`)); // would match if followed
    small.offer(closeModified(4, `${f.dir}/gone`));
    await s.idle();
    await small.idle();
    assert.equal(f.out.length, 0, "no follow-up from a skipped file");
    assert.equal(s.counters.skipped, 2);
    assert.equal(small.counters.skipped, 2);
    assert.equal(s.counters.filesHashed + small.counters.filesHashed, 0);
    assert.deepEqual(skips.sort(), ["not a regular file", "over 16 bytes", "symlink", "vanished"]);
  } finally {
    await f.done();
  }
});

Deno.test("rtp scanner: what the record says is skipped without a job; one writer's repeated writes wait as one job", async () => {
  const f = await fixture();
  try {
    const skips: string[] = [];
    const s = f.scanner({ maxBytes: 1024, onSkip: (_p, why) => skips.push(why) });
    // The record's mode says directory, its size says too big: no job, though the
    // path names a file that would match (so a job would have been hashed).
    s.offer({ ...closeModified(1, f.bad), file: { path: f.bad, mode: 0o40755 } } as BmEvent);
    s.offer({ ...closeModified(2, f.bad), file: { path: f.bad, size: 4096 } } as BmEvent);
    assert.equal(s.pending, 0);
    assert.deepEqual(skips, ["not a regular file", "over 1024 bytes"]);
    // A regular file's record (mode 0100644, a size under the cap) is queued.
    s.offer(
      { ...closeModified(3, f.bad), file: { path: f.bad, mode: 0o100644, size: 40 } } as BmEvent,
    );
    // The same writer closes it twice more and another writer once before the worker runs.
    s.offer(closeModified(3, f.bad));
    s.offer(closeModified(3, f.bad));
    s.offer(closeModified(4, f.bad));
    assert.equal(s.pending, 2);
    assert.equal(s.counters.coalesced, 2);
    await s.idle();
    assert.deepEqual(f.out.map((e) => e.process.pid).sort(), [3, 4], "each writer scored once");
    // Once its job ran, the writer's next write is a job again.
    s.offer(closeModified(3, f.bad));
    assert.equal(s.pending, 1);
    await s.idle();
    assert.equal(f.out.length, 3);
    assert.equal(s.counters.skipped, 2);
  } finally {
    await f.done();
  }
});

Deno.test("rtp scanner: with a size on every blocklist entry, only files of a listed size are read", async () => {
  const f = await fixture();
  try {
    const bl = parseRtpBlocklist(`${BAD_SHA} ${new TextEncoder().encode(BAD).length}\n`);
    const s = f.scanner({ blocklist: bl });
    // The record's size differs: no job at all, for a write and for an exec (both of its events).
    s.offer({ ...closeModified(1, f.bad), file: { path: f.bad, size: 7 } } as BmEvent);
    s.offer({ ...exec(2, f.bad, true), file: { path: f.bad, size: 7 } } as BmEvent);
    s.offer(exec(2, f.bad, false));
    assert.equal(s.pending, 0);
    assert.equal(s.counters.sizeFiltered, 2);
    // No size in the record: the lstat's size decides; good.bin is not hashed, bad.bin is.
    s.offer(closeModified(3, f.good));
    s.offer(closeModified(4, f.bad));
    await s.idle();
    assert.equal(s.counters.sizeFiltered, 3);
    assert.equal(s.counters.filesHashed, 1, "only the file of the listed size was read");
    assert.deepEqual(f.out.map((e) => e.process.pid), [4]);
    // A list with one unsized entry hashes every file, as before.
    s.configure(true, parseRtpBlocklist(`${BAD_SHA} 5\n${"ab".repeat(32)}\n`));
    s.offer(closeModified(5, f.good));
    await s.idle();
    assert.equal(s.counters.filesHashed, 2);
    assert.equal(s.counters.sizeFiltered, 3);
  } finally {
    await f.done();
  }
});

Deno.test("rtp scanner: a full queue drops and counts; off or empty blocklist takes nothing", async () => {
  const f = await fixture();
  try {
    const s = f.scanner({ queueMax: 2 });
    for (let pid = 1; pid <= 6; pid++) s.offer(closeModified(pid, f.bad));
    // The worker starts after the batch in hand: two wait; four did not fit.
    assert.equal(s.counters.queueDropped, 4);
    assert.equal(s.pending, 2);
    await s.idle();
    assert.equal(s.counters.matches, 2);
    assert.equal(f.out.length, 2);

    s.configure(false, new Set([BAD_SHA]));
    s.offer(closeModified(40, f.bad));
    s.configure(true, new Set());
    s.offer(closeModified(41, f.bad));
    s.configure(true, new Set([BAD_SHA]));
    s.offer({ ...closeModified(42, f.bad), event: { action: "open" } } as BmEvent);
    await s.idle();
    assert.equal(f.out.length, 2);
    assert.equal(s.pending, 0);
  } finally {
    await f.done();
  }
});

Deno.test("rtp scanner: a full queue with a sized blocklist loses only files of a listed size", async () => {
  const f = await fixture();
  try {
    const bl = parseRtpBlocklist(`${BAD_SHA} ${new TextEncoder().encode(BAD).length}\n`);
    const s = f.scanner({ blocklist: bl, queueMax: 2 });
    // Records without a size, as fanotify's notifications are: a burst of writes of
    // other sizes overflows the queue without losing anything that could match.
    for (let pid = 1; pid <= 6; pid++) s.offer(closeModified(pid, f.good));
    assert.equal(s.pending, 2);
    assert.equal(s.counters.queueDropped, 0);
    assert.equal(s.counters.sizeFiltered, 4);
    // A file of the listed size that does not fit is lost, and counted.
    s.offer(closeModified(7, f.bad));
    assert.equal(s.counters.queueDropped, 1);
    await s.idle();
    assert.equal(f.out.length, 0);
  } finally {
    await f.done();
  }
});

Deno.test("rtp scanner through the agent: the follow-up reaches the engine's built-in rtp rule and the store", async () => {
  const f = await fixture();
  try {
    const clock = new FakeClock(5000);
    const sensor = new FakeSensor();
    const store = new FakeThreatStore(clock);
    const engine = new Engine(
      EMPTY_RULES,
      {
        ...DEFAULT_ENGINE_OPTIONS,
        platform: "linux",
        threshold: 50,
        forwardRtp: true,
        rtpBlocklist: new Set([BAD_SHA]),
      },
      clock,
    );
    const ref: { agent?: Agent } = {};
    const scanner = new RtpScanner({
      sink: (e) => ref.agent!.inject(e),
      blocklist: new Set([BAD_SHA]),
    });
    const agent = ref.agent = new Agent({
      sensor,
      engine,
      store,
      respond: (v) => Promise.resolve({ threatId: store.record(v), status: "active", actions: [] }),
      logger: new Logger("debug", [new MemorySink()], clock),
      clock,
      failOpen: true,
      rtp: scanner,
    });
    sensor.push(exec(50, "/bin/sh", false, 900), closeModified(50, f.bad, 1000));
    sensor.end();
    await agent.run({ untilSourceEnds: true });
    await scanner.idle();
    // one verdict, the follow-up's: the original events alone score nothing (rule_ids below)
    assert.equal(engine.stats().verdicts, 1);
    await agent.stop();
    const threats = store.list();
    assert.equal(threats.length, 1);
    assert.equal(threats[0]!.name, "Behavior:Linux/RtpForward.A");
    const t = store.get(threats[0]!.id)!;
    assert.deepEqual(t.rule_ids, ["builtin.rtp_forward"]);
    assert.equal(t.process.pid, 50);
    assert.equal(agent.counters.verdicts, 1);
  } finally {
    await f.done();
  }
});

Deno.test({
  name: "rtp scanner: files named with bytes that are not UTF-8 or with a backslash are hashed",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const f = await fixture();
    try {
      // Text forms (src/sensor/path_codec.ts): bytes 0xff 0xfe, and a real backslash.
      const bytesName = `${f.dir}/bad\\xff\\xfe`;
      const slashName = `${f.dir}/bad\\\\x.bin`;
      renameAt(AT_FDCWD, pathToBytes(f.bad), AT_FDCWD, pathToBytes(bytesName));
      await Deno.writeTextFile(`${f.dir}/bad\\x.bin`, BAD);
      const s = f.scanner();
      s.offer(closeModified(8, bytesName));
      s.offer(exec(9, slashName, true));
      await s.idle();
      assert.deepEqual(f.out.map((e) => (e as { file: { path: string } }).file.path), [
        bytesName,
        slashName,
      ]);
      assert.equal(s.counters.skipped, 0);
    } finally {
      await f.done();
    }
  },
});
