import { equal } from "node:assert/strict";
import { KeyTable } from "./key_table.ts";

Deno.test("key table: a range of a string finds its lower-cased key, as slice + toLowerCase + Map would", () => {
  const t = new KeyTable<number>();
  for (const [i, k] of ["etc", "curl", "k", "i\u0307x", "caf\u00e9"].entries()) t.set(k, i);
  const s = "/ETC/Curl/K/\u212a/\u0130X/CAF\u00c9/etcx";
  const ranges: [number, number][] = [[1, 4], [5, 9], [10, 11], [12, 13], [14, 16], [17, 21], [
    22,
    26,
  ]];
  for (const [a, b] of ranges) {
    const want = new Map([["etc", 0], ["curl", 1], ["k", 2], ["i\u0307x", 3], ["caf\u00e9", 4]])
      .get(s.slice(a, b).toLowerCase());
    equal(t.get(s, a, b), want, JSON.stringify(s.slice(a, b)));
  }
  equal(t.get("etc", 0, 3), 0);
  equal(t.get("xetc", 1, 4), 0);
  equal(t.get("etc", 0, 2), undefined);
  equal(t.getKey("curl"), 1);
  equal(t.size, 5);
});
