import { equal, ok, throws } from "node:assert/strict";
import { parseRtpBlocklist } from "./rtp_blocklist.ts";
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
