import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { blocklistSizes, parseRtpBlocklist } from "./rtp_blocklist.ts";
import { InputError } from "../errors.ts";

Deno.test("blocklist: hashes, comments, blank lines; upper case folded", () => {
  const h = "AB".repeat(32);
  const s = parseRtpBlocklist(`# c\n\n${h}\n  ${"cd".repeat(32)}  \n`);
  equal(s.size, 2);
  ok(s.has(h.toLowerCase()));
});

Deno.test("blocklist: a bad line names file and line", () => {
  throws(
    () => parseRtpBlocklist(`# c\nnot-a-hash\n`, "x.txt"),
    (e: unknown) =>
      e instanceof InputError &&
      e.message === `Bad blocklist "x.txt" line 2: not a SHA-256: "not-a-hash"`,
  );
});

Deno.test("blocklist: sizes after the hash are the scanner's prefilter only when every entry has one", () => {
  const a = "ab".repeat(32), b = "cd".repeat(32);
  const sized = parseRtpBlocklist(`# c\n${a} 68\n${b}\t73\n`);
  equal(sized.size, 2);
  ok(sized.has(a) && sized.has(b), "the hashes are the set, sizes aside");
  deepEqual([...blocklistSizes(sized)!].sort(), [68, 73]);
  equal(blocklistSizes(parseRtpBlocklist(`${a} 68\n${b}\n`)), undefined, "one entry without");
  equal(blocklistSizes(parseRtpBlocklist(`# nothing\n`)), undefined);
  equal(blocklistSizes(new Set([a])), undefined, "a plain set says nothing of sizes");
  throws(
    () => parseRtpBlocklist(`${a} 6x8\n`, "x.txt"),
    (e: unknown) =>
      e instanceof InputError &&
      e.message === `Bad blocklist "x.txt" line 1: not a size in bytes: "6x8"`,
  );
  throws(
    () => parseRtpBlocklist(`${a}\n${a} 68 extra\n`, "x.txt"),
    (e: unknown) =>
      e instanceof InputError &&
      e.message ===
        `Bad blocklist "x.txt" line 2: expected a SHA-256 and an optional size: "${a} 68 extra"`,
  );
});
