import assert from "node:assert/strict";
import { editDistanceWithin, suggestKey } from "./validate.ts";

/** The full Levenshtein table, the reference the banded version must agree with. */
function fullDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(
        Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)),
      );
    }
    prev = row;
  }
  return prev[b.length]!;
}

Deno.test("editDistanceWithin: equals the full edit distance up to max, max + 1 beyond", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const word = () => {
    let s = "";
    for (let n = Math.floor(next() * 9); n > 0; n--) s += "abc"[Math.floor(next() * 3)];
    return s;
  };
  for (let k = 0; k < 5_000; k++) {
    const a = word();
    const b = word();
    const max = Math.floor(next() * 4);
    const full = fullDistance(a, b);
    assert.equal(editDistanceWithin(a, b, max), Math.min(full, max + 1), `${a} ${b} ${max}`);
  }
});

Deno.test("suggestKey: a near miss within two edits is suggested, case alone always", () => {
  const keys = ["antivirusEngine.behaviorMonitoring", "engine.scoreThreshold"];
  assert.equal(suggestKey("engine.scorethreshold", keys), "engine.scoreThreshold");
  assert.equal(suggestKey("engine.scoreThreshol", keys), "engine.scoreThreshold");
  assert.equal(suggestKey("engine.scorThreshol", keys), "engine.scoreThreshold");
  assert.equal(suggestKey("engine.scrThreshol", keys), undefined);
});
