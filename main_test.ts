/** The entry point's contract: help, version, per-command help, exit codes 0 / 2. */
import assert from "node:assert/strict";
import { runBm } from "./src/cli/run_bm_test_utils.ts";
import { COMMANDS } from "./src/cli/registry.ts";

Deno.test("bm --help lists every verb and exits 0; no arguments is bad usage (2)", async () => {
  const help = await runBm(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  for (const c of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${c.name} `, "m"));
  const none = await runBm([]);
  assert.equal(none.code, 2);
  assert.match(none.stdout, /^Usage: bm COMMAND/m);
});

Deno.test("each registry entry loads the command of its own name", async () => {
  for (const c of COMMANDS) assert.equal((await c.load()).name, c.name);
  assert.equal(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length);
});

Deno.test("bm version prints the version; --output json is one document", async () => {
  const text = await runBm(["version"]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^bm \d+\.\d+\.\d+ \(deno /);
  const json = await runBm(["version", "--output", "json"]);
  assert.equal(json.code, 0, json.stderr);
  assert.match(JSON.parse(json.stdout).app_version, /^\d+\.\d+\.\d+$/);
});

Deno.test("every verb has its own help (exit 0, starts with Usage)", async () => {
  for (const c of COMMANDS) {
    const r = await runBm([c.name, "--help"]);
    assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
    assert.match(r.stdout, /Usage/, c.name);
    const viaHelp = await runBm(["help", c.name]);
    assert.equal(viaHelp.stdout, r.stdout, `bm help ${c.name}`);
  }
});

Deno.test("an unknown verb or option is one line on stderr and exit 2", async () => {
  const verb = await runBm(["frobnicate"]);
  assert.equal(verb.code, 2);
  assert.equal(verb.stderr.trim().split("\n").length, 1);
  assert.match(verb.stderr, /Unknown command "frobnicate"/);
  const opt = await runBm(["version", "--bogus"]);
  assert.equal(opt.code, 2);
  assert.equal(opt.stderr.trim().split("\n").length, 1);
});
