import assert from "node:assert/strict";
import { V8_FLAGS, V8_FLAGS_ARG } from "./v8_flags.ts";
import { selfCommand } from "./self_command.ts";
import { LINEAR_ENGINE_FLAG } from "../engine/linear_regex.ts";

const repo = new URL("../../", import.meta.url).pathname;

Deno.test("every way bm is started passes the same V8 flags", () => {
  const places: [string, string][] = [
    ["bin/bm", Deno.readTextFileSync(`${repo}bin/bm`)],
    ["deno.json compile task", JSON.parse(Deno.readTextFileSync(`${repo}deno.json`)).tasks.compile],
    [
      "packaging/macos/build_release.sh",
      Deno.readTextFileSync(`${repo}packaging/macos/build_release.sh`),
    ],
  ];
  for (const [name, text] of places) {
    const found = [...text.matchAll(/--v8-flags=(\S+)/g)].map((m) => m[1]!.replace(/\\$/, ""));
    assert.ok(found.length > 0, `${name} passes no --v8-flags`);
    for (const f of found) assert.equal(`--v8-flags=${f}`, V8_FLAGS_ARG, name);
  }
  const self = selfCommand();
  if (self.args.length > 0) assert.ok(self.args.includes(V8_FLAGS_ARG), self.args.join(" "));
  assert.ok(V8_FLAGS.includes(LINEAR_ENGINE_FLAG));
});
