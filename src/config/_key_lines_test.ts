import assert from "node:assert/strict";
import { findKeyLine, lineColumnAt } from "./_key_lines.ts";

Deno.test("findKeyLine walks the key path through TOML tables and arrays of tables", () => {
  const toml = [
    "[antivirusEngine]", // 1
    'behaviorMonitoring = "x"', // 2
    "[[antivirusEngine.exclusions]]", // 3
    '"$type" = "excludedPath"', // 4
    'path = "/a"', // 5
    "[[antivirusEngine.exclusions]]", // 6
    '"$type" = "excludedPath"', // 7
    'path = "/b"', // 8
    "[features]", // 9
    'behaviorMonitoring = "y"', // 10
  ].join("\n");
  assert.equal(findKeyLine(toml, "toml", ["antivirusEngine", "behaviorMonitoring"]), 2);
  assert.equal(findKeyLine(toml, "toml", ["antivirusEngine", "exclusions", 1, "path"]), 8);
  assert.equal(findKeyLine(toml, "toml", ["features", "behaviorMonitoring"]), 10);
  assert.equal(findKeyLine(toml, "toml", ["nothing"]), undefined);
});

Deno.test("findKeyLine in JSON and XML plist text", () => {
  const json = JSON.stringify({ a: { list: [{ p: 1 }, { p: 2 }] }, b: { p: 3 } }, null, 2);
  assert.equal(findKeyLine(json, "json", ["a", "list", 1, "p"]), 8);
  assert.equal(findKeyLine(json, "json", ["b", "p"]), 13);
  const xml = "<dict>\n<key>a</key>\n<dict>\n<key>p</key>\n<true/>\n</dict>\n</dict>";
  assert.equal(findKeyLine(xml, "xml", ["a", "p"]), 4);
});

Deno.test("lineColumnAt is 1-based", () => {
  assert.deepEqual(lineColumnAt("ab\ncd", 0), { line: 1, column: 1 });
  assert.deepEqual(lineColumnAt("ab\ncd", 4), { line: 2, column: 2 });
});
