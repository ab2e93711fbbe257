import { equal } from "node:assert/strict";
import { lowerCase } from "./lower_case.ts";

Deno.test("lowerCase: the answer of toLowerCase, for strings seen before and not", () => {
  const xs = ["/ETC/X", "A", "/etc/x", "\u0130", "\u212a", "ΑΣ", "ΑΣ B", ""];
  for (let round = 0; round < 3; round++) {
    // More strings than slots, and equal strings made anew each round.
    for (let i = 0; i < 20; i++) {
      for (const x of xs) {
        equal(
          lowerCase(`${x}${i}`.slice(0, x.length + 1)),
          `${x}${i}`.slice(0, x.length + 1).toLowerCase(),
        );
      }
    }
  }
});
