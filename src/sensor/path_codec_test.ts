import assert from "node:assert/strict";
import {
  bytesToPath,
  displayPath,
  osStringToPath,
  pathToBytes,
  pathToOsString,
} from "./path_codec.ts";
import { compileGlob } from "../engine/glob.ts";
import { compileLinear } from "../engine/linear_regex.ts";

const te = new TextEncoder();
const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => typeof p === "string" ? [...te.encode(p)] : p));

Deno.test("path codec: every single byte and every byte pair round-trips", () => {
  const seen = new Set<string>();
  for (let a = 0; a < 256; a++) {
    const one = Uint8Array.of(a);
    const s = bytesToPath(one);
    assert.deepEqual(pathToBytes(s), one, `byte 0x${a.toString(16)}`);
    seen.add(s);
    for (let b = 0; b < 256; b++) {
      const two = Uint8Array.of(a, b);
      assert.deepEqual(
        pathToBytes(bytesToPath(two)),
        two,
        `bytes 0x${a.toString(16)} 0x${b.toString(16)}`,
      );
    }
  }
  assert.deepEqual(seen.size, 256);
});

Deno.test("path codec: bytes that are not UTF-8 become \\xNN, the rest stays text", () => {
  assert.deepEqual(bytesToPath(bytes("/tmp/bad", [0xff, 0xfe], "utf8")), "/tmp/bad\\xff\\xfeutf8");
  assert.deepEqual(bytesToPath(bytes("/tmp/é/日本/😀")), "/tmp/é/日本/😀");
  // Invalid sequences, each byte escaped on its own: overlong "/", a UTF-16
  // surrogate, above U+10FFFF, a truncated sequence, a stray continuation.
  assert.deepEqual(bytesToPath(Uint8Array.of(0xc0, 0xaf)), "\\xc0\\xaf");
  assert.deepEqual(bytesToPath(Uint8Array.of(0xed, 0xa0, 0x80)), "\\xed\\xa0\\x80");
  assert.deepEqual(bytesToPath(Uint8Array.of(0xf4, 0x90, 0x80, 0x80)), "\\xf4\\x90\\x80\\x80");
  assert.deepEqual(bytesToPath(bytes([0xe6, 0x97], "a")), "\\xe6\\x97a");
  assert.deepEqual(bytesToPath(bytes("a", [0x80], "b")), "a\\x80b");
  // A real U+FFFD in a name is a character, not an escape.
  assert.deepEqual(bytesToPath(bytes("x\uFFFD", [0xff])), "x\uFFFD\\xff");
  // A leading byte-order mark is part of the name.
  assert.deepEqual(
    pathToBytes(bytesToPath(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41))),
    Uint8Array.of(0xef, 0xbb, 0xbf, 0x41),
  );
});

Deno.test("path codec: a backslash is escaped, so the text \\xff is not the byte 0xff", () => {
  assert.deepEqual(bytesToPath(bytes("/tmp/a\\b")), "/tmp/a\\\\b");
  const text = bytes("/tmp/\\xff");
  const raw = bytes("/tmp/", [0xff]);
  assert.deepEqual(bytesToPath(text), "/tmp/\\\\xff");
  assert.deepEqual(bytesToPath(raw), "/tmp/\\xff");
  assert.deepEqual(pathToBytes(bytesToPath(text)), text);
  assert.deepEqual(pathToBytes(bytesToPath(raw)), raw);
  assert.deepEqual(
    pathToBytes(bytesToPath(bytes("\\\\", [0xff], "\\"))),
    bytes("\\\\", [0xff], "\\"),
  );
});

Deno.test("path codec: random byte strings round-trip", () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  for (let n = 0; n < 5000; n++) {
    const b = new Uint8Array(rand() % 40);
    // Mostly high bytes and backslashes, where the escapes are.
    for (let i = 0; i < b.length; i++) b[i] = rand() % 3 === 0 ? 0x5c : rand() & 0xff;
    assert.deepEqual(pathToBytes(bytesToPath(b)), b);
  }
});

Deno.test("path codec: hand-written paths with a lone backslash keep it", () => {
  assert.deepEqual(pathToBytes("/tmp/a\\b"), bytes("/tmp/a\\b"));
  assert.deepEqual(pathToBytes("/tmp/\\xZZ"), bytes("/tmp/\\xZZ"));
  assert.deepEqual(pathToBytes("/tmp/\\x4"), bytes("/tmp/\\x4"));
  assert.deepEqual(pathToBytes("/tmp/\\"), bytes("/tmp/\\"));
});

Deno.test("path codec: the OS string is there only for valid UTF-8", () => {
  assert.deepEqual(pathToOsString("/tmp/plain"), "/tmp/plain");
  assert.deepEqual(pathToOsString("/tmp/a\\\\b"), "/tmp/a\\b");
  assert.deepEqual(pathToOsString("/tmp/\\xc3\\xa9"), "/tmp/é");
  assert.deepEqual(pathToOsString("/tmp/bad\\xff\\xfe"), undefined);
  assert.deepEqual(osStringToPath("/tmp/a\\b"), "/tmp/a\\\\b");
  assert.deepEqual(osStringToPath("/tmp/plain"), "/tmp/plain");
});

Deno.test("path codec: globs and regexes match the text form of any bytes", () => {
  const bad = bytesToPath(bytes("/tmp/bad", [0xff, 0xfe]));
  assert.ok(compileGlob("/tmp/*")(bad));
  assert.ok(compileGlob("/tmp/**")(bad));
  assert.ok(compileGlob("/tmp/bad*")(bad));
  assert.ok(!compileGlob("/var/*")(bad));
  assert.ok(compileLinear("^/tmp/[^/]+$")(bad));
  // Every single byte as a name under /tmp is still under /tmp.
  const tmp = compileGlob("/tmp/*");
  for (let b = 1; b < 256; b++) {
    if (b === 0x2f) continue; // "/" is a separator, not a name byte
    assert.ok(tmp(bytesToPath(bytes("/tmp/x", [b]))), `byte 0x${b.toString(16)}`);
  }
  // A backslash in a name is two backslashes to a glob.
  assert.ok(compileGlob("/tmp/a\\\\b")(bytesToPath(bytes("/tmp/a\\b"))));
});

Deno.test("path codec: the display form escapes control characters and still reads back", () => {
  const b = bytes("/tmp/a\nb\r\t\x1b[31m\x7f", [0xc2, 0x9b], "é", [0xff], "\\");
  const text = bytesToPath(b);
  const shown = displayPath(text);
  assert.equal(shown, "/tmp/a\\x0ab\\x0d\\x09\\x1b[31m\\x7f\\xc2\\x9bé\\xff\\\\");
  assert.deepEqual(pathToBytes(shown), b);
  assert.equal(displayPath("/usr/bin/true"), "/usr/bin/true");
});
