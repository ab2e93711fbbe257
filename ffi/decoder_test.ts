import assert from "node:assert/strict";
import { decodeRecords } from "./decoder.ts";
import { encodeRecord } from "./record_encoder_test_utils.ts";
import { FLAG, HEADER_SIZE, STR } from "./symbols.ts";
import { InputError } from "../src/errors.ts";
import { ARGS_COUNT_MAX, ARGS_TOTAL_MAX, boundEvent, STRING_MAX } from "../src/engine/bounds.ts";

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

Deno.test("decoder: an auth exec record becomes an exec event with file and auth facts", () => {
  const rec = encodeRecord({
    kind: 1,
    flags: FLAG.auth,
    seq: 9,
    authId: 77,
    time: 1700000000000.5,
    deadline: 1700000005000,
    start: 1699999999990,
    pid: 100,
    ppid: 1,
    uid: 501,
    euid: 0,
    fileUid: 0,
    fileMode: 0o100755,
    fileSize: 1234,
    stdinKind: 2,
    stdoutKind: 3,
    strings: [
      [STR.executable, "/usr/bin/curl"],
      [STR.path, "/usr/bin/curl"],
      [STR.arg, "curl"],
      [STR.arg, "-s"],
      [STR.arg, "ünïcode and a long argument that is more than forty-eight bytes long"],
      [STR.cwd, "/tmp"],
      [99, "unknown tag is skipped"],
    ],
  });
  const { events, skipped } = decodeRecords(rec, rec.length, "linux");
  assert.equal(skipped, 0);
  assert.deepEqual(events, [{
    "@timestamp": 1700000000000.5,
    event: { action: "exec" },
    process: {
      pid: 100,
      executable: "/usr/bin/curl",
      name: "curl",
      args: ["curl", "-s", "ünïcode and a long argument that is more than forty-eight bytes long"],
      working_directory: "/tmp",
      start: 1699999999990,
      entity_id: "100-1699999999990",
      parent: { pid: 1 },
      stdin: "socket",
      stdout: "pipe",
    },
    bm: { seq: 9, source: "linux", auth_id: 77, deadline: 1700000005000 },
    user: { id: 501, effective: { id: 0 } },
    file: { path: "/usr/bin/curl", uid: 0, mode: 0o100755, size: 1234 },
  }]);
});

Deno.test("decoder: every kind decodes; exit code, rename target, macOS signing facts", () => {
  const recs = cat(
    encodeRecord({ kind: 2, pid: 5, ppid: 4 }),
    encodeRecord({ kind: 3, pid: 5, aux: 137 }),
    encodeRecord({
      kind: 7,
      pid: 5,
      strings: [[STR.path, "/a"], [STR.targetPath, "/b"]],
    }),
    encodeRecord({
      kind: 9,
      pid: 6,
      flags: FLAG.platformBinary,
      responsiblePid: 3,
      strings: [[STR.path, "/f"], [STR.xattr, "com.apple.quarantine"], [STR.teamId, "ABC"], [
        STR.cdhash,
        "00ff",
      ], [STR.signingId, "com.x"]],
    }),
    encodeRecord({ kind: 11, pid: 7, strings: [[STR.launchItem, "/L/x.plist"]] }),
    encodeRecord({ kind: 200, pid: 8 }), // a kind from a newer library: skipped
  );
  const { events, skipped } = decodeRecords(recs, recs.length, "macos");
  assert.equal(skipped, 1);
  assert.deepEqual(events.map((e) => e.event.action), [
    "fork",
    "exit",
    "rename",
    "setxattr",
    "launch_item_add",
  ]);
  assert.equal(events[0]!.process.parent?.pid, 4);
  assert.equal(events[1]!.process.exit_code, 137);
  const ren = events[2]!;
  assert.ok("file" in ren && ren.file?.target_path === "/b");
  const x = events[3]!;
  assert.ok("file" in x && x.file?.xattr === "com.apple.quarantine");
  assert.deepEqual(x.process.code_signature, {
    signing_id: "com.x",
    team_id: "ABC",
    cdhash: "00ff",
    platform_binary: true,
  });
  assert.equal(x.process.responsible_pid, 3);
  assert.equal(events[4]!.bm?.launch_item, "/L/x.plist");
});

Deno.test("decoder: malformed buffers give InputError naming the offset", () => {
  const good = encodeRecord({ kind: 6, pid: 1, strings: [[STR.path, "/x"]] });
  const bad = (b: Uint8Array, re: RegExp) =>
    assert.throws(
      () => decodeRecords(b, b.length, "linux"),
      (e: unknown) => e instanceof InputError && re.test(e.message),
    );
  bad(good.slice(0, 40), /at byte 0: truncated header/);
  const wrongSize = good.slice();
  new DataView(wrongSize.buffer).setUint32(0, good.length + 8, true);
  bad(wrongSize, /at byte 0: size/);
  const wrongVersion = good.slice();
  wrongVersion[4] = 9;
  bad(wrongVersion, /version 9/);
  const longString = good.slice();
  new DataView(longString.buffer).setUint16(HEADER_SIZE + 2, 500, true);
  bad(longString, /string 0 length/);
  bad(cat(good, good.slice(0, 16)), /at byte \d+: truncated header/);
  assert.throws(() => decodeRecords(good, good.length + 1, "linux"), InputError);
});

Deno.test("decoder fuzz: random, mutated and truncated buffers never crash or hang", () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const base = cat(
    encodeRecord({
      kind: 1,
      flags: 1,
      pid: 2,
      strings: [[STR.executable, "/bin/sh"], [STR.arg, "sh"]],
    }),
    encodeRecord({ kind: 7, pid: 2, strings: [[STR.path, "/a"], [STR.targetPath, "/b"]] }),
  );
  let ok = 0, rejected = 0;
  const t0 = performance.now();
  for (let i = 0; i < 20000; i++) {
    let b: Uint8Array;
    const mode = i % 3;
    if (mode === 0) {
      b = new Uint8Array(Math.floor(rand() * 400));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
      if (b.length >= 8 && rand() < 0.5) {
        // plausible header so the decoder goes deeper
        new DataView(b.buffer).setUint32(0, b.length & ~7, true);
        b[4] = 1;
        b[5] = 0;
      }
    } else if (mode === 1) {
      b = base.slice();
      for (let k = 0; k < 1 + rand() * 6; k++) b[Math.floor(rand() * b.length)] = rand() * 256;
    } else {
      b = base.slice(0, Math.floor(rand() * base.length));
    }
    try {
      const r = decodeRecords(b, b.length, "linux");
      assert.ok(Array.isArray(r.events));
      ok++;
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      assert.match(e.message, /^Bad sensor record/);
      rejected++;
    }
  }
  assert.ok(ok > 0 && rejected > 0, `${ok} decoded, ${rejected} rejected`);
  assert.ok(performance.now() - t0 < 30_000); // a hang would blow far past this
});

Deno.test("decoder: file names that are not UTF-8 keep their bytes as \\xNN escapes", () => {
  const bad = Uint8Array.from([...new TextEncoder().encode("/tmp/bad"), 0xff, 0xfe, 0x5c, 0x41]);
  const rec = encodeRecord({
    kind: 1,
    pid: 7,
    ppid: -1,
    strings: [[STR.executable, bad], [STR.path, bad], [STR.arg, bad], [STR.cwd, "/tmp/a\\b"]],
  });
  const ev = decodeRecords(rec, rec.length, "linux").events[0]!;
  assert.equal(ev.process.executable, "/tmp/bad\\xff\\xfe\\\\A");
  assert.equal(ev.process.name, "bad\\xff\\xfe\\\\A");
  assert.equal(ev.process.working_directory, "/tmp/a\\\\b");
  assert.equal((ev as { file?: { path: string } }).file?.path, "/tmp/bad\\xff\\xfe\\\\A");
  // Arguments are text for rules, not names: decoded as before.
  assert.equal(ev.process.args?.[0], "/tmp/bad\uFFFD\uFFFD\\A");
});

Deno.test("decoder: names repeated across records decode to the same text as the first time", () => {
  const enc = new TextEncoder();
  const bom = Uint8Array.from([0xef, 0xbb, 0xbf, ...enc.encode("/tmp/bom")]);
  const recs = cat(
    encodeRecord({
      kind: 1,
      pid: 7,
      start: 5000,
      strings: [
        [STR.executable, "/usr/bin/true"],
        [STR.path, "/usr/bin/true"],
        [STR.cwd, "/tmp/a\\b"],
        [STR.path, bom],
      ],
    }),
    encodeRecord({
      kind: 1,
      pid: 7,
      start: 5000,
      strings: [
        [STR.executable, "/usr/bin/tRue"], // same length, one byte apart
        [STR.arg, "/usr/bin/true"],
        [STR.arg, "/tmp/a\\b"], // an argument is not a name: one backslash
        [STR.arg, bom], // nor keeps a leading byte order mark
        [STR.cwd, "/tmp/a\\b"],
      ],
    }),
  );
  const [a, b] = decodeRecords(recs, recs.length, "linux").events;
  assert.equal(a!.process.executable, "/usr/bin/true");
  assert.equal((a as { file?: { path: string } }).file?.path, "\uFEFF/tmp/bom");
  assert.equal(a!.process.working_directory, "/tmp/a\\\\b");
  assert.equal(b!.process.executable, "/usr/bin/tRue");
  assert.deepEqual(b!.process.args, ["/usr/bin/true", "/tmp/a\\b", "/tmp/bom"]);
  assert.equal(b!.process.working_directory, "/tmp/a\\\\b");
});

Deno.test("decoder: the entity id is the pid's and the start's, also when a pid comes back", () => {
  const recs = cat(
    encodeRecord({ kind: 2, pid: 300, start: 1000.4 }),
    encodeRecord({ kind: 3, pid: 300, start: 1000.2 }), // same process: same id
    encodeRecord({ kind: 2, pid: 300, start: 2000 }), // the pid reused
    encodeRecord({ kind: 2, pid: 300 + 4096, start: 2000 }), // another pid, same slot
    encodeRecord({ kind: 2, pid: -1, start: 0.2 }),
  );
  const ids = decodeRecords(recs, recs.length, "linux").events.map((e) => e.process.entity_id);
  assert.deepEqual(ids, ["300-1000", "300-1000", "300-2000", "4396-2000", "-1-0"]);
});

Deno.test("decoder: the engine still bounds a record whose strings may be over its bounds", () => {
  const exec = (strings: [number, string | Uint8Array][]) => {
    const rec = encodeRecord({ kind: 1, pid: 9, strings });
    return decodeRecords(rec, rec.length, "linux").events[0]!;
  };
  const cut = (e: ReturnType<typeof exec>) => boundEvent(e).bm?.truncated === true;
  // within: the same object back
  const ok = exec([[STR.executable, "/bin/x"], [STR.arg, "x".repeat(1024)], [STR.arg, "-v"]]);
  assert.equal(boundEvent(ok), ok);
  // one argument, too many arguments, too many bytes of arguments in all
  assert.ok(cut(exec([[STR.arg, "a".repeat(STRING_MAX + 1)]])));
  assert.ok(cut(exec(Array.from({ length: ARGS_COUNT_MAX + 1 }, () => [STR.arg, "a"]))));
  assert.ok(
    cut(exec(Array.from({ length: 17 }, () => [STR.arg, "a".repeat(ARGS_TOTAL_MAX / 16)]))),
  );
  // a tty name of invalid bytes: four characters each in its text form
  assert.ok(cut(exec([[STR.tty, new Uint8Array(STRING_MAX / 4 + 1).fill(0xff)]])));
  // a long path is within the path bound: not cut, whether or not the decoder vouched for it
  const long = exec([[STR.executable, "/" + "p".repeat(STRING_MAX)]]);
  assert.equal(boundEvent(long), long);
});
