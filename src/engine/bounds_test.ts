import { deepEqual, equal, ok } from "node:assert/strict";
import {
  ARGS_COUNT_MAX,
  ARGS_TOTAL_MAX,
  boundArgs,
  boundEvent,
  boundString,
  PATH_MAX,
  STRING_MAX,
  TRUNCATION_MARK,
} from "./bounds.ts";
import type { BmEvent } from "../sensor/event.ts";
import { bytesToPath } from "../sensor/path_codec.ts";

function exec(args: string[], path = "/bin/true"): BmEvent {
  return {
    "@timestamp": 1,
    event: { action: "exec" },
    process: { pid: 10, executable: path, args },
    file: { path },
  };
}

Deno.test("bounds: an event within bounds is passed through as the same object", () => {
  const e = exec(["true", "x".repeat(STRING_MAX)]);
  equal(boundEvent(e), e);
});

Deno.test("bounds: a long string keeps head and tail around the mark, at the bound", () => {
  const s = "h".repeat(50_000) + "TAIL";
  const b = boundString(s);
  equal(b.length, STRING_MAX);
  ok(b.startsWith("hhhh"));
  ok(b.endsWith("hTAIL"));
  ok(b.includes(TRUNCATION_MARK));
});

Deno.test("bounds: args are cut per argument, in total and in count, and marked", () => {
  const e = boundEvent(exec(["env", "LD_PRELOAD=" + "/".repeat(60_000)]));
  const args = e.process.args!;
  equal(args.length, 2);
  equal(args[1]!.length, STRING_MAX);
  ok(args[1]!.startsWith("LD_PRELOAD=/"));
  equal(e.bm?.truncated, true);

  const many = boundArgs(Array.from({ length: 100 }, () => "a".repeat(STRING_MAX)));
  ok(many.join(" ").length <= ARGS_TOTAL_MAX);
  equal(many.at(-1), TRUNCATION_MARK);

  const count = boundArgs(Array.from({ length: 5000 }, () => ""));
  equal(count.length, ARGS_COUNT_MAX);
  equal(count.at(-1), TRUNCATION_MARK);
});

Deno.test("bounds: paths and parent args are bounded too; the input is not changed", () => {
  const long = "/tmp/" + "d".repeat(20_000);
  const e = exec(["x"], long);
  e.process.parent = { pid: 1, args: ["p".repeat(STRING_MAX + 1)] };
  const b = boundEvent(e);
  equal(b.process.executable!.length, PATH_MAX);
  equal((b as { file?: { path: string } }).file!.path.length, PATH_MAX);
  equal(b.process.parent!.args![0]!.length, STRING_MAX);
  equal(e.process.executable, long);
  deepEqual(e.bm, undefined);
});

Deno.test("bounds: the longest Linux path in the text form of path_codec.ts is never cut", () => {
  // 4,095 bytes, all but the slashes not UTF-8: four characters each as \xNN.
  const raw = new Uint8Array(4095).map((_, i) => (i % 255 === 0 ? 0x2f : 0xff));
  const text = bytesToPath(raw);
  ok(text.length > STRING_MAX);
  const e = exec(["x"], text);
  const b = boundEvent(e);
  equal(b, e, "within bounds: the same event");
  equal(b.process.executable, text);
});
