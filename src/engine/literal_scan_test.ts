import { deepEqual } from "node:assert/strict";
import { LiteralScan } from "./literal_scan.ts";

Deno.test("literal scan: finds exactly the literals a string contains, overlapping and non-ASCII ones too", () => {
  const lits = ["he", "she", "his", "hers", "ab", "bab", "caf\u00e9", "\u00e9t\u00e9", "a", "-e "];
  const scan = new LiteralScan(lits.map((text, i) => ({ text, bits: Uint32Array.of(1 << i) })), 1);
  const texts = ["ushers", "ahishers", "babab", "caf\u00e9t\u00e9", "x", "", "python -e x", "HERS"];
  // Pseudo-random strings over a small alphabet: many partial matches.
  let seed = 7;
  const alphabet = "abehirs\u00e9t -";
  for (let n = 0; n < 300; n++) {
    let s = "";
    const len = (seed = (seed * 1103515245 + 12345) >>> 0) % 12;
    for (let i = 0; i < len; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      s += alphabet[seed % alphabet.length];
    }
    texts.push(s);
  }
  for (const t of texts) {
    const acc = new Uint32Array(1);
    scan.scan(t, acc);
    const got = lits.filter((_, i) => (acc[0]! & (1 << i)) !== 0);
    deepEqual(got, lits.filter((l) => t.includes(l)), JSON.stringify(t));
  }
});
